package peer

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// Coordinated back-to-source, the peer's half (the Array's is in package
// service): a worker that needs a piece no known peer holds lists it in
// the next Array request (Want, sent soon: kickGap); the answer says
// whether this peer takes it from the origin (Origin) or which device
// does (Fetching), and the worker waits for it there (?wait=) for the
// Policy's delay before it goes to the origin itself.

// plan records the Array's assignments from resp; s.mu held.
func (s *Swarm) plan(resp imeapi.ArrayResponse, allowed map[fetch.SourceKind]bool, n int) {
	s.coordinated = resp.Coordinated
	clear(s.origin)
	clear(s.fetching)
	for _, i := range resp.Origin {
		if i >= 0 && i < n {
			s.origin[i] = true
		}
	}
	seen := map[string]bool{}
	for _, f := range resp.Fetching {
		k, ok := kindOf(f.Type)
		if f.Piece < 0 || f.Piece >= n || f.PeerID == s.cfg.PeerID || f.Addr == "" || !ok || !allowed[k] || s.bad[f.PeerID] {
			continue
		}
		s.known[f.PeerID] = true
		r := s.peers[f.PeerID]
		if r == nil || r.addr != f.Addr || r.kind != k {
			r = s.assignees[f.PeerID]
			if r == nil || r.addr != f.Addr || r.kind != k {
				r = &remote{id: f.PeerID, addr: f.Addr, kind: k, have: NewBitmap(n)}
				s.assignees[f.PeerID] = r
			}
		}
		seen[f.PeerID] = true
		s.fetching[f.Piece] = r
	}
	for id, r := range s.assignees {
		if !seen[id] && r.active == 0 {
			delete(s.assignees, id)
		}
	}
}

// wanted lists the pieces workers wait on with no plan and, after the
// lowest of them, up to ahead more: the next pieces this peer lacks that
// no known peer holds and nobody is assigned. So one Array answer plans
// the pieces the workers come to next, not only those they wait on: a
// peer alone on its LAN was given two pieces per Array request, at least
// kickGap apart (20 MiB/s whatever its link). have is what this peer
// holds (Content.Bitmap, as the request reports it). Lowest first.
func (s *Swarm) wanted(have Bitmap, ahead int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int, 0, len(s.want)+ahead)
	for i := range s.want {
		out = append(out, i)
	}
	if len(out) == 0 {
		return out
	}
	sort.Ints(out)
	now := s.cfg.Clock.Now()
	for i := out[0] + 1; i < s.cfg.Content.Pieces() && ahead > 0; i++ {
		if s.want[i] > 0 || s.origin[i] || s.fetching[i] != nil || have.Has(i) || s.heldByUsable(i, now) {
			continue
		}
		out = append(out, i)
		ahead--
	}
	sort.Ints(out)
	return out
}

// heldByUsable reports whether a usable known peer holds piece i; s.mu held.
func (s *Swarm) heldByUsable(i int, now time.Time) bool {
	for _, r := range s.peers {
		if r.have.Has(i) && s.usable(r, now) {
			return true
		}
	}
	return false
}

// setWant notes (on) or drops a worker's wait for piece i; s.mu held.
func (s *Swarm) setWant(i int, on bool) {
	if on {
		s.want[i]++
		return
	}
	if s.want[i]--; s.want[i] <= 0 {
		delete(s.want, i)
	}
}

// kickGap is the least time between two Array requests a waiting worker
// asks for: an eighth of RefreshInterval, at most 100 ms.
func (s *Swarm) kickGap() time.Duration { return min(s.cfg.RefreshInterval/8, 100*time.Millisecond) }

// askSoon asks Run for an Array request now (coalesced).
func (s *Swarm) askSoon() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// wait returns after d, when ch is closed, or when ctx is done.
func (s *Swarm) wait(ctx context.Context, d time.Duration, ch <-chan struct{}) {
	select {
	case <-ch:
	case <-s.cfg.Clock.After(d):
	case <-ctx.Done():
	}
}

// slow reports whether a background download is below DOMinBackgroundQos
// over the last QosWindow (the window slides every two windows).
func (s *Swarm) slow(now time.Time) bool {
	p := s.cfg.Policy
	if p.Priority != fetch.Background || p.MinBackgroundQos <= 0 {
		return false
	}
	ct := s.cfg.Content
	have := ct.Pieces() - ct.Missing()
	s.mu.Lock()
	defer s.mu.Unlock()
	el := now.Sub(s.qosStart)
	if el < p.QosWindow {
		return false
	}
	rate := float64(have-s.qosHave) * float64(ct.PieceSize) / el.Seconds()
	if el >= 2*p.QosWindow {
		s.qosStart, s.qosHave = now, have
	}
	return rate < float64(p.MinBackgroundQos)
}

// busyHolders is the earliest time a holder of piece i of kind k that is
// busy (its Retry-After) or at MaxPerPeer may be asked again; zero when
// no such holder exists. s.mu held.
func (s *Swarm) busyHolders(k fetch.SourceKind, i int, skip map[*remote]bool, now time.Time) time.Time {
	var at time.Time
	for _, r := range s.peers {
		if r.kind != k || !r.have.Has(i) || skip[r] || !s.usable(r, now) {
			continue
		}
		t := r.busyUntil
		if r.active >= s.cfg.MaxPerPeer && !t.After(now) {
			t = now.Add(holdPoll)
		}
		if at.IsZero() || t.Before(at) {
			at = t
		}
	}
	return at
}

// planned gets piece i, which no free holder of kind k has, under
// the Array's plan: errNotHave (take it from the origin) when it is this
// peer's, when no peer delivered it within the Policy's delay, or when a
// background download is below its QoS floor; else it waits for the
// holders to be free (a busy peer is not a failed one), for the assigned
// device, or for the Array to plan it. since is when the wait began.
func (s *Swarm) planned(ctx context.Context, k fetch.SourceKind, i int, buf []byte, tried map[*remote]bool, since *time.Time) ([]byte, bool, error) {
	now := s.cfg.Clock.Now()
	if since.IsZero() {
		*since = now
	}
	waited := now.Sub(*since)
	delay := s.cfg.Policy.delay(s.cfg.OwnerWait)
	s.mu.Lock()
	busyAt := s.busyHolders(k, i, tried, now)
	other := s.heldByOther(k, i)
	mine, assignee := s.origin[i], s.fetching[i]
	ch := s.refreshed
	s.mu.Unlock()
	switch {
	case !busyAt.IsZero():
		// The piece is on the LAN and its holders are busy: wait for the
		// first to be free; only a long overload sends it to the origin.
		if waited >= 2*delay {
			s.logOrigin(i, "its holders stayed busy for %v", waited)
			return nil, false, errNotHave
		}
		s.wait(ctx, max(busyAt.Sub(now), time.Millisecond), ch)
		return nil, false, nil
	case other, mine:
		return nil, false, errNotHave
	case waited >= delay:
		s.logOrigin(i, "no peer had it within %v", delay)
		return nil, false, errNotHave
	case waited > 0 && s.slow(now):
		s.logOrigin(i, "below DOMinBackgroundQos after %v", waited)
		return nil, false, errNotHave
	case assignee != nil && assignee.kind == k && !tried[assignee] && s.usable(assignee, now) && !now.Before(assignee.busyUntil):
		s.cfg.Content.setAsking(i, true)
		b, err := s.request(ctx, assignee, i, delay-waited, buf)
		s.cfg.Content.setAsking(i, false)
		if err == nil {
			return b, true, nil
		}
		if !errors.Is(err, errPeerBusy) {
			tried[assignee] = true
		}
		return nil, false, nil
	case assignee != nil && assignee.kind != k:
		return nil, false, errNotHave // another Source's kind
	}
	s.mu.Lock()
	s.setWant(i, true)
	s.mu.Unlock()
	s.askSoon()
	s.wait(ctx, min(delay-waited, s.cfg.RefreshInterval), ch)
	s.mu.Lock()
	s.setWant(i, false)
	s.mu.Unlock()
	return nil, false, nil
}

// logOrigin logs why piece i goes to the origin, once per piece: each
// peer kind's source (LAN, Group, Internet) comes to the same verdict
// for it, and one line says it.
func (s *Swarm) logOrigin(i int, why string, d time.Duration) {
	s.mu.Lock()
	told := s.toldOrigin[i]
	if s.toldOrigin == nil {
		s.toldOrigin = map[int]bool{}
	}
	s.toldOrigin[i] = true
	s.mu.Unlock()
	if !told {
		s.cfg.Logf("peer: piece %d: "+why+": from the origin", i, d)
	}
}
