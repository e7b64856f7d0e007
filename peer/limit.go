package peer

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// limitListener caps open connections: past max, a new connection gets
// a bare 503 and is closed at once, so the server stays responsive under
// a flood of connection attempts instead of queueing them.
type limitListener struct {
	net.Listener
	max     int64
	open    atomic.Int64
	refused atomic.Int64
}

var busyResponse = []byte("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n")

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			l.refused.Add(1)
			_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
			_, _ = c.Write(busyResponse)
			_ = c.Close()
			continue
		}
		return &limitConn{Conn: c, l: l}, nil
	}
}

type limitConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *limitConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}

// pacer paces writers together to at most rate bytes per second, with a
// burst of a tenth of a second. A nil *pacer does not limit.
type pacer struct {
	rate float64
	now  func() time.Time
	mu   sync.Mutex
	next time.Time
}

func newPacer(bytesPerSec int64, now func() time.Time) *pacer {
	if bytesPerSec <= 0 {
		return nil
	}
	return &pacer{rate: float64(bytesPerSec), now: now}
}

// wait blocks until n more bytes may be sent.
func (p *pacer) wait(ctx context.Context, n int) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	now := p.now()
	if floor := now.Add(-time.Second / 10); p.next.Before(floor) {
		p.next = floor
	}
	p.next = p.next.Add(time.Duration(float64(n) / p.rate * float64(time.Second)))
	d := p.next.Sub(now)
	p.mu.Unlock()
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pacedWriter writes through a pacer in slices of at most 64 KiB.
type pacedWriter struct {
	ctx context.Context
	w   interface{ Write([]byte) (int, error) }
	p   *pacer
}

func (pw pacedWriter) Write(b []byte) (int, error) {
	done := 0
	for len(b) > 0 {
		n := min(len(b), 64<<10)
		if err := pw.p.wait(pw.ctx, n); err != nil {
			return done, err
		}
		m, err := pw.w.Write(b[:n])
		done += m
		if err != nil {
			return done, err
		}
		b = b[n:]
	}
	return done, nil
}
