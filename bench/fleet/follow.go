package fleet

import (
	"context"
	"io"
	"os"

	"github.com/imepipe/imepipe/fetch"
)

// follower reads a file as a Job completes it: up to Job.Prefix, waiting
// for the prefix to grow, so the package is verified while it downloads.
type follower struct {
	ctx  context.Context
	job  *fetch.Job
	f    *os.File
	off  int64
	size int64
}

func (r *follower) Read(p []byte) (int, error) {
	for {
		if r.off >= r.size {
			return 0, io.EOF
		}
		ch := r.job.PrefixChanged()
		if avail := r.job.Prefix() - r.off; avail > 0 {
			n, err := r.f.ReadAt(p[:min(int64(len(p)), avail)], r.off)
			r.off += int64(n)
			if err == io.EOF && n > 0 {
				err = nil
			}
			return n, err
		}
		select {
		case <-ch:
			if st := r.job.Status(); st.Status == fetch.StateError || st.Status == fetch.StatePaused {
				if r.job.Prefix() <= r.off {
					return 0, io.ErrUnexpectedEOF
				}
			}
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}
