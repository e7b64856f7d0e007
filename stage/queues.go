package stage

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"
)

// workQueues runs the buffered entries of a streamed ZIP on a fixed set of
// goroutines, so that the goroutine reading the stream can go on to the
// next entry; each task goes to the first free goroutine. (The files of
// entries inflated whole are then created by the one creator goroutine,
// so workers do not contend for the file system's locks.)
//
// Memory: the compressed data of queued entries is held to budgetBytes.
type workQueues struct {
	tasks  chan func() error
	budget *semaphore.Weighted
	done   sync.WaitGroup
}

const budgetBytes = 16 << 20 // compressed bytes held by queued and running tasks

// startQueues starts n goroutines in g.
func startQueues(ctx context.Context, g *errgroup.Group, n int) *workQueues {
	q := &workQueues{
		tasks:  make(chan func() error, n),
		budget: semaphore.NewWeighted(budgetBytes),
	}
	for range n {
		q.done.Add(1)
		g.Go(func() error {
			defer q.done.Done()
			return q.work(ctx)
		})
	}
	return q
}

// work runs tasks until the queue closes.
func (q *workQueues) work(ctx context.Context) error {
	for task := range q.tasks {
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

// submit queues task for the first free goroutine. It returns ctx's error
// if ctx ends first (a goroutine failed, or the caller gave up).
func (q *workQueues) submit(ctx context.Context, task func() error) error {
	select {
	case q.tasks <- task:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close lets the goroutines end once the queue is empty.
func (q *workQueues) close() { close(q.tasks) }

// wait waits for the goroutines to end (after close, or on an error).
func (q *workQueues) wait() { q.done.Wait() }
