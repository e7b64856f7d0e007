package fleet

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/peer"
)

// origin serves the files of a folder with ranges, its egress shared by
// all connections and capped at rate bytes per second: the internet link
// every agent's HTTP bytes cross.
type origin struct {
	dir  string
	sent atomic.Int64
	lim  *fetch.Pacer
}

func newOrigin(dir string, rate int64) *origin {
	return &origin{dir: dir, lim: fetch.NewPacer(rate, nil, nil)}
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := filepath.Base(r.URL.Path)
	if r.Method != http.MethodGet && r.Method != http.MethodHead || peer.CheckID(name) != nil {
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
	http.ServeContent(&capped{ResponseWriter: w, o: o, ctx: r.Context()}, r, name, fi.ModTime(), f)
}

// capped counts and paces what a response writes.
type capped struct {
	http.ResponseWriter
	o   *origin
	ctx context.Context
}

func (c *capped) Write(b []byte) (int, error) {
	done := 0
	for len(b) > 0 {
		n := min(len(b), 32<<10)
		if err := c.o.lim.Wait(c.ctx, n); err != nil {
			return done, err
		}
		m, err := c.ResponseWriter.Write(b[:n])
		done += m
		c.o.sent.Add(int64(m))
		if err != nil {
			return done, err
		}
		b = b[n:]
	}
	return done, nil
}
