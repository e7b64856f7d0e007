package fetch

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"time"
)

// RunStats is what the latest Run did by itself, apart from the earlier
// runs a resumed journal counts in Status (whose DownloadDuration and
// byte counts are the whole file's, as DO's are).
type RunStats struct {
	// Bytes is what this run received from every source.
	Bytes int64
	// Duration is this run's wall time.
	Duration time.Duration
	// AlreadyComplete: the file was complete before this run fetched
	// anything (a journal recording every piece that still hashes right,
	// or, without a journal, the right size and Options.SHA256).
	AlreadyComplete bool
}

// runState is the Job's bookkeeping for RunStats.
type runState struct {
	begin, end      time.Time
	before          int64 // bytes received by earlier Runs of this Job
	started         bool  // open has run once this Run
	AlreadyComplete bool
}

// LastRun reports what the latest Run did by itself; zero before any.
func (j *Job) LastRun() RunStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	var n int64
	for k := range numKinds {
		n += j.cnt.from[k].Load()
	}
	end := j.run.end
	if j.running || end.IsZero() {
		end = j.opt.Clock.Now()
	}
	if j.run.begin.IsZero() {
		return RunStats{}
	}
	return RunStats{Bytes: n - j.run.before, Duration: end.Sub(j.run.begin), AlreadyComplete: j.run.AlreadyComplete}
}

// adoptComplete decides whether the file at path, which has no journal,
// is already the content: the right size and the whole-file SHA-256
// want. Then every piece is recorded with its pieceSum (one read of the
// file) and ok is true; otherwise the Job starts from zero as before.
// It does not look at validators: without a journal there is nothing to
// compare them with.
func adoptComplete(f io.ReaderAt, path string, want *journal, sum []byte) (pc *pieces, ok bool, err error) {
	pc = newPieces(want.Size, want.PieceSize)
	st, err := os.Stat(path)
	if err != nil || st.Size() != want.Size || want.Size == 0 {
		return pc, false, nil
	}
	h := sha256.New()
	d := newPieceHash()
	buf := make([]byte, min(want.PieceSize, 1<<20))
	sums := make([]uint64, pc.count())
	for i := range pc.count() {
		off, n := pc.bounds(i)
		d.Reset()
		if _, err := io.CopyBuffer(io.MultiWriter(d, h), io.NewSectionReader(f, off, n), buf); err != nil {
			return newPieces(want.Size, want.PieceSize), false, err
		}
		sums[i] = uint64(d.Sum32())
	}
	if !bytes.Equal(h.Sum(nil), sum) {
		return pc, false, nil
	}
	for i, s := range sums {
		pc.set(i, s)
	}
	return pc, true, nil
}
