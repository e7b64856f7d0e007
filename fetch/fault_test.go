package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// Each fault either completes with the right bytes or fails with a clear
// error; a wrong file is never reported as done.
func TestFaults(t *testing.T) {
	content := randomBytes(1, 3<<20+12345)
	v2 := randomBytes(2, len(content))
	type injector = func(o *origin) func(n int, w http.ResponseWriter, r *http.Request) bool
	status := func(code int, retryAfter string, times int) injector {
		return func(*origin) func(int, http.ResponseWriter, *http.Request) bool {
			return func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n > times {
					return false
				}
				if retryAfter != "" {
					w.Header().Set("Retry-After", retryAfter)
				}
				w.WriteHeader(code)
				return true
			}
		}
	}
	cases := []struct {
		name       string
		inject     injector
		noProgress time.Duration
		wantErr    func(error) bool // nil: must complete with the right bytes
		wantOther  []byte
		wantPause  time.Duration // some retry pause must be at least this
	}{
		{name: "clean", inject: func(*origin) func(int, http.ResponseWriter, *http.Request) bool { return nil }},
		{name: "503 then ok", inject: status(503, "", 3)},
		{name: "500 then ok", inject: status(500, "", 2)},
		{name: "503 Retry-After honoured", inject: status(503, "7", 2), wantPause: 7 * time.Second},
		{name: "429 Retry-After date", inject: status(429, time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat), 1), wantPause: 60 * time.Second},
		{name: "503 forever", inject: status(503, "", 1<<30), wantErr: isStatus(503)},
		{name: "404", inject: status(404, "", 1<<30), wantErr: isStatus(404)},
		{name: "403 mid-download", inject: func(*origin) func(int, http.ResponseWriter, *http.Request) bool {
			return func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n > 3 {
					w.WriteHeader(403)
					return true
				}
				return false
			}
		}, wantErr: isStatus(403)},
		{name: "reset mid-body", inject: func(o *origin) func(int, http.ResponseWriter, *http.Request) bool {
			return func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n%3 != 2 {
					return false
				}
				w.Header().Set("ETag", `"v1"`)
				http.ServeContent(&cutWriter{ResponseWriter: w, limit: 100 << 10}, r, "", time.Unix(1700000000, 0), strings.NewReader(string(content)))
				return true
			}
		}},
		{name: "stall", noProgress: 100 * time.Millisecond, inject: func(o *origin) func(int, http.ResponseWriter, *http.Request) bool {
			return func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n != 3 && n != 5 {
					return false
				}
				w.Header().Set("Content-Length", "1000")
				w.WriteHeader(206)
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return true
			}
		}},
		{name: "short body", inject: func(o *origin) func(int, http.ResponseWriter, *http.Request) bool {
			return onceEvery(4, func(w http.ResponseWriter, r *http.Request) {
				var first, last int64
				fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &first, &last)
				w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(content)))
				w.Header().Set("Content-Length", fmt.Sprint(last-first+1))
				w.WriteHeader(206)
				w.Write(content[first : first+(last-first+1)/2])
			})
		}},
		{name: "wrong Content-Range", inject: func(o *origin) func(int, http.ResponseWriter, *http.Request) bool {
			return onceEvery(3, func(w http.ResponseWriter, r *http.Request) {
				var first, last int64
				fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &first, &last)
				// Shifted by one byte: the same length, the wrong bytes.
				first, last = first+1, min(last+1, int64(len(content))-1)
				w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", first, last, len(content)))
				w.WriteHeader(206)
				w.Write(content[first : last+1])
			})
		}},
		{name: "Range ignored", inject: func(o *origin) func(int, http.ResponseWriter, *http.Request) bool {
			return func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n%2 != 0 {
					return false
				}
				r.Header.Del("Range")
				w.Header().Set("ETag", `"v1"`)
				http.ServeContent(w, r, "", time.Unix(1700000000, 0), strings.NewReader(string(content)))
				return true
			}
		}},
		{name: "ETag change mid-download", wantOther: v2, inject: func(o *origin) func(int, http.ResponseWriter, *http.Request) bool {
			return func(n int, w http.ResponseWriter, r *http.Request) bool {
				if n == 4 {
					o.setContent(v2, `"v2"`)
				}
				return false
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, content)
			o.inject = tc.inject(o)
			var sl sleeps
			opt := testOptions(&sl)
			if tc.noProgress > 0 {
				opt.NoProgress = tc.noProgress
			}
			dst := filepath.Join(t.TempDir(), "out.bin")
			src, err := NewHTTP(o.url(), nil)
			if err != nil {
				t.Fatal(err)
			}
			job, err := New(dst, []Source{src}, opt)
			if err != nil {
				t.Fatal(err)
			}
			st, err := job.Run(context.Background())
			checkCounters(t, st)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("Run succeeded, want an error")
				}
				if !tc.wantErr(err) {
					t.Fatalf("unexpected error: %v", err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				if st.Status != imeapi.DOError {
					t.Errorf("Status %q, want %q", st.Status, imeapi.DOError)
				}
				_, ferr := os.Stat(dst)
				if _, jerr := os.Stat(journalPath(dst)); ferr == nil && jerr != nil {
					t.Errorf("a partial file without its journal after a failure: %v", jerr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			want := content
			if tc.wantOther != nil {
				want = tc.wantOther
			}
			checkFile(t, dst, want)
			if st.Status != imeapi.DOComplete || st.FileSizeInCache != int64(len(want)) || st.FileSize != int64(len(want)) {
				t.Errorf("status %+v", st)
			}
			if _, jerr := os.Stat(journalPath(dst)); !errors.Is(jerr, os.ErrNotExist) {
				t.Errorf("journal left after success: %v", jerr)
			}
			if tc.wantPause > 0 {
				var longest time.Duration
				for _, d := range sl.all() {
					longest = max(longest, d)
				}
				if longest < tc.wantPause {
					t.Errorf("longest retry pause %v, want ≥ %v (Retry-After)", longest, tc.wantPause)
				}
			}
		})
	}
}

func isStatus(code int) func(error) bool {
	return func(err error) bool {
		var se *StatusError
		return errors.As(err, &se) && se.Code == code
	}
}

// onceEvery faults request n when n%k == 2, each requested range at most
// once: a transient fault. (By request number alone, four workers in
// step could each keep the same residue, and one of them meet the fault
// on every retry until its attempts ran out.)
func onceEvery(k int, fault func(http.ResponseWriter, *http.Request)) func(int, http.ResponseWriter, *http.Request) bool {
	var mu sync.Mutex
	seen := map[string]bool{}
	return func(n int, w http.ResponseWriter, r *http.Request) bool {
		rng := r.Header.Get("Range")
		mu.Lock()
		hit := n%k == 2 && !seen[rng]
		if hit {
			seen[rng] = true
		}
		mu.Unlock()
		if hit {
			fault(w, r)
		}
		return hit
	}
}

// afterBody writes every byte it is asked for, then fails the request
// (a reset after the body, or the watchdog firing as the last byte
// lands), and records the ranges asked for.
type afterBody struct {
	content []byte
	mu      sync.Mutex
	asked   [][2]int64
}

func (s *afterBody) Kind() SourceKind { return HTTP }

func (s *afterBody) Stat(context.Context) (Meta, error) {
	return Meta{Size: int64(len(s.content)), ETag: `"x"`, Ranges: true}, nil
}

func (s *afterBody) Fetch(_ context.Context, off, n int64, w io.Writer) (int64, error) {
	s.mu.Lock()
	s.asked = append(s.asked, [2]int64{off, n})
	s.mu.Unlock()
	m, err := w.Write(s.content[off : off+n])
	if err != nil {
		return int64(m), err
	}
	return int64(m), errors.New("connection reset after the body")
}

// A request that failed after its last piece landed completes its span:
// the Job neither retries it nor asks any source for an empty range
// (under Wine a watchdog firing as the last byte landed made it ask for
// "851968+0" and give up).
func TestFailureAfterLastPiece(t *testing.T) {
	var sl sleeps
	opt := testOptions(&sl)
	content := randomBytes(41, 7*int(opt.PieceSize)+5)
	src := &afterBody{content: content}
	dst := filepath.Join(t.TempDir(), "out.bin")
	job, err := New(dst, []Source{src}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := job.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkFile(t, dst, content)
	var total int64
	for _, a := range src.asked {
		if a[1] <= 0 {
			t.Fatalf("asked for an empty range at %d (requests %v)", a[0], src.asked)
		}
		total += a[1]
	}
	if total != int64(len(content)) {
		t.Errorf("asked for %d bytes in %v, want each of the %d once", total, src.asked, len(content))
	}
}
