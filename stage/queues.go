package stage

import (
	"context"
	"hash/maphash"

	"golang.org/x/sync/errgroup"
)

// dirQueues runs the small entries of a streamed ZIP on a fixed set of
// goroutines, every entry of one directory on the same goroutine. Files
// created in one directory at once contend for its lock in the kernel
// (ext4 spins on it, burning the CPU the decompressors need); spread by
// directory, the goroutines work side by side in different directories
// and each one's files of a directory are created in archive order.
type dirQueues struct {
	g    *errgroup.Group
	seed maphash.Seed
	qs   []chan func() error
}

// queueDepth is the number of tasks waiting per goroutine: with tasks of
// at most smallEntry bytes of compressed data, memory stays under
// workers × (queueDepth+1) × smallEntry.
const queueDepth = 2

// startDirQueues starts n goroutines in g.
func startDirQueues(ctx context.Context, g *errgroup.Group, n int) *dirQueues {
	d := &dirQueues{g: g, seed: maphash.MakeSeed(), qs: make([]chan func() error, n)}
	for i := range d.qs {
		q := make(chan func() error, queueDepth)
		d.qs[i] = q
		g.Go(func() error {
			for task := range q {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := task(); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return d
}

// submit queues task on the goroutine of dir. It returns ctx's error if
// ctx ends first (a goroutine failed, or the caller gave up).
func (d *dirQueues) submit(ctx context.Context, dir string, task func() error) error {
	q := d.qs[maphash.String(d.seed, dir)%uint64(len(d.qs))]
	select {
	case q <- task:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close lets the goroutines end once their queues are empty.
func (d *dirQueues) close() {
	for _, q := range d.qs {
		close(q)
	}
}
