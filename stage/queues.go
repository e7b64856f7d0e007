package stage

import (
	"context"
	"hash/maphash"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// workQueues runs the buffered entries of a streamed ZIP on a fixed set of
// goroutines, so that the goroutine reading the stream can go on to the
// next entry. Small files go by directory, every file of one directory to
// the same goroutine: files created in one directory at once contend for
// its lock in the kernel (ext4 spins on it, burning the CPU the
// decompressors need), while side by side in different directories they
// do not. Bigger entries, where decompressing costs far more than creating
// the file, go to whichever goroutine is free first, so that two of them
// inflate at once.
//
// Memory: the compressed data of queued entries is held to budgetBytes.
type workQueues struct {
	seed   maphash.Seed
	dirs   []chan func() error
	shared chan func() error
	budget *semaphore.Weighted
}

const (
	queueDepth  = 2        // tasks waiting per directory queue
	budgetBytes = 16 << 20 // compressed bytes held by queued and running tasks
)

// startQueues starts n goroutines in g.
func startQueues(ctx context.Context, g *errgroup.Group, n int) *workQueues {
	q := &workQueues{
		seed:   maphash.MakeSeed(),
		dirs:   make([]chan func() error, n),
		shared: make(chan func() error, n),
		budget: semaphore.NewWeighted(budgetBytes),
	}
	for i := range q.dirs {
		own := make(chan func() error, queueDepth)
		q.dirs[i] = own
		g.Go(func() error { return q.work(ctx, own) })
	}
	return q
}

// work runs tasks from own and from the shared queue until both close.
func (q *workQueues) work(ctx context.Context, own chan func() error) error {
	shared := q.shared
	for own != nil || shared != nil {
		var task func() error
		var ok bool
		select {
		case task, ok = <-own:
			if !ok {
				own = nil
				continue
			}
		case task, ok = <-shared:
			if !ok {
				shared = nil
				continue
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := task(); err != nil {
			return err
		}
	}
	return nil
}

// reserve takes n bytes of the budget, waiting for running tasks to give
// theirs back; release returns them.
func (q *workQueues) reserve(ctx context.Context, n int64) error {
	return q.budget.Acquire(ctx, min(n, budgetBytes))
}

func (q *workQueues) release(n int64) { q.budget.Release(min(n, budgetBytes)) }

// submit queues task: on the goroutine of dir when dir is set, else on
// the first free one. It returns ctx's error if ctx ends first (a
// goroutine failed, or the caller gave up).
func (q *workQueues) submit(ctx context.Context, dir string, byDir bool, task func() error) error {
	ch := q.shared
	if byDir {
		ch = q.dirs[maphash.String(q.seed, dir)%uint64(len(q.dirs))]
	}
	select {
	case ch <- task:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close lets the goroutines end once the queues are empty.
func (q *workQueues) close() {
	for _, ch := range q.dirs {
		close(ch)
	}
	close(q.shared)
}
