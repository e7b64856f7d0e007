package fetch

import (
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clock"
)

// Priority is DO's download priority.
type Priority int

// Foreground uses every connection; Background uses a quarter of them and
// Options.BackgroundRate.
const (
	Foreground Priority = iota
	Background
)

func (p Priority) String() string {
	if p == Background {
		return "Background"
	}
	return "Foreground"
}

// Options tune a Job; the zero value is usable.
type Options struct {
	// Connections is the number of parallel requests (default 8).
	Connections int
	// PieceSize is the unit of the journal and of piece hashes (default
	// 1 MiB, DO's piece size).
	PieceSize int64
	// ChunkSize is the first request size per connection (default 2 MiB).
	// Each connection then sizes its requests to 16 × its time to first
	// byte at its own throughput (see adapt), between one piece and
	// MaxChunk; near the end no request is larger than its share of what
	// is left.
	ChunkSize int64
	// MaxChunk caps a request (default 64 MiB).
	MaxChunk int64
	// Priority: Background uses max(1, Connections/4) connections.
	Priority Priority
	// MaxRate is a hard cap in bytes per second for the whole Job (0: none).
	MaxRate int64
	// BackgroundRate caps a Background job in bytes per second (0: none).
	BackgroundRate int64
	// SHA256, when set, is the whole-file digest; it is computed while the
	// file grows and checked at the end (ErrChecksum; the file is removed).
	SHA256 []byte
	// PieceHashes are the SHA-256 of every piece (PieceSize each). Pieces
	// from peer sources are checked before they are written or counted as
	// complete; a peer that sends a bad piece is banned for the job.
	PieceHashes [][32]byte
	// NoProgress aborts a request that delivers no byte for this long
	// (default 30 s); it is retried like any transient failure.
	NoProgress time.Duration
	// BanDuration is how long a failing cache host or peer is avoided
	// (default 15 min, as DO does for a Connected Cache host).
	BanDuration time.Duration
	// Retry is the retry policy for every source; its Now defaults to
	// Clock's, and its Notify hears of every retry with its attempt
	// number and pause (nil: none, the Job is silent).
	Retry Retry
	// FileID is DO's FileId for the record (default: a hash of size and validators).
	FileID string
	// DownloadMode is DO's mode, reported as is.
	DownloadMode imeapi.DownloadMode
	// Caller is the record's PredefinedCallerApplication (the program
	// that asked for the download); empty: none reported.
	Caller string
	// Fresh starts over: any journal and whatever the file holds are
	// discarded and everything is fetched again.
	Fresh bool
	// KeepJournal keeps the journal after success, every piece recorded,
	// as the file's completion record: a later Run for the same content
	// (size and ETag/Last-Modified, re-checked by one Stat) re-hashes the
	// file locally and fetches nothing. Without it the journal is removed
	// (the agent's IMECache reads "no journal" as complete).
	KeepJournal bool
	// Clock is the time source of durations, bans and pacing (nil: the
	// real clock).
	Clock Clock
	// Logf receives one line per notable event (retries, bans, restarts).
	Logf func(format string, args ...any)
}

// Clock is the time source a Job reads (internal/clock's Real, or a
// test's clock).
type Clock interface {
	Now() time.Time
}

func (o Options) withDefaults() Options {
	if o.Connections <= 0 {
		o.Connections = 8
	}
	if o.PieceSize <= 0 {
		o.PieceSize = 1 << 20
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 2 << 20
	}
	if o.MaxChunk <= 0 {
		o.MaxChunk = 64 << 20
	}
	o.ChunkSize = max(o.ChunkSize, o.PieceSize)
	o.MaxChunk = max(o.MaxChunk, o.ChunkSize)
	if o.NoProgress <= 0 {
		o.NoProgress = 30 * time.Second
	}
	if o.BanDuration <= 0 {
		o.BanDuration = 15 * time.Minute
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Retry.Now == nil {
		o.Retry.Now = o.Clock.Now
	}
	o.Retry = o.Retry.withDefaults()
	return o
}

// connections is how many workers run at this priority.
func (o Options) connections() int {
	if o.Priority == Background {
		return max(1, o.Connections/4)
	}
	return o.Connections
}

// rate is the effective cap in bytes per second (0: none).
func (o Options) rate() int64 {
	r := o.MaxRate
	if o.Priority == Background && o.BackgroundRate > 0 && (r == 0 || o.BackgroundRate < r) {
		r = o.BackgroundRate
	}
	return r
}
