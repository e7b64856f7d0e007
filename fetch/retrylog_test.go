package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/imepipe/imepipe/internal/clocktest"
)

// manualRetry is a Retry on a manual clock: Sleep moves the clock by the
// pause and returns at once, so Elapsed is the pauses' sum.
func manualRetry(attempts int, backoff func(int) time.Duration) (Retry, *clocktest.Clock) {
	clk := clocktest.New(time.Unix(1700000000, 0))
	return Retry{
		Attempts: attempts,
		Backoff:  backoff,
		Now:      clk.Now,
		Sleep:    clk.Sleep,
	}, clk
}

type notified struct {
	err               error
	attempt, attempts int
	pause             time.Duration
}

// TestRetryNotify: Notify hears of every retry before its pause, with
// the number of the attempt to come; progress starts the count again;
// when the attempts run out the error says how many over how long and
// still is (errors.Is) the last failure.
func TestRetryNotify(t *testing.T) {
	errTemp := errors.New("temporary")
	r, _ := manualRetry(4, func(a int) time.Duration { return time.Duration(a) * time.Second })
	var got []notified
	r.Notify = func(err error, attempt, attempts int, pause time.Duration) {
		got = append(got, notified{err, attempt, attempts, pause})
	}
	calls := 0
	err := r.Do(context.Background(), func(context.Context) (bool, error) {
		calls++
		return calls == 2, errTemp // the second attempt got somewhere
	})
	want := []notified{
		{errTemp, 2, 4, 1 * time.Second},
		{errTemp, 2, 4, 1 * time.Second}, // after progress: attempt 2 again
		{errTemp, 3, 4, 2 * time.Second},
		{errTemp, 4, 4, 3 * time.Second},
	}
	if len(got) != len(want) {
		t.Fatalf("Notify heard %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("notification %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	var ex *ExhaustedError
	if !errors.As(err, &ex) || !errors.Is(err, errTemp) || ex.Attempts != 4 || ex.Elapsed != 6*time.Second {
		t.Fatalf("err %#v, want an *ExhaustedError of 4 attempts over 6s wrapping the failure", err)
	}
	if want := "temporary (4 attempts over 6s)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}

	// Permanent errors and a single attempt are returned as they are, unannounced.
	got = nil
	r.Attempts = 1
	if err := r.Do(context.Background(), func(context.Context) (bool, error) { return false, errTemp }); err != errTemp || len(got) != 0 {
		t.Errorf("one attempt: err %v, %d notifications; want the failure itself, none", err, len(got))
	}
	r.Attempts = 4
	perm := Permanent(errTemp)
	if err := r.Do(context.Background(), func(context.Context) (bool, error) { return false, perm }); err != perm || len(got) != 0 {
		t.Errorf("permanent: err %v, %d notifications; want the failure itself, none", err, len(got))
	}
}

// refusedURL is an http URL on a loopback port nothing listens on.
func refusedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/x"
}

// TestRefusedMessage: a refused connection reads "fetch: URL: connection
// refused": the URL once, no `Get "URL":`, no dialled address or system
// call; errors.As and errors.Is still reach the *url.Error and ECONNREFUSED.
func TestRefusedMessage(t *testing.T) {
	u := refusedURL(t)
	_, err := mustHTTP(t, u).Stat(context.Background())
	if want := "fetch: " + u + ": connection refused"; err == nil || err.Error() != want {
		t.Fatalf("Stat: %v, want %q", err, want)
	}
	var ue *url.Error
	var re *RequestError
	if !errors.As(err, &ue) || !errors.As(err, &re) || !errors.Is(err, errRefused) {
		t.Errorf("Stat: %#v, want a *RequestError over a *url.Error over ECONNREFUSED", err)
	}
	if IsPermanent(err) {
		t.Error("a refused connection is permanent; want it retried")
	}
}

// TestJobRefusedGivesUp: a Job whose only source refuses connections
// keeps the library's policy (8 attempts, 250 ms doubling: 31.75 s of
// pauses), announces 7 retries through Notify and fails with one line.
func TestJobRefusedGivesUp(t *testing.T) {
	u := refusedURL(t)
	r, clk := manualRetry(0, func(a int) time.Duration { return 250 * time.Millisecond << (a - 1) })
	var attempts []int
	r.Notify = func(_ error, attempt, _ int, _ time.Duration) { attempts = append(attempts, attempt) }
	job, err := New(filepath.Join(t.TempDir(), "f.bin"), []Source{mustHTTP(t, u)}, Options{Retry: r, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	_, err = job.Run(context.Background())
	if want := "fetch: " + u + ": connection refused (8 attempts over 32s)"; err == nil || err.Error() != want {
		t.Fatalf("Run: %v, want %q", err, want)
	}
	var ex *ExhaustedError
	if !errors.As(err, &ex) || ex.Attempts != 8 || ex.Elapsed != 31750*time.Millisecond || !errors.Is(err, errRefused) {
		t.Errorf("Run: %#v, want 8 attempts over 31.75s of ECONNREFUSED", err)
	}
	if got, want := fmt.Sprint(attempts), "[2 3 4 5 6 7 8]"; got != want {
		t.Errorf("Notify heard attempts %s, want %s", got, want)
	}
}
