package peer

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener caps the connections the piece server holds open, without
// letting connections that do nothing lock the others out:
//
//   - a connection idle between requests (keep-alive) is closed to make
//     room for a new one as soon as the cap is reached, the oldest first;
//   - so is one that has sent no request within grace of its accept;
//   - only connections with a request in progress keep their slot.
//
// When every slot is busy, a new connection is not written to before it
// sends a request: an overflow reader (at most 8 × max of them, each
// holding a goroutine and 4 KiB for overflowWait at most) reads its
// request within overflowWait and answers that request 503 with
// Retry-After, then closes; past that, the connection is closed unanswered.
// The http.Server's ConnState hook must be the listener's track.
type limitListener struct {
	net.Listener
	max          int
	grace        time.Duration // a connection without a request past this may be evicted
	overflowWait time.Duration // how long an overflow connection has to send its request
	now          func() time.Time
	onAccept     func() // test hook: a connection was accepted and counted (nil: none)

	mu       sync.Mutex
	conns    map[*limitConn]struct{}
	overflow chan struct{} // slots of overflow readers

	refused atomic.Int64 // answered 503 or closed unanswered at the cap
	evicted atomic.Int64 // idle or silent connections closed to make room
}

func newLimitListener(ln net.Listener, limit int, grace, overflowWait time.Duration, now func() time.Time) *limitListener {
	return &limitListener{Listener: ln, max: limit, grace: grace, overflowWait: overflowWait, now: now,
		conns: map[*limitConn]struct{}{}, overflow: make(chan struct{}, max(8*limit, 256))}
}

// limitConn is one counted connection and what the server last said of it.
type limitConn struct {
	net.Conn
	l     *limitListener
	once  sync.Once
	state http.ConnState // under l.mu
	since time.Time      // when state began, under l.mu
}

func (c *limitConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// ReadFrom hands a response body to the connection's own ReadFrom (a
// TCP connection's sends a file with sendfile): without it net/http
// copies every piece through a buffer, because the embedded interface
// hides that method.
func (c *limitConn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

var busyResponse = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nbusy\n")

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		now := l.now()
		lc := &limitConn{Conn: c, l: l, state: http.StateNew, since: now}
		l.mu.Lock()
		var victim *limitConn
		if len(l.conns) >= l.max {
			victim = l.victim(now)
			if victim != nil {
				delete(l.conns, victim) // its slot is the new one's now
			}
		}
		full := len(l.conns) >= l.max
		if !full {
			l.conns[lc] = struct{}{}
		}
		l.mu.Unlock()
		if victim != nil {
			l.evicted.Add(1)
			_ = victim.Close()
		}
		if l.onAccept != nil {
			l.onAccept()
		}
		if full {
			l.refuse(c)
			continue
		}
		return lc, nil
	}
}

// victim picks the connection to close for a new one: the oldest idle
// keep-alive connection, else the oldest that has sent no request within
// grace; nil when every one is busy or young. l.mu held.
func (l *limitListener) victim(now time.Time) *limitConn {
	var idle, silent *limitConn
	for c := range l.conns {
		switch c.state {
		case http.StateIdle:
			if idle == nil || c.since.Before(idle.since) {
				idle = c
			}
		case http.StateNew:
			if now.Sub(c.since) >= l.grace && (silent == nil || c.since.Before(silent.since)) {
				silent = c
			}
		}
	}
	if idle != nil {
		return idle
	}
	return silent
}

// refuse answers c's request 503 once it has sent one, or closes c.
func (l *limitListener) refuse(c net.Conn) {
	l.refused.Add(1)
	select {
	case l.overflow <- struct{}{}:
	default:
		_ = c.Close()
		return
	}
	go func() {
		defer func() { <-l.overflow }()
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(l.overflowWait))
		if _, err := http.ReadRequest(bufio.NewReaderSize(c, 4<<10)); err != nil {
			return
		}
		_, _ = c.Write(busyResponse)
	}()
}

// track is the http.Server's ConnState hook: it records what each counted
// connection is doing, for victim.
func (l *limitListener) track(c net.Conn, st http.ConnState) {
	lc, ok := c.(*limitConn)
	if !ok {
		return
	}
	l.mu.Lock()
	lc.state, lc.since = st, l.now()
	l.mu.Unlock()
}
