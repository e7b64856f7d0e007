package stage

import (
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"sync"
	"sync/atomic"

	"github.com/imepipe/imepipe/internal/align"
)

const (
	pipeMin   = directMin // files this big are decompressed and written by two goroutines
	pipeChunk = 1 << 20   // bytes per hand-off between them, a multiple of align.Size
	pipeDepth = 3         // chunks per big file in flight: 3 MiB per worker at most
)

// pipePool holds aligned chunks, so that a big file's writes can bypass
// the page cache (outFile).
var pipePool = sync.Pool{New: func() any { b := align.Buf(pipeChunk); return &b }}

// copyPiped copies a big file: this goroutine decompresses src while a
// second one computes the CRC-32 and writes, so that one big entry keeps
// two cores busy and the writes (direct, so waiting for the device) do
// not stall the decompressor. More than limit bytes is an error at once.
// Memory: pipeDepth chunks.
func copyPiped(ctx context.Context, out io.Writer, src io.Reader, name string, limit uint64, progress func(int64)) (uint64, uint32, error) {
	free := make(chan *[]byte, pipeDepth)
	full := make(chan []byte, pipeDepth)
	for range pipeDepth {
		free <- pipePool.Get().(*[]byte)
	}
	var (
		crc    uint32
		werr   error
		failed atomic.Bool
		done   = make(chan struct{})
	)
	go func() { // writer: after a failure it only recycles chunks
		defer close(done)
		for b := range full {
			if werr == nil {
				crc = crc32.Update(crc, crc32.IEEETable, b)
				if _, err := out.Write(b); err != nil {
					werr = entryErr(name, err)
					failed.Store(true)
				} else if progress != nil {
					progress(int64(len(b)))
				}
			}
			b = b[:cap(b)]
			free <- &b
		}
	}()
	n, err := func() (uint64, error) {
		defer close(full)
		var n uint64
		for {
			if err := ctx.Err(); err != nil {
				return n, fmt.Errorf("stage: %w", err)
			}
			if failed.Load() {
				return n, nil // the writer's error is returned
			}
			bp := <-free
			m, rerr := fill(src, *bp)
			n += uint64(m)
			switch {
			case n > limit:
				free <- bp
				return n, corruptf(name, "more data than the declared %d bytes", limit)
			case m > 0:
				full <- (*bp)[:m]
			default:
				free <- bp
			}
			if rerr == io.EOF {
				return n, nil
			}
			if rerr != nil {
				return n, corruptf(name, "%v", rerr)
			}
		}
	}()
	<-done
	for range pipeDepth {
		pipePool.Put(<-free)
	}
	if err == nil {
		err = werr
	}
	return n, crc, err
}
