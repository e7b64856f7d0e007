package bench

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imepipe/imepipe/fetch"
)

// Origin serves the files of a folder with HTTP Range, as a blob store or
// CDN does, counting the body bytes it sends and, with a rate, pacing
// them: the internet link of the fleet and end-to-end benchmarks, shared
// by all connections.
type Origin struct {
	dir  string
	sent atomic.Int64
	cpu  atomic.Int64 // nanoseconds of CPU its handlers' threads spent
	lim  *fetch.Pacer // nil: not paced
}

// NewOrigin serves dir, paced to rate bytes per second (0: unpaced).
func NewOrigin(dir string, rate int64) *Origin {
	return &Origin{dir: dir, lim: fetch.NewPacer(rate, nil, nil)}
}

// Sent is the body bytes sent so far.
func (o *Origin) Sent() int64 { return o.sent.Load() }

// CPU is the CPU time the origin's handlers spent so far, each on its
// own locked thread (Linux; 0 elsewhere): the sending side's cost,
// apart from the rest of the process (the service, caches, agents).
func (o *Origin) CPU() time.Duration { return time.Duration(o.cpu.Load()) }

func (o *Origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// The handler keeps one thread for itself, so that the thread's CPU
	// time is the request's: headers, reads and sendfile or writes.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	defer func() { o.cpu.Add(int64(threadCPU() - start)) }()
	name := filepath.Base(r.URL.Path) // no separator: nothing outside dir
	if r.Method != http.MethodGet && r.Method != http.MethodHead || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(o.dir, name))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if o.lim == nil {
		// Unpaced: keep the response's ReadFrom, so that the file goes out
		// with sendfile and the origin costs the machine next to nothing,
		// as a CDN costs the endpoint nothing.
		http.ServeContent(counted{w, o}, r, name, fi.ModTime(), f)
		return
	}
	http.ServeContent(paced{w, o, r.Context()}, r, name, fi.ModTime(), f)
}

// counted counts what a response sends, keeping its ReadFrom.
type counted struct {
	http.ResponseWriter
	o *Origin
}

func (c counted) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.o.sent.Add(int64(n))
	return n, err
}

func (c counted) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := c.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(struct{ io.Writer }{c}, r)
	}
	n, err := rf.ReadFrom(r)
	c.o.sent.Add(n)
	return n, err
}

// paced counts and paces what a response writes.
type paced struct {
	http.ResponseWriter
	o   *Origin
	ctx context.Context
}

func (p paced) Write(b []byte) (int, error) {
	done := 0
	for len(b) > 0 {
		n := min(len(b), 32<<10)
		if err := p.o.lim.Wait(p.ctx, n); err != nil {
			return done, err
		}
		m, err := p.ResponseWriter.Write(b[:n])
		done += m
		p.o.sent.Add(int64(m))
		if err != nil {
			return done, err
		}
		b = b[n:]
	}
	return done, nil
}
