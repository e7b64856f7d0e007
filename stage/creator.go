package stage

import (
	"context"
	"fmt"
	"hash/crc32"
	"runtime"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// creator creates the files of entries that were read and inflated whole,
// all on one goroutine, while workers inflate the next ones. Creating
// files from several threads at once makes the kernel spin on its locks:
// for the Go tree's 16,703 files on this project's 2-CPU ext4 test
// machine, extracting with one worker took 0.40 s of system time and with
// two or four 1.4–1.8 s, and the wall time grew with it. One creator keeps
// the file system's share serial and the inflating parallel. Extract and
// ExtractStream both use it.
//
// On Windows the creator does not close the files itself: CloseHandle
// blocks while Windows Defender (or another scanner) looks at the new
// file, so a pool of closer goroutines takes the finishing (date, close)
// off it — the remedy Mercurial and rustup adopted, reporting several
// times faster writing of many files with the scanner on. Elsewhere files
// are closed inline. (Compiled, not measured here: no Windows machine.)
//
// Memory: the inflated data waiting for the creator is held to
// budgetBytes (the buffers come from the size-class cache of bufs.go).
type creator struct {
	ch      chan func() error
	budget  *semaphore.Weighted
	closers int               // goroutines finishing files; 0: inline
	closes  chan func() error // to them
	failed  atomic.Pointer[error]
}

// asyncClosers is the number of closer goroutines: on Windows two per
// CPU (CloseHandle waits on the scanner, not the CPU), elsewhere none.
// Tests set it to run the closers on Linux.
var asyncClosers = func() int {
	if runtime.GOOS == "windows" {
		return 2 * runtime.GOMAXPROCS(0)
	}
	return 0
}()

// newCreator returns a creator for opt: with Options.Sync every file is
// fsynced before it is closed, which waits on the device, so the closers
// run everywhere then.
func newCreator(opt Options) *creator {
	closers := asyncClosers
	if opt.Sync && closers == 0 {
		closers = 2 * runtime.GOMAXPROCS(0)
	}
	return &creator{ch: make(chan func() error, 64), budget: semaphore.NewWeighted(budgetBytes), closers: closers}
}

// run runs the handed-over writes until close, stopping at the first
// error (the caller's context is then cancelled, which releases producers
// waiting in reserve or hand). With closers it returns after every file
// handed to them is closed, with the first error of any.
func (c *creator) run() error {
	var closing sync.WaitGroup
	if c.closers > 0 {
		c.closes = make(chan func() error, 64)
		for range c.closers {
			closing.Add(1)
			go func() {
				defer closing.Done()
				// Every file is closed, even after an error, so that no
				// handle is left open.
				for finish := range c.closes {
					if err := finish(); err != nil {
						c.failed.CompareAndSwap(nil, &err)
					}
				}
			}()
		}
	}
	err := c.loop()
	if c.closes != nil {
		close(c.closes)
		closing.Wait()
		if p := c.failed.Load(); err == nil && p != nil {
			err = *p
		}
	}
	return err
}

func (c *creator) loop() error {
	for write := range c.ch {
		if p := c.failed.Load(); p != nil {
			return *p
		}
		if err := write(); err != nil {
			return err
		}
	}
	return nil
}

// finish runs finish (date and close a written file) on a closer, or
// here when there are none.
func (c *creator) finish(finish func() error) error {
	if c.closes == nil {
		return finish()
	}
	c.closes <- finish
	return nil
}

// close ends run once the writes handed over so far are done; no hand
// may follow.
func (c *creator) close() { close(c.ch) }

// reserve returns a buffer of n bytes, waiting for room in the budget.
// It goes back with hand or drop.
func (c *creator) reserve(ctx context.Context, n int) (*[]byte, error) {
	if err := c.budget.Acquire(ctx, int64(dataCap(n))); err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	return getData(n), nil
}

// drop gives back a buffer from reserve that is not handed over.
func (c *creator) drop(buf *[]byte) {
	c.budget.Release(int64(dataCap(cap(*buf))))
	putData(buf)
}

// hand queues write(*buf) on the creator's goroutine; buf is dropped
// after it.
func (c *creator) hand(ctx context.Context, buf *[]byte, write func([]byte) error) error {
	task := func() error {
		defer c.drop(buf)
		return write(*buf)
	}
	select {
	case c.ch <- task:
		return nil
	case <-ctx.Done():
		c.drop(buf)
		return fmt.Errorf("stage: %w", ctx.Err())
	}
}

// handOff reads and inflates e (fits) and, once its size and CRC-32 check
// out, hands it to the creator.
func (x *extractor) handOff(ctx context.Context, w *worker, e *fileEntry) error {
	buf, err := x.creator.reserve(ctx, int(e.size)+wholeSlack)
	if err != nil {
		return err
	}
	data, err := w.readWhole(e.f, x.size, *buf)
	if err == nil {
		err = e.check(uint64(len(data)), crc32.ChecksumIEEE(data))
	} else {
		err = e.corrupt("%v", err)
	}
	if err != nil {
		x.creator.drop(buf)
		return err
	}
	*buf = data
	return x.creator.hand(ctx, buf, func(data []byte) error { return x.writeWhole(e, data) })
}

// writeWhole creates, writes and dates e's file, on the creator.
func (x *extractor) writeWhole(e *fileEntry, data []byte) error {
	if err := x.dir(e.parent); err != nil {
		return err
	}
	out, err := x.create(e)
	if err != nil {
		return err
	}
	if _, err := out.Write(data); err != nil {
		out.Close()
		return entryErr(e.f.Name, err)
	}
	if x.opt.Progress != nil {
		x.opt.Progress(int64(len(data)))
	}
	return x.creator.finish(func() error { return x.finish(out, e) })
}
