package fetch

import (
	"context"
	"sync"
)

// tapWindow is how many completed pieces past its reader's position a
// tap holds at most: a connection about to receive a piece beyond that
// waits for the reader (back-pressure), so what the reader has not taken
// yet stays bounded in memory (tapWindow pieces plus a piece being
// received per connection). 16 MiB of 1 MiB pieces is 30-40 ms of the
// verify-decrypt-extract pipeline on 2 cores: enough to cover a download
// goroutine that waits a scheduler slice (10 ms) behind the pipeline's.
const tapWindow = 16

// tap hands the pieces a Job completes to its PrefixReader in memory, so
// that verification and decryption take the bytes as they arrive instead
// of reading Content/Incoming back. The file is written all the same
// (resume, the DO cache and peers need it); a piece the tap does not
// hold — completed before the reader came (a resumed download), or
// begun before the tap existed and beyond its window — is read from the
// file as before.
//
// While the tap is open, a connection waits (admit) before receiving a
// piece more than tapWindow pieces past the reader, so a download never
// runs further ahead of its verification than that and every piece goes
// through memory; the reader's piece is always admitted, so the wait
// cannot close in on itself. Closing the tap (the reader is done, or
// gave up) lets every connection go on at once.
type tap struct {
	mu     sync.Mutex
	next   int             // the piece the reader is in: the first it has not finished
	held   map[int]*[]byte // completed pieces in [next, next+tapWindow), owned by the tap
	moved  chan struct{}   // closed when next moves or the tap closes
	closed bool
	// onWait, when set (tests), is called each time a connection starts
	// waiting for the reader.
	onWait func(piece int)
}

func newTap() *tap {
	return &tap{held: map[int]*[]byte{}, moved: make(chan struct{})}
}

// admit blocks while piece i is more than tapWindow pieces past the
// reader and the tap is open; the error is ctx's.
func (t *tap) admit(ctx context.Context, i int) error {
	for {
		t.mu.Lock()
		if t.closed || i < t.next+tapWindow {
			t.mu.Unlock()
			return nil
		}
		moved, onWait := t.moved, t.onWait
		t.mu.Unlock()
		if onWait != nil {
			onWait(i)
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// offer hands the completed piece i in buf to the reader; true when the
// tap keeps it (buf is then the tap's). A piece the reader is past, one
// already held, or one beyond the window is not kept.
func (t *tap) offer(i int, buf *[]byte) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || i < t.next || i >= t.next+tapWindow || t.held[i] != nil {
		return false
	}
	t.held[i] = buf
	return true
}

// pieceOf is the held piece i, nil when the tap (or a nil tap) does
// not hold it.
func (t *tap) pieceOf(i int) []byte {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if b := t.held[i]; b != nil {
		return *b
	}
	return nil
}

// lendable hands over the held piece i, taken out of the tap, when the
// rest of it from offset off is at most max bytes; nil when the tap (or
// a nil tap) does not hold it or the rest is longer. The buffer is the
// caller's from then on.
func (t *tap) lendable(i int, off int64, max int) *[]byte {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.held[i]
	if b == nil || int64(len(*b))-off > int64(max) || off >= int64(len(*b)) {
		return nil
	}
	delete(t.held, i)
	return b
}

// moveOn records that the reader is in piece i now: held pieces before
// it go back to the pool and waiting connections look again. A nil tap
// does nothing.
func (t *tap) moveOn(i int) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if i <= t.next {
		return
	}
	for k, b := range t.held {
		if k < i {
			pieceBufs.Put(b)
			delete(t.held, k)
		}
	}
	t.next = i
	close(t.moved)
	t.moved = make(chan struct{})
}

// drop forgets every held piece: the Job started its file again from
// zero, and what the tap holds is of the content before. The buffers
// are left to the collector, not the pool: the reader may be copying
// from one.
func (t *tap) drop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	clear(t.held)
}

// close releases the held pieces and every waiting connection; the tap
// keeps nothing from then on.
func (t *tap) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	for k, b := range t.held {
		pieceBufs.Put(b)
		delete(t.held, k)
	}
	close(t.moved)
}
