package fetch

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
)

func TestPrefixReaderTakesPiecesFromMemory(t *testing.T) {
	content := randomBytes(31, 3<<20+123)
	o := newOrigin(t, content)
	var sl sleeps
	job, _ := New(filepath.Join(t.TempDir(), "out.bin"), []Source{mustHTTP(t, o.url())}, testOptions(&sl))
	pr := job.NewPrefixReader(context.Background())
	defer pr.Close()
	done := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		done <- b
	}()
	if _, err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := <-done
	if !bytes.Equal(got, content) {
		t.Fatalf("reader got %d bytes, want the %d downloaded", len(got), len(content))
	}
	if pr.FromMemory() != int64(len(content)) {
		t.Fatalf("%d of %d bytes came from memory; a reader there from the start gets them all so", pr.FromMemory(), len(content))
	}
	checkFile(t, job.path, content) // the file is written all the same
}

// A reader that does not read holds the download to the window: no piece
// past it completes until the reader moves or closes.
func TestTapHoldsDownloadToReader(t *testing.T) {
	const pieces = 40
	var sl sleeps
	opt := testOptions(&sl)
	content := randomBytes(32, pieces*int(opt.PieceSize))
	o := newOrigin(t, content)
	opt.Connections = 2
	job, _ := New(filepath.Join(t.TempDir(), "out.bin"), []Source{mustHTTP(t, o.url())}, opt)
	pr := job.NewPrefixReader(context.Background())
	waits := make(chan int, 64)
	pr.t.onWait = func(i int) { waits <- i }
	ran := make(chan error, 1)
	go func() {
		_, err := job.Run(context.Background())
		ran <- err
	}()
	for range opt.Connections { // every connection ends up waiting
		if i := <-waits; i < tapWindow {
			t.Fatalf("a connection waited before piece %d, inside the window", i)
		}
	}
	job.mu.Lock()
	ndone := job.pc.ndone
	job.mu.Unlock()
	if ndone != tapWindow {
		t.Fatalf("%d pieces complete while the reader read nothing, want the window's %d", ndone, tapWindow)
	}
	got, err := io.ReadAll(pr)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) || pr.FromMemory() != int64(len(content)) {
		t.Fatalf("reader got %d bytes (%d from memory), want all %d from memory", len(got), pr.FromMemory(), len(content))
	}
	pr.Close()
}

// Closing the reader lets the download finish without it.
func TestTapClosedReleasesDownload(t *testing.T) {
	var sl sleeps
	opt := testOptions(&sl)
	content := randomBytes(33, 30*int(opt.PieceSize)+7)
	o := newOrigin(t, content)
	job, _ := New(filepath.Join(t.TempDir(), "out.bin"), []Source{mustHTTP(t, o.url())}, opt)
	pr := job.NewPrefixReader(context.Background())
	waited := make(chan struct{})
	pr.t.onWait = func(int) {
		select {
		case <-waited:
		default:
			close(waited)
		}
	}
	ran := make(chan error, 1)
	go func() {
		_, err := job.Run(context.Background())
		ran <- err
	}()
	<-waited
	pr.Close()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	checkFile(t, job.path, content)
	if job.currentTap() != nil {
		t.Fatal("the closed reader's tap is still the job's")
	}
	pr2 := job.NewPrefixReader(context.Background()) // a later reader reads the file
	defer pr2.Close()
	got, err := io.ReadAll(pr2)
	if err != nil || !bytes.Equal(got, content) || pr2.FromMemory() != 0 {
		t.Fatalf("later reader: %d bytes (%d from memory), %v", len(got), pr2.FromMemory(), err)
	}
}

// handingSource gives whole pieces as PieceBuffers through PieceTaker,
// and, when odd, every other piece as a shorter buffer (written, not
// taken).
type handingSource struct {
	content   []byte
	pieceSize int64
	odd       bool
}

func (s *handingSource) Kind() SourceKind { return HTTP }
func (s *handingSource) Stat(context.Context) (Meta, error) {
	return Meta{Size: int64(len(s.content)), Ranges: true}, nil
}

func (s *handingSource) Fetch(_ context.Context, off, n int64, w io.Writer) (int64, error) {
	taker, ok := w.(PieceTaker)
	if !ok {
		return 0, io.ErrClosedPipe
	}
	var done int64
	for done < n {
		at := off + done
		pieceEnd := min((at/s.pieceSize+1)*s.pieceSize, off+n)
		m := pieceEnd - at
		if s.odd && at/s.pieceSize%2 == 1 && at%s.pieceSize == 0 && m > 1 {
			m /= 2 // half an odd piece, then the rest: TakePiece writes them instead
		}
		b := PieceBuffer(m)
		copy(*b, s.content[off+done:])
		if err := taker.TakePiece(b); err != nil {
			return done, err
		}
		done += m
	}
	return done, nil
}

func TestTakePieceHandsBuffersOver(t *testing.T) {
	for _, odd := range []bool{false, true} {
		var sl sleeps
		opt := testOptions(&sl)
		content := randomBytes(34, 20*int(opt.PieceSize)+99)
		src := &handingSource{content: content, pieceSize: opt.PieceSize, odd: odd}
		job, _ := New(filepath.Join(t.TempDir(), "out.bin"), []Source{src}, opt)
		pr := job.NewPrefixReader(context.Background())
		done := make(chan []byte, 1)
		go func() {
			b, _ := io.ReadAll(pr)
			done <- b
		}()
		if _, err := job.Run(context.Background()); err != nil {
			t.Fatalf("odd %v: %v", odd, err)
		}
		got := <-done
		pr.Close()
		if !bytes.Equal(got, content) || pr.FromMemory() != int64(len(content)) {
			t.Fatalf("odd %v: reader got %d bytes (%d from memory), want all %d from memory", odd, len(got), pr.FromMemory(), len(content))
		}
		checkFile(t, job.path, content)
	}
}

// Lend hands over the download's own piece buffers: from a position
// inside a piece, the rest of it; each whole piece after that, the
// bytes those of the file, all from memory.
func TestPrefixReaderLendsPieces(t *testing.T) {
	var sl sleeps
	opt := testOptions(&sl)
	ps := int(opt.PieceSize)
	content := randomBytes(33, 5*ps+77)
	o := newOrigin(t, content)
	job, _ := New(filepath.Join(t.TempDir(), "out.bin"), []Source{mustHTTP(t, o.url())}, opt)
	pr := job.NewPrefixReader(context.Background())
	defer pr.Close()
	type lent struct {
		b   []byte
		err error
	}
	got := make(chan lent, 16)
	go func() {
		head := make([]byte, 48)
		if _, err := io.ReadFull(pr, head); err != nil {
			got <- lent{err: err}
			return
		}
		got <- lent{b: head}
		for {
			b, release, err := pr.Lend(ps)
			if err != nil {
				got <- lent{err: err}
				return
			}
			got <- lent{b: bytes.Clone(b)}
			release()
		}
	}()
	if _, err := job.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var all []byte
	var sizes []int
	for l := range got {
		if l.err == io.EOF {
			break
		}
		if l.err != nil {
			t.Fatal(l.err)
		}
		all = append(all, l.b...)
		sizes = append(sizes, len(l.b))
	}
	if !bytes.Equal(all, content) {
		t.Fatalf("lent %d bytes, want the %d downloaded", len(all), len(content))
	}
	want := []int{48, ps - 48, ps, ps, ps, ps, 77}
	if len(sizes) != len(want) {
		t.Fatalf("lent in pieces of %v, want %v", sizes, want)
	}
	for i := range want {
		if sizes[i] != want[i] {
			t.Fatalf("lent in pieces of %v, want %v", sizes, want)
		}
	}
	if pr.FromMemory() != int64(len(content)) {
		t.Fatalf("%d of %d bytes from memory", pr.FromMemory(), len(content))
	}
}
