package fetch

import "sync"

// span is a run of pieces [first, end).
type span struct{ first, end int }

// scheduler hands out the missing pieces front to back, so the completed
// prefix grows steadily, in requests of the size each worker asks for —
// but never more than an equal share of what is left, so that the
// connections finish together instead of one straggler ending the job.
type scheduler struct {
	mu        sync.Mutex
	runs      []span
	pieceSize int64
	left      int // pieces not yet handed out
	conns     int
}

func newScheduler(runs []span, pieceSize int64, conns int) *scheduler {
	s := &scheduler{runs: runs, pieceSize: pieceSize, conns: max(1, conns)}
	for _, r := range runs {
		s.left += r.end - r.first
	}
	return s
}

// next takes up to want bytes of pieces (at least one); false when done.
func (s *scheduler) next(want int64) (span, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.runs) == 0 {
		return span{}, false
	}
	np := int(max(1, want/s.pieceSize))
	np = min(np, max(1, (s.left+s.conns-1)/s.conns))
	r := &s.runs[0]
	sp := span{first: r.first, end: min(r.first+np, r.end)}
	r.first = sp.end
	if r.first == r.end {
		s.runs = s.runs[1:]
	}
	s.left -= sp.end - sp.first
	return sp, true
}
