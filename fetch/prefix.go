package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/imepipe/imepipe/imeapi"
)

// ErrPrefixLost: the job started its file again from zero (the content
// changed at the source) after a PrefixReader had read past the new
// prefix; what it read is stale.
var ErrPrefixLost = errors.New("fetch: the download started again from zero")

// ErrEnded: the run ended before the file was complete.
var ErrEnded = errors.New("fetch: the download ended before the file was complete")

// PrefixReader reads a Job's file from the start while the Job writes it,
// never past Prefix: the bytes it returns are final for this run. Read
// blocks until more of the file is complete and returns io.EOF once the
// run has completed the whole file. It lets verification and decryption
// run while the download does; whatever it reads is still only as
// trustworthy as the checks applied to it (the HMAC, for content).
type PrefixReader struct {
	ctx context.Context
	j   *Job
	f   *os.File
	off int64
}

// NewPrefixReader returns a reader of the file the job writes. It is
// meant to be made before or while the job runs; ctx ends its waits.
func (j *Job) NewPrefixReader(ctx context.Context) *PrefixReader {
	return &PrefixReader{ctx: ctx, j: j}
}

func (r *PrefixReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		changed := r.j.PrefixChanged()
		prefix, size, running, state := r.j.progress()
		switch {
		case prefix < r.off:
			return 0, fmt.Errorf("%w: %s", ErrPrefixLost, r.j.path)
		case prefix > r.off:
			if r.f == nil {
				f, err := os.Open(r.j.path)
				if err != nil {
					return 0, fmt.Errorf("fetch: %w", err)
				}
				r.f = f
			}
			n, err := r.f.ReadAt(p[:min(int64(len(p)), prefix-r.off)], r.off)
			r.off += int64(n)
			if n > 0 {
				return n, nil
			}
			if err == io.EOF {
				err = io.ErrUnexpectedEOF // shorter than the job says it wrote
			}
			return 0, fmt.Errorf("fetch: %s: %w", r.j.path, err)
		case state == imeapi.DOComplete && r.off == size:
			return 0, io.EOF
		case !running && state != imeapi.DOCaching: // a run ended without the whole file
			return 0, fmt.Errorf("%w: %s", ErrEnded, r.j.path)
		}
		select {
		case <-changed:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}

// Close closes the file.
func (r *PrefixReader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// progress is Prefix, the file's size (known once a run has learnt it),
// whether a run is going on, and the state the last one left.
func (j *Job) progress() (prefix, size int64, running bool, state imeapi.DOStatus) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.pc != nil {
		prefix = j.pc.prefix()
	}
	if j.hdr != nil {
		size = j.hdr.Size
	}
	return prefix, size, j.running, j.state
}
