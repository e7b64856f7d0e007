package winpipe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

const bufSize = 64 << 10

var (
	modkernel32       = windows.NewLazySystemDLL("kernel32.dll")
	procWaitNamedPipe = modkernel32.NewProc("WaitNamedPipeW")
)

// Addr is a pipe name as a net.Addr.
type Addr string

func (Addr) Network() string  { return "pipe" }
func (a Addr) String() string { return string(a) }

// handle is one overlapped pipe handle. Every operation is started under
// mu and counted in pending, so Close can cancel all of them (CancelIoEx)
// and close the handle only once none is in flight.
type handle struct {
	h       windows.Handle
	mu      sync.Mutex
	idle    *sync.Cond
	pending int
	closed  bool
}

func newHandle(h windows.Handle) *handle {
	p := &handle{h: h}
	p.idle = sync.NewCond(&p.mu)
	return p
}

// do starts one overlapped operation with start and waits for it. A
// deadline (zero: none) cancels it with os.ErrDeadlineExceeded.
func (p *handle) do(deadline time.Time, start func(ov *windows.Overlapped) error) (uint32, error) {
	if !deadline.IsZero() && !time.Now().Before(deadline) {
		return 0, os.ErrDeadlineExceeded
	}
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return 0, fmt.Errorf("winpipe: event: %w", err)
	}
	defer windows.CloseHandle(ev)
	ov := &windows.Overlapped{HEvent: ev}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return 0, net.ErrClosed
	}
	err = start(ov)
	if err != nil && err != windows.ERROR_IO_PENDING {
		p.mu.Unlock()
		return 0, err
	}
	p.pending++
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.pending--
		if p.pending == 0 {
			p.idle.Broadcast()
		}
		p.mu.Unlock()
	}()
	var timedOut bool
	var tmu sync.Mutex
	if !deadline.IsZero() {
		t := time.AfterFunc(time.Until(deadline), func() {
			tmu.Lock()
			timedOut = true
			tmu.Unlock()
			_ = windows.CancelIoEx(p.h, ov)
		})
		defer t.Stop()
	}
	var n uint32
	err = windows.GetOverlappedResult(p.h, ov, &n, true)
	if err == windows.ERROR_OPERATION_ABORTED {
		tmu.Lock()
		defer tmu.Unlock()
		if timedOut {
			return n, os.ErrDeadlineExceeded
		}
		return n, net.ErrClosed
	}
	return n, err
}

// close cancels what is in flight, waits for it, and closes the handle.
func (p *handle) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	_ = windows.CancelIoEx(p.h, nil)
	for p.pending > 0 {
		p.idle.Wait()
	}
	return windows.CloseHandle(p.h)
}

// Conn is one end of a connected pipe.
type Conn struct {
	p    *handle
	addr Addr

	dmu           sync.Mutex
	rdead, wdeadl time.Time
}

func (c *Conn) deadlines() (r, w time.Time) {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	return c.rdead, c.wdeadl
}

// Read reads from the pipe; a closed other end is io.EOF.
func (c *Conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	rd, _ := c.deadlines()
	n, err := c.p.do(rd, func(ov *windows.Overlapped) error {
		return windows.ReadFile(c.p.h, b, nil, ov)
	})
	switch {
	case err == windows.ERROR_BROKEN_PIPE || err == windows.ERROR_PIPE_NOT_CONNECTED:
		return int(n), io.EOF
	case err == windows.ERROR_MORE_DATA:
		return int(n), nil
	case err != nil:
		return int(n), &net.OpError{Op: "read", Net: "pipe", Addr: c.addr, Err: err}
	}
	return int(n), nil
}

// Write writes all of b to the pipe.
func (c *Conn) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		_, wd := c.deadlines()
		chunk := b[done:]
		n, err := c.p.do(wd, func(ov *windows.Overlapped) error {
			return windows.WriteFile(c.p.h, chunk, nil, ov)
		})
		done += int(n)
		if err != nil {
			return done, &net.OpError{Op: "write", Net: "pipe", Addr: c.addr, Err: err}
		}
	}
	return done, nil
}

// Close closes the pipe; reads and writes in flight return net.ErrClosed.
func (c *Conn) Close() error { return c.p.close() }

func (c *Conn) LocalAddr() net.Addr  { return c.addr }
func (c *Conn) RemoteAddr() net.Addr { return c.addr }

func (c *Conn) SetDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.rdead, c.wdeadl = t, t
	return nil
}

// SetReadDeadline bounds the reads that start after it (a read already
// waiting keeps the deadline it started with).
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.rdead = t
	return nil
}

// SetWriteDeadline bounds the writes that start after it.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	c.wdeadl = t
	return nil
}

// Listener accepts connections on a named pipe. One instance always
// waits for the next client; Accept hands it over and makes the next.
type Listener struct {
	name string
	sa   *windows.SecurityAttributes

	mu   sync.Mutex
	next *handle
}

// Listen creates the pipe name (`\\.\pipe\…`) with the security
// descriptor sddl (for example "D:P(A;;GA;;;SY)(A;;GA;;;BA)"). It fails if
// another process already serves that name, and rejects remote clients.
func Listen(name, sddl string) (*Listener, error) {
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return nil, fmt.Errorf("winpipe: security descriptor %q: %w", sddl, err)
	}
	l := &Listener{name: name, sa: &windows.SecurityAttributes{
		Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd,
	}}
	h, err := l.instance(true)
	if err != nil {
		return nil, err
	}
	l.next = newHandle(h)
	return l, nil
}

func (l *Listener) instance(first bool) (windows.Handle, error) {
	n, err := windows.UTF16PtrFromString(l.name)
	if err != nil {
		return windows.InvalidHandle, fmt.Errorf("winpipe: name %q: %w", l.name, err)
	}
	flags := uint32(windows.PIPE_ACCESS_DUPLEX | windows.FILE_FLAG_OVERLAPPED)
	if first {
		flags |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
	}
	mode := uint32(windows.PIPE_TYPE_BYTE | windows.PIPE_READMODE_BYTE | windows.PIPE_WAIT | windows.PIPE_REJECT_REMOTE_CLIENTS)
	h, err := windows.CreateNamedPipe(n, flags, mode, windows.PIPE_UNLIMITED_INSTANCES, bufSize, bufSize, 0, l.sa)
	if err != nil {
		return windows.InvalidHandle, fmt.Errorf("winpipe: listen %s: %w", l.name, err)
	}
	return h, nil
}

// Accept waits for a client and returns its connection.
func (l *Listener) Accept() (net.Conn, error) {
	l.mu.Lock()
	p := l.next
	l.mu.Unlock()
	if p == nil {
		return nil, net.ErrClosed
	}
	_, err := p.do(time.Time{}, func(ov *windows.Overlapped) error {
		return windows.ConnectNamedPipe(p.h, ov)
	})
	if err != nil && err != windows.ERROR_PIPE_CONNECTED && err != windows.ERROR_NO_DATA {
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		return nil, &net.OpError{Op: "accept", Net: "pipe", Addr: Addr(l.name), Err: err}
	}
	h, err := l.instance(false)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.next == nil { // closed while we connected
		if err == nil {
			windows.CloseHandle(h)
		}
		p.close()
		return nil, net.ErrClosed
	}
	if err != nil {
		l.next = nil
		p.close()
		return nil, err
	}
	l.next = newHandle(h)
	return &Conn{p: p, addr: Addr(l.name)}, nil
}

// Close stops listening; an Accept in flight returns net.ErrClosed.
func (l *Listener) Close() error {
	l.mu.Lock()
	p := l.next
	l.next = nil
	l.mu.Unlock()
	if p == nil {
		return nil
	}
	return p.close()
}

// Addr is the pipe's name.
func (l *Listener) Addr() net.Addr { return Addr(l.name) }

// Dial connects to the pipe name, waiting while every instance is busy
// until ctx ends. A pipe nobody serves is os.ErrNotExist.
func Dial(ctx context.Context, name string) (*Conn, error) {
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, fmt.Errorf("winpipe: name %q: %w", name, err)
	}
	for {
		h, err := windows.CreateFile(n, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.OPEN_EXISTING,
			windows.FILE_FLAG_OVERLAPPED|windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
		if err == nil {
			return &Conn{p: newHandle(h), addr: Addr(name)}, nil
		}
		if err != windows.ERROR_PIPE_BUSY {
			if err == windows.ERROR_FILE_NOT_FOUND {
				err = fmt.Errorf("%w: %w", os.ErrNotExist, err)
			}
			return nil, &net.OpError{Op: "dial", Net: "pipe", Addr: Addr(name), Err: err}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Every instance is taken: wait (at most 50 ms a round, so ctx is
		// honoured) for one to be free.
		procWaitNamedPipe.Call(uintptr(unsafe.Pointer(n)), 50)
	}
}
