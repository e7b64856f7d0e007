package cmtrace

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/internal/clocktest"
)

func TestFormatExact(t *testing.T) {
	at := time.Date(2025, 3, 1, 9, 5, 7, 123456789, time.Local)
	got := Format(Entry{Message: "[Win32App] ApplicationDetected: False", Time: at, Component: DefaultComponent, Type: Warning, Thread: 14})
	want := `<![LOG[[Win32App] ApplicationDetected: False]LOG]!><time="09:05:07.1234567" date="3-1-2025" component="IntuneManagementExtension" context="" type="2" thread="14" file="">`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWriterRoundTripAndRotation(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.Local)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second + 100*time.Nanosecond)
		return now
	}
	path := filepath.Join(dir, "IntuneManagementExtension.log")
	w, err := Open(path, Options{MaxSize: 1000, Keep: 2, Clock: clocktest.Func(clock)})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []string{"first", "multi\nline ]LOG]!> tricky", "[Win32App] lpExitCode 0"}
	for i := 0; i < 30; i++ {
		if err := w.Log(Type(1+i%3), i, msgs[i%3]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "IntuneManagementExtension-*.log"))
	if len(old) != 2 {
		t.Fatalf("rotated files %v, want 2 kept", old)
	}
	all, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	total := 0
	for _, f := range all {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 1000 {
			t.Fatalf("%s is %d bytes, over MaxSize", f, len(data))
		}
		entries, err := Parse(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range entries {
			if e.Component != DefaultComponent || e.Type < 1 || e.Type > 3 || e.Time.Year() != 2025 {
				t.Fatalf("bad entry %+v", e)
			}
			if !strings.HasPrefix(e.Message, "first") && !strings.HasPrefix(e.Message, "multi\nline") && !strings.HasPrefix(e.Message, "[Win32App]") {
				t.Fatalf("message %q", e.Message)
			}
		}
		total += len(entries)
	}
	if total == 0 || total >= 30 {
		t.Fatalf("%d entries", total)
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{
		"plain text",
		`<![LOG[x]LOG]!><time="1:2:3" date="3-1-2025" component="c" context="" type="1" thread="1" file="">`,
		`<![LOG[x]LOG]!><time="10:03:45.1234567" date="3-1-2025" component="c" context="" type="9" thread="1" file="">`,
		`<![LOG[x]LOG]!><time="10:03:45.1234567" date="3-1-2025" component="c" type="1" thread="1" file="">`,
	} {
		if _, err := ParseRecord(s); !errors.Is(err, ErrFormat) {
			t.Errorf("%q: %v, want ErrFormat", s, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/seed.log")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	for _, line := range strings.Split(string(seed), "\n") {
		f.Add([]byte(line))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		// What parses formats back to something that parses the same.
		for _, e := range entries {
			if strings.Contains(e.Message, closeTag) {
				continue
			}
			e2, err := ParseRecord(Format(e))
			if err != nil || e2.Message != e.Message || !e2.Time.Equal(e.Time.Truncate(100)) || e2.Type != e.Type {
				t.Fatalf("round trip %+v → %+v, %v", e, e2, err)
			}
		}
	})
}
