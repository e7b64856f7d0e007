package peer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall"
	"time"

	"github.com/imepipe/imepipe/fetch"
)

// Source is the fetch.Source of one peer kind (LAN, Group or Internet)
// of a Swarm. It hands on only pieces that match their SHA-256, and says
// fetch.ErrNotHave for a piece it should not or cannot get from a peer of
// its kind, so the Job takes it from the next source (another peer kind,
// the cache host, the origin). Peer failures never reach the Job: a bad
// or stalled peer is banned here and another asked.
type Source struct {
	s    *Swarm
	kind fetch.SourceKind
}

// Kind is LanPeer, GroupPeer or InternetPeer.
func (p *Source) Kind() fetch.SourceKind { return p.kind }

func (p *Source) String() string { return p.kind.String() + " swarm " + p.s.file }

// Stat reports the content's size; peers have no validators.
func (p *Source) Stat(ctx context.Context) (fetch.Meta, error) {
	return fetch.Meta{Size: p.s.cfg.Content.Size, Ranges: true}, nil
}

// errNotHave is returned when no peer of the kind should give a piece.
// It is marked permanent so that the Job's retry loop moves to the next
// source at once instead of backing off on this one (fetch retries
// ErrNotHave like a transient failure otherwise).
var errNotHave = fetch.Permanent(fmt.Errorf("peer: no peer has it: %w", fetch.ErrNotHave))

// Fetch writes the pieces of [off, off+n) to w, each verified. off must
// be a piece boundary (the Job asks by pieces).
func (p *Source) Fetch(ctx context.Context, off, n int64, w io.Writer) (int64, error) {
	ct := p.s.cfg.Content
	if off%ct.PieceSize != 0 || n <= 0 || off+n > ct.Size {
		return 0, fetch.Permanent(fmt.Errorf("peer: range %d+%d is not whole pieces of %d", off, n, ct.Size))
	}
	// A whole verified piece is handed to the Job in its buffer
	// (fetch.PieceTaker), not copied.
	taker, _ := w.(fetch.PieceTaker)
	bp := fetch.PieceBuffer(ct.PieceSize)
	defer func() { fetch.ReleasePieceBuffer(bp) }()
	var done int64
	for done < n {
		i := int((off + done) / ct.PieceSize)
		b, err := p.s.piece(ctx, p.kind, i, *bp)
		if err != nil {
			return done, err
		}
		pieceOff, pieceLen := ct.bounds(i)
		if want := min(pieceLen, off+n-pieceOff); int64(len(b)) > want {
			b = b[:want] // a span never ends inside a piece, but stay exact
		}
		if taker != nil && int64(len(b)) == pieceLen && len(b) > 0 && &b[0] == &(*bp)[0] {
			*bp = b
			err = taker.TakePiece(bp) // the Job's now, whatever the outcome
			bp = fetch.PieceBuffer(ct.PieceSize)
			if err != nil {
				return done, err
			}
			done += int64(len(b))
		} else {
			m, err := w.Write(b)
			done += int64(m)
			if err != nil {
				return done, err
			}
		}
		ct.markHave(i)
	}
	return done, nil
}

// piece gets piece i from a peer of kind k into buf: from a free holder
// when one is known; else, when the Array coordinates, as its plan says
// (planned); else (an Array that does not) from its rendezvous owner,
// waiting up to OwnerWait; errNotHave sends the Job to the next source.
func (s *Swarm) piece(ctx context.Context, k fetch.SourceKind, i int, buf []byte) ([]byte, error) {
	tried := map[*remote]bool{}
	var since time.Time
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.mu.Lock()
		hs := s.holders(k, i, tried)
		var owner *remote
		other, coordinated := false, s.coordinated
		if len(hs) == 0 && !coordinated {
			other = s.heldByOther(k, i)
			owner = s.owner(i)
		}
		s.mu.Unlock()
		switch {
		case len(hs) >= 2 && s.cfg.Content.Missing() <= s.cfg.EndgamePieces:
			b, err := s.race(ctx, hs[:2], i, buf)
			if err == nil {
				return b, nil
			}
			for _, r := range hs[:2] {
				if !s.isBusy(r) {
					tried[r] = true
				}
			}
		case len(hs) > 0:
			b, err := s.request(ctx, hs[0], i, 0, buf)
			if err == nil {
				return b, nil
			}
			if !errors.Is(err, errPeerBusy) {
				tried[hs[0]] = true
			}
		case coordinated:
			b, ok, err := s.planned(ctx, k, i, buf, tried, &since)
			if err != nil || ok {
				return b, err
			}
		case owner == nil && !other && len(tried) == 0 && s.holdBack(ctx):
			continue
		case other || owner == nil || owner.kind != k || tried[owner]:
			return nil, errNotHave
		default:
			s.cfg.Content.setAsking(i, true)
			b, err := s.request(ctx, owner, i, s.cfg.OwnerWait, buf)
			s.cfg.Content.setAsking(i, false)
			if err == nil {
				return b, nil
			}
			tried[owner] = true
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// isBusy reports whether r answered busy and its Retry-After has not passed.
func (s *Swarm) isBusy(r *remote) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg.Clock.Now().Before(r.busyUntil)
}

// race asks two holders for piece i at once and keeps the first good
// answer (the endgame: a slow peer does not hold up the last pieces).
func (s *Swarm) race(ctx context.Context, rs []*remote, i int, buf []byte) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		b   []byte
		bp  *[]byte
		err error
	}
	ch := make(chan result, len(rs))
	for _, r := range rs {
		go func() {
			bp := fetch.PieceBuffer(int64(len(buf)))
			b, err := s.request(ctx, r, i, 0, *bp)
			ch <- result{b, bp, err}
		}()
	}
	var out []byte
	var err error
	for range rs {
		res := <-ch
		switch {
		case res.err == nil && out == nil:
			out = buf[:copy(buf, res.b)]
			cancel()
		case res.err == nil:
			s.discarded.Add(int64(len(res.b))) // both came whole: one is dropped
		case err == nil:
			err = res.err
		}
		fetch.ReleasePieceBuffer(res.bp)
	}
	if out != nil {
		return out, nil
	}
	return nil, err
}

// Failures of one request to a peer.
var (
	errPeerNotHave = errors.New("peer: peer does not have the piece")
	errPeerBusy    = errors.New("peer: peer busy")
	errPeerStall   = errors.New("peer: peer stalled")
)

// busyError is a peer's 503 (or a connection it closed unanswered): not
// a failure; the peer is not asked again before retry (its Retry-After).
type busyError struct{ retry time.Duration }

func (e *busyError) Error() string        { return fmt.Sprintf("peer: peer busy (retry after %v)", e.retry) }
func (e *busyError) Is(target error) bool { return target == errPeerBusy }

// Bounds of a busy peer's Retry-After as the downloader honours it.
const (
	defaultRetryAfter = time.Second
	maxRetryAfter     = 30 * time.Second
)

// retryAfter reads a Retry-After header in seconds (the piece server's
// form); anything else is defaultRetryAfter.
func retryAfter(h string) time.Duration {
	n, err := strconv.Atoi(h)
	if err != nil || n < 0 {
		return defaultRetryAfter
	}
	return min(time.Duration(n)*time.Second, maxRetryAfter)
}

// request asks r for piece i, waiting up to wait for r to get it, and
// reads it into buf. A bad piece bans r for good; a stall or failure for
// BanDuration; "not held" and "busy" only skip r for this piece.
func (s *Swarm) request(ctx context.Context, r *remote, i int, wait time.Duration, buf []byte) ([]byte, error) {
	s.mu.Lock()
	r.active++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		r.active--
		s.mu.Unlock()
	}()
	s.requests.Add(1)
	b, err := s.get(ctx, r, i, wait, buf)
	switch {
	case err == nil:
		s.mu.Lock()
		r.have.Set(i)
		s.mu.Unlock()
		return b, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, fetch.ErrPieceHash):
		s.mu.Lock()
		s.bad[r.id] = true
		s.mu.Unlock()
		s.cfg.Logf("peer: %s: banned for good: %v", r.id, err)
	case errors.Is(err, errPeerNotHave):
		s.mu.Lock()
		r.have.Clear(i)
		s.mu.Unlock()
	case errors.Is(err, errPeerBusy):
		// Busy is not failed: no ban, no reputation; only its Retry-After.
		retry := defaultRetryAfter
		if be := (*busyError)(nil); errors.As(err, &be) {
			retry = be.retry
		}
		s.busy.Add(1)
		s.mu.Lock()
		r.busyUntil = s.cfg.Clock.Now().Add(retry)
		s.mu.Unlock()
	default:
		s.mu.Lock()
		r.bannedUntil = s.cfg.Clock.Now().Add(s.cfg.BanDuration)
		s.mu.Unlock()
		s.cfg.Logf("peer: %s: avoided for %v: %v", r.id, s.cfg.BanDuration, err)
	}
	return nil, err
}

// get makes the HTTP request; a watchdog cancels it when no byte comes
// for StallTimeout (plus wait, before the answer starts).
func (s *Swarm) get(ctx context.Context, r *remote, i int, wait time.Duration, buf []byte) ([]byte, error) {
	ct := s.cfg.Content
	_, n := ct.bounds(i)
	url := "http://" + r.addr + pathPrefix + ct.ID + "/piece/" + strconv.Itoa(i)
	if wait > 0 {
		url += "?wait=" + strconv.FormatInt(wait.Milliseconds(), 10)
	}
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	dog := time.AfterFunc(wait+s.cfg.StallTimeout, func() { cancel(errPeerStall) })
	defer dog.Stop()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	req.Header.Set(HeaderPeerType, typeName(r.kind))
	req.Header.Set(HeaderPeerID, s.cfg.PeerID)
	resp, err := s.cfg.HTTP.Do(req)
	if err != nil {
		if refused(err) && ctx.Err() == nil && context.Cause(rctx) == nil {
			return nil, fmt.Errorf("peer: %s piece %d: %w: %w", r.id, i, &busyError{retry: defaultRetryAfter}, err)
		}
		return nil, fmt.Errorf("peer: %s piece %d: %w", r.id, i, stallCause(rctx, err))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, fmt.Errorf("peer: %s piece %d: %w", r.id, i, errPeerNotHave)
	case http.StatusServiceUnavailable:
		return nil, fmt.Errorf("peer: %s piece %d: %w", r.id, i, &busyError{retry: retryAfter(resp.Header.Get("Retry-After"))})
	default:
		return nil, fmt.Errorf("peer: %s piece %d: HTTP %d", r.id, i, resp.StatusCode)
	}
	if resp.ContentLength != n {
		return nil, fmt.Errorf("peer: %s piece %d: %d bytes, want %d", r.id, i, resp.ContentLength, n)
	}
	b := buf[:n]
	var got int64
	for got < n {
		dog.Reset(s.cfg.StallTimeout)
		m, err := resp.Body.Read(b[got:])
		got += int64(m)
		if err != nil && got < n {
			return nil, fmt.Errorf("peer: %s piece %d: %w", r.id, i, stallCause(rctx, err))
		}
	}
	if sha256.Sum256(b) != ct.Hash(i) {
		return nil, fmt.Errorf("peer: %s piece %d: %w", r.id, i, fetch.ErrPieceHash)
	}
	return b, nil
}

// refused reports whether a request failed because the peer closed or
// reset the connection before answering: what a full server does to a
// connection past its overflow; busy, not broken.
func refused(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// stallCause names a stall as such instead of "context canceled".
func stallCause(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errPeerStall) {
		return errPeerStall
	}
	return err
}
