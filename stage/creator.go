package stage

import (
	"context"
	"fmt"
	"hash/crc32"

	"golang.org/x/sync/semaphore"
)

// creator creates the files of entries that were read and inflated whole,
// all on one goroutine, while the workers inflate the next ones. Creating
// files from several threads at once makes the kernel spin on its locks:
// for the Go tree's 16,703 files on this project's 2-CPU ext4 test
// machine, extracting with one worker took 0.40 s of system time and with
// two or four 1.4–1.8 s, and the wall time grew with it. One creator keeps
// the file system's share serial and the inflating parallel.
//
// Memory: the inflated data waiting for the creator is held to
// budgetBytes (the buffers come from the size-class cache of bufs.go).
type creator struct {
	x      *extractor
	ch     chan ready
	budget *semaphore.Weighted
}

// ready is an entry's checked data, waiting to be written.
type ready struct {
	e    *fileEntry
	data *[]byte
	cost int64
}

func newCreator(x *extractor) *creator {
	return &creator{x: x, ch: make(chan ready, 64), budget: semaphore.NewWeighted(budgetBytes)}
}

// run writes what the workers hand over until the channel closes.
func (c *creator) run() error {
	for r := range c.ch {
		err := c.write(r.e, *r.data)
		putData(r.data)
		c.budget.Release(r.cost)
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *creator) write(e *fileEntry, data []byte) error {
	x := c.x
	if err := x.dir(e.parent); err != nil {
		return err
	}
	out, err := x.create(e)
	if err != nil {
		return err
	}
	if _, err := out.Write(data); err != nil {
		out.Close()
		return fmt.Errorf("stage: entry %q: %w", e.f.Name, err)
	}
	if x.opt.Progress != nil {
		x.opt.Progress(int64(len(data)))
	}
	return x.finish(out, e)
}

// handOff reads and inflates e (fits) and, once its size and CRC-32 check
// out, hands it to the creator.
func (x *extractor) handOff(ctx context.Context, w *worker, e *fileEntry) error {
	n := int(e.size) + wholeSlack
	cost := int64(dataCap(n))
	if err := x.creator.budget.Acquire(ctx, cost); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	buf := getData(n)
	data, err := w.readWhole(e.f, x.size, *buf)
	if err == nil {
		err = e.check(uint64(len(data)), crc32.ChecksumIEEE(data))
	} else {
		err = e.corrupt("%v", err)
	}
	if err != nil {
		putData(buf)
		x.creator.budget.Release(cost)
		return err
	}
	*buf = data
	select {
	case x.creator.ch <- ready{e: e, data: buf, cost: cost}:
		return nil
	case <-ctx.Done():
		putData(buf)
		x.creator.budget.Release(cost)
		return fmt.Errorf("stage: %w", ctx.Err())
	}
}
