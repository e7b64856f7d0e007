package fetch

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// runFor runs a new Job for dst and returns its status and LastRun.
func runFor(t *testing.T, dst, u string, opt Options) (Status, RunStats) {
	t.Helper()
	job, err := New(dst, []Source{mustHTTP(t, u)}, opt)
	if err != nil {
		t.Fatal(err)
	}
	st, err := job.Run(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return st, job.LastRun()
}

// TestCompleteFileNotFetchedAgain: with KeepJournal the journal stays as
// the completion record, and a second Job for the same content sends
// the Stat's one byte, no more; the origin's own count of body bytes is
// the measure. A changed ETag fetches everything again, and so does Fresh.
func TestCompleteFileNotFetchedAgain(t *testing.T) {
	content := randomBytes(11, 3<<20+123)
	o := newOrigin(t, content)
	var sl sleeps
	opt := testOptions(&sl)
	opt.KeepJournal = true
	dst := filepath.Join(t.TempDir(), "out.bin")

	_, run1 := runFor(t, dst, o.url(), opt)
	checkFile(t, dst, content)
	if run1.AlreadyComplete || run1.Bytes != int64(len(content)) {
		t.Fatalf("first run: %+v", run1)
	}
	if _, err := os.Stat(journalPath(dst)); err != nil {
		t.Fatalf("KeepJournal: no journal after success: %v", err)
	}

	sent := o.sent.Load()
	_, run2 := runFor(t, dst, o.url(), opt)
	checkFile(t, dst, content)
	if d := o.sent.Load() - sent; d > 1 {
		t.Errorf("second run: the origin sent %d body bytes, want at most the Stat's 1", d)
	}
	if !run2.AlreadyComplete || run2.Bytes > 1 {
		t.Errorf("second run: %+v, want AlreadyComplete and no bytes beyond the Stat", run2)
	}

	// New content behind the same URL: the record does not match.
	changed := randomBytes(12, len(content))
	o.setContent(changed, `"v2"`)
	sent = o.sent.Load()
	_, run3 := runFor(t, dst, o.url(), opt)
	checkFile(t, dst, changed)
	if run3.AlreadyComplete || o.sent.Load()-sent < int64(len(changed)) {
		t.Errorf("changed content: %+v, origin sent %d", run3, o.sent.Load()-sent)
	}

	opt.Fresh = true
	sent = o.sent.Load()
	_, run4 := runFor(t, dst, o.url(), opt)
	checkFile(t, dst, changed)
	if run4.AlreadyComplete || o.sent.Load()-sent < int64(len(changed)) {
		t.Errorf("Fresh: %+v, origin sent %d", run4, o.sent.Load()-sent)
	}
}

// TestCompleteBySHA256: without a journal, a file of the right size and
// whole-file SHA-256 is taken as complete; one that differs in a byte is
// fetched again (and ends right).
func TestCompleteBySHA256(t *testing.T) {
	content := randomBytes(13, 2<<20+5)
	o := newOrigin(t, content)
	var sl sleeps
	opt := testOptions(&sl)
	sum := sha256.Sum256(content)
	opt.SHA256 = sum[:]
	dst := filepath.Join(t.TempDir(), "out.bin")
	runFor(t, dst, o.url(), opt)
	if _, err := os.Stat(journalPath(dst)); !os.IsNotExist(err) {
		t.Fatalf("journal left without KeepJournal: %v", err)
	}
	sent := o.sent.Load()
	_, run := runFor(t, dst, o.url(), opt)
	if d := o.sent.Load() - sent; d > 1 || !run.AlreadyComplete {
		t.Errorf("complete file: origin sent %d, %+v", d, run)
	}
	checkFile(t, dst, content)

	damaged := append([]byte(nil), content...)
	damaged[len(damaged)/2] ^= 1
	if err := os.WriteFile(dst, damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	sent = o.sent.Load()
	_, run = runFor(t, dst, o.url(), opt)
	if run.AlreadyComplete || o.sent.Load()-sent < int64(len(content)) {
		t.Errorf("damaged file: %+v, origin sent %d", run, o.sent.Load()-sent)
	}
	checkFile(t, dst, content)
}

// fakeClock advances only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestLastRunIsThisRun: after a resume, Status's DownloadDuration counts
// both runs (as DO does) but LastRun only the second.
func TestLastRunIsThisRun(t *testing.T) {
	content := randomBytes(14, 2<<20)
	o := newOrigin(t, content)
	clk := &fakeClock{t: time.Unix(1700000000, 0)}
	var sl sleeps
	opt := testOptions(&sl)
	opt.Clock = clk
	dst := filepath.Join(t.TempDir(), "out.bin")

	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	stop := func() { once.Do(func() { clk.add(10 * time.Second); cancel() }) }
	src := &stopAfter{Source: mustHTTP(t, o.url()), left: int64(len(content) / 3), cancel: stop}
	job, err := New(dst, []Source{src}, opt)
	if err != nil {
		t.Fatal(err)
	}
	clk.add(7 * time.Second) // before Run: not counted
	if _, err := job.Run(ctx); err == nil {
		t.Fatal("the first run was not stopped")
	}
	if d := job.LastRun().Duration; d != 10*time.Second {
		t.Fatalf("first run lasted %v, want 10s", d)
	}

	job2, err := New(dst, []Source{mustHTTP(t, o.url())}, opt)
	if err != nil {
		t.Fatal(err)
	}
	clk.add(time.Hour) // between runs: not counted either
	st, err := job2.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkFile(t, dst, content)
	run := job2.LastRun()
	if run.Duration != 0 || time.Duration(st.DownloadDuration) != 10*time.Second {
		t.Errorf("second run: LastRun %v, DownloadDuration %v; want 0 (the clock did not move) and 10s", run.Duration, time.Duration(st.DownloadDuration))
	}
	if run.AlreadyComplete || run.Bytes >= int64(len(content)) || run.Bytes == 0 {
		t.Errorf("second run: %+v, want the missing part only", run)
	}
}
