package winpipe

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// underWine reports whether the tests run under Wine (its ntdll exports
// wine_get_version; Windows' does not).
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

const testSDDL = "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

func listen(t *testing.T) *Listener {
	t.Helper()
	l, err := Listen(Name("imepipe-test", t.Name()+t.TempDir()), testSDDL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestRoundTrip: two clients in turn each send a line and read the
// server's answer; the server sees EOF after a client closes.
func TestRoundTrip(t *testing.T) {
	l := listen(t)
	done := make(chan error, 1)
	go func() {
		for range 2 {
			c, err := l.Accept()
			if err != nil {
				done <- err
				return
			}
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil {
				done <- err
				return
			}
			if _, err := io.WriteString(c, "re:"+line); err != nil {
				done <- err
				return
			}
			rest, err := io.ReadAll(c)
			c.Close()
			if err != nil || len(rest) != 0 {
				done <- errors.New("server: no clean EOF")
				return
			}
		}
		done <- nil
	}()
	for _, msg := range []string{"one", strings.Repeat("x", 3*bufSize)} {
		c, err := Dial(context.Background(), l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, msg+"\n"); err != nil {
			t.Fatal(err)
		}
		got, err := bufio.NewReader(c).ReadString('\n')
		if err != nil || got != "re:"+msg+"\n" {
			t.Fatalf("answer %d bytes, %v; want %d bytes", len(got), err, len(msg)+4)
		}
		c.Close()
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestSecondListenFails: a name another listener serves cannot be taken
// over (FILE_FLAG_FIRST_PIPE_INSTANCE); after Close it can.
func TestSecondListenFails(t *testing.T) {
	if underWine() {
		t.Skip("Wine 8 ignores FILE_FLAG_FIRST_PIPE_INSTANCE; needs real Windows")
	}
	l := listen(t)
	if l2, err := Listen(l.Addr().String(), testSDDL); err == nil {
		l2.Close()
		t.Fatal("second Listen on a served name succeeded")
	}
	l.Close()
	l3, err := Listen(l.Addr().String(), testSDDL)
	if err != nil {
		t.Fatalf("Listen after Close: %v", err)
	}
	l3.Close()
}

// TestDialNobody: a name nobody serves is os.ErrNotExist.
func TestDialNobody(t *testing.T) {
	_, err := Dial(context.Background(), Name("imepipe-test", t.TempDir()))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Dial: %v, want os.ErrNotExist", err)
	}
}

// TestDeadlineAndClose: a read past its deadline fails with
// os.ErrDeadlineExceeded, a read in flight ends when the conn is closed,
// and Accept in flight ends when the listener is closed.
func TestDeadlineAndClose(t *testing.T) {
	l := listen(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	c, err := Dial(context.Background(), l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := <-accepted
	if srv == nil {
		t.Fatal("no connection accepted")
	}
	// A deadline already past fails at once; one in the future is tested
	// with a read nobody answers, ended by the deadline.
	srv.SetReadDeadline(time.Now().Add(-time.Second))
	if _, err := srv.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past deadline: %v", err)
	}
	srv.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := srv.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read until deadline: %v", err)
	}
	srv.SetReadDeadline(time.Time{})
	readErr := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 1))
		readErr <- err
	}()
	srv.Close() // the client's read sees the server go
	if err := <-readErr; err != io.EOF {
		t.Fatalf("client read after server close: %v, want EOF", err)
	}
	acceptErr := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		acceptErr <- err
	}()
	// Accept is blocked or about to be; Close ends it either way.
	l.Close()
	if err := <-acceptErr; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

// TestSecurityDescriptor: the pipe carries the DACL asked for: protected,
// SYSTEM and Administrators only.
func TestSecurityDescriptor(t *testing.T) {
	l := listen(t)
	l.mu.Lock()
	h := l.next.h
	l.mu.Unlock()
	sd, err := windows.GetSecurityInfo(h, windows.SE_KERNEL_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		t.Fatal(err)
	}
	ctl, _, err := sd.Control()
	if err != nil {
		t.Fatal(err)
	}
	if ctl&windows.SE_DACL_PROTECTED == 0 {
		t.Errorf("DACL not protected: %s", sd)
	}
	if got := sd.String(); !strings.Contains(got, ";;;SY)") || !strings.Contains(got, ";;;BA)") || strings.Count(got, "(A;") != 2 {
		t.Errorf("pipe security descriptor %s, want SYSTEM and Administrators only", got)
	}
}
