package cmtrace

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/imepipe/imepipe/internal/clock"
)

// Options tune a Writer; the zero value gives the IME's defaults.
type Options struct {
	// MaxSize rotates the file before a record would take it past this
	// many bytes (default 2 MiB, the IME's LogMaxSize).
	MaxSize int64
	// Keep is how many rotated files are kept (default 1, the IME's
	// LogMaxHistory); older ones are deleted.
	Keep int
	// Component names the writer (default DefaultComponent).
	Component string
	// Clock dates the records and the rotated files (nil: the real clock).
	Clock Clock
}

// Clock is the time source of a Writer (internal/clock's Real, or a
// test's clock).
type Clock interface {
	Now() time.Time
}

// Writer appends records to a log file, rotating it by size. It is safe
// for concurrent use.
type Writer struct {
	path string
	opt  Options
	mu   sync.Mutex
	f    *os.File
	size int64
}

// Open opens (appending to) the log at path.
func Open(path string, opt Options) (*Writer, error) {
	if opt.MaxSize <= 0 {
		opt.MaxSize = 2 << 20
	}
	if opt.Keep <= 0 {
		opt.Keep = 1
	}
	if opt.Component == "" {
		opt.Component = DefaultComponent
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	w := &Writer{path: path, opt: opt}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	if err := os.MkdirAll(filepath.Dir(w.path), 0o755); err != nil {
		return fmt.Errorf("cmtrace: %w", err)
	}
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("cmtrace: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("cmtrace: %w", err)
	}
	w.f, w.size = f, fi.Size()
	return nil
}

// Path is the live log file.
func (w *Writer) Path() string { return w.path }

// Log writes one record of type t from thread.
func (w *Writer) Log(t Type, thread int, msg string) error {
	line := Format(Entry{Message: msg, Time: w.opt.Clock.Now(), Component: w.opt.Component, Type: t, Thread: thread}) + "\r\n"
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return fmt.Errorf("cmtrace: %s: %w", w.path, os.ErrClosed)
	}
	if w.size > 0 && w.size+int64(len(line)) > w.opt.MaxSize {
		if err := w.rotate(); err != nil {
			return err
		}
	}
	n, err := w.f.WriteString(line)
	w.size += int64(n)
	if err != nil {
		return fmt.Errorf("cmtrace: %w", err)
	}
	return nil
}

// rotate renames the live file to <base>-YYYYMMDD-HHMMSS.log, prunes old
// files beyond Keep and opens a fresh one.
func (w *Writer) rotate() error {
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("cmtrace: %w", err)
	}
	w.f = nil
	base := strings.TrimSuffix(w.path, filepath.Ext(w.path))
	stamp := w.opt.Clock.Now().Format("20060102-150405")
	dst := base + "-" + stamp + ".log"
	for i := 1; ; i++ {
		if _, err := os.Lstat(dst); os.IsNotExist(err) {
			break
		}
		dst = fmt.Sprintf("%s-%s-%d.log", base, stamp, i)
	}
	if err := os.Rename(w.path, dst); err != nil {
		return fmt.Errorf("cmtrace: rotate: %w", err)
	}
	old, _ := filepath.Glob(base + "-*.log")
	sort.Strings(old)
	for len(old) > w.opt.Keep {
		_ = os.Remove(old[0])
		old = old[1:]
	}
	return w.open()
}

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
