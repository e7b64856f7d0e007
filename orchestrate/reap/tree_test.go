package reap

import (
	"errors"
	"slices"
	"testing"
	"time"
)

// step is one reading of a job's counts.
type step struct{ active, total int }

// scriptTree replays counts, one step per wake, and models processes for
// killTree: live pids, seal, and a respawning process.
type scriptTree struct {
	steps   []step
	at      int
	wakes   int
	err     error // from counts
	live    []uint32
	sealed  bool
	sealErr error
	pidsErr error
	spawn   bool   // while unsealed, a listed process starts a new one
	next    uint32 // next pid to spawn
	lists   int
	killed  map[uint32]uint32 // pid → exit status
}

func (s *scriptTree) counts() (int, int, error) {
	if s.err != nil {
		return 0, 0, s.err
	}
	st := s.steps[min(s.at, len(s.steps)-1)]
	return st.active, st.total, nil
}

func (s *scriptTree) wake(time.Duration) { s.wakes++; s.at++ }

func (s *scriptTree) pids() ([]uint32, error) {
	s.lists++
	if s.pidsErr != nil {
		return nil, s.pidsErr
	}
	ids := slices.Clone(s.live)
	if s.spawn && !s.sealed {
		s.live = append(s.live, s.next)
		s.next++
	}
	return ids, nil
}

func (s *scriptTree) terminate(pid, status uint32) error {
	if s.killed == nil {
		s.killed = map[uint32]uint32{}
	}
	s.killed[pid] = status
	s.live = slices.DeleteFunc(s.live, func(p uint32) bool { return p == pid })
	return nil
}

func (s *scriptTree) seal() error {
	if s.sealErr != nil {
		return s.sealErr
	}
	s.sealed = true
	return nil
}

func TestWaitTree(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name   string
		steps  []step
		err    error
		wakes  int
		reaped int
	}{
		{"installer alone", []step{{2, 2}, {1, 2}}, nil, 1, 0},
		{"already done", []step{{1, 2}}, nil, 0, 0},
		// The first process exits, a chained installer runs on (the cleaner bug).
		{"chained installer outlives the first", []step{{3, 3}, {2, 3}, {2, 3}, {2, 4}, {1, 4}}, nil, 4, 2},
		{"count never below one", []step{{0, 1}}, nil, 0, 0},
		{"query fails", []step{{2, 2}}, boom, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &scriptTree{steps: tc.steps, err: tc.err}
			reaped, err := waitTree(tr, time.Millisecond)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if reaped != tc.reaped || tr.wakes != tc.wakes {
				t.Fatalf("reaped %d after %d wakes, want %d after %d", reaped, tr.wakes, tc.reaped, tc.wakes)
			}
			if tc.err == nil && tc.steps[min(tr.at, len(tc.steps)-1)].active > 1 {
				t.Fatal("returned while other processes were alive")
			}
		})
	}
}

func TestKillTree(t *testing.T) {
	const self = 100
	for _, tc := range []struct {
		name         string
		tree         *scriptTree
		wantLive     []uint32
		maxLists     int
		wantSealedOK bool
	}{
		{"kills all but the reaper", &scriptTree{live: []uint32{self, 7, 8, 9}}, []uint32{self}, 2, true},
		{"nothing to kill", &scriptTree{live: []uint32{self}}, []uint32{self}, 1, true},
		{"sealed: a respawner cannot outrun it", &scriptTree{live: []uint32{self, 7}, spawn: true, next: 200}, []uint32{self}, 2, true},
		{"seal fails: passes are bounded", &scriptTree{live: []uint32{self, 7}, spawn: true, next: 200, sealErr: errors.New("denied")}, nil, killPasses, false},
		{"list fails", &scriptTree{live: []uint32{self, 7}, pidsErr: errors.New("gone")}, []uint32{self, 7}, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.tree
			killTree(tr, self)
			if _, ok := tr.killed[self]; ok {
				t.Fatal("killTree killed the reaper")
			}
			if tr.lists > tc.maxLists {
				t.Fatalf("%d passes, want at most %d", tr.lists, tc.maxLists)
			}
			if tc.wantLive != nil && !slices.Equal(tr.live, tc.wantLive) {
				t.Fatalf("live %v, want %v", tr.live, tc.wantLive)
			}
			if tr.sealed != tc.wantSealedOK {
				t.Fatalf("sealed %v", tr.sealed)
			}
			for pid, st := range tr.killed {
				if exitCode(st) != -1 {
					t.Fatalf("pid %d killed with status %#x, reads %d, want -1", pid, st, exitCode(st))
				}
			}
		})
	}
}
