package fetch

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// Status is the per-file record of Get-DeliveryOptimizationStatus: its
// 28 fields, with its names, in the order Windows prints them.
// BytesFromHttp includes BytesFromCacheServer, and BytesFromHttp +
// BytesFromPeers = TotalBytesDownloaded. A Job fills the download's
// figures; the DO cache (package peer) adds Caching, ExpireOn and
// IsPinned, the caller PredefinedCallerApplication. The byte and
// connection counts and DownloadDuration are the whole download's: the
// journal carries them over a resume (BytesTo…Peers are this Job's).
type Status struct {
	FileId                  string
	FileSize                int64
	FileSizeInCache         int64
	TotalBytesDownloaded    int64
	PercentPeerCaching      float64
	BytesFromPeers          int64
	BytesFromHttp           int64
	Status                  imeapi.DOStatus
	Priority                string
	BytesFromCacheServer    int64
	BytesFromLanPeers       int64
	BytesFromGroupPeers     int64
	BytesFromInternetPeers  int64
	BytesToLanPeers         int64
	BytesToGroupPeers       int64
	BytesToInternetPeers    int64
	DownloadDuration        TimeSpan
	HttpConnectionCount     int
	LanConnectionCount      int
	GroupConnectionCount    int
	InternetConnectionCount int
	DownloadMode            imeapi.DownloadMode
	SourceURL               string
	CacheHost               string
	NumPeers                int
	// PredefinedCallerApplication is the last caller that asked for the
	// file (Options.Caller).
	PredefinedCallerApplication string
	// ExpireOn is when the DO cache may drop the file: its last use plus
	// the cache's maximum age. Zero while nothing caches it (a Job on its
	// own, imepipe fetch): then JSON has null and the record prints "",
	// never year 1.
	ExpireOn DateTime
	// IsPinned: the DO cache keeps the file whatever its age and the
	// cache's size limit.
	IsPinned bool
}

// DateTime is a time printed as Windows PowerShell prints a .NET
// DateTime in the en-US culture ("9/6/2019 8:36:19 AM"), in the time's
// own location; JSON keeps RFC 3339. The zero time, no time at all,
// prints as "" and is null in JSON.
type DateTime time.Time

// dotNetLayout is .NET's en-US general date/time pattern ("G").
const dotNetLayout = "1/2/2006 3:04:05 PM"

func (t DateTime) String() string {
	if time.Time(t).IsZero() {
		return ""
	}
	return time.Time(t).Format(dotNetLayout)
}

// MarshalJSON writes RFC 3339, or null for the zero time.
func (t DateTime) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return time.Time(t).MarshalJSON()
}

// UnmarshalJSON reads RFC 3339; null is the zero time.
func (t *DateTime) UnmarshalJSON(b []byte) error {
	var v time.Time
	if err := v.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("fetch: DateTime: %w", err)
	}
	*t = DateTime(v)
	return nil
}

// TimeSpan is a duration printed as .NET prints one ("01:02:03.4500000"),
// as DO's DownloadDuration is.
type TimeSpan time.Duration

func (t TimeSpan) String() string {
	d := time.Duration(t)
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	h := d / time.Hour
	m := (d % time.Hour) / time.Minute
	s := (d % time.Minute) / time.Second
	ticks := (d % time.Second) / 100
	return fmt.Sprintf("%s%02d:%02d:%02d.%07d", sign, h, m, s, ticks)
}

// MarshalJSON writes the TimeSpan string.
func (t TimeSpan) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// UnmarshalJSON reads "hh:mm:ss[.fffffff]".
func (t *TimeSpan) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("fetch: TimeSpan: %w", err)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var h, m, sec, frac int64
	main, fracStr, _ := strings.Cut(s, ".")
	if _, err := fmt.Sscanf(main, "%d:%d:%d", &h, &m, &sec); err != nil {
		return fmt.Errorf("fetch: TimeSpan %q: %w", s, err)
	}
	if fracStr != "" {
		fracStr = (fracStr + "0000000")[:7]
		if _, err := fmt.Sscanf(fracStr, "%d", &frac); err != nil {
			return fmt.Errorf("fetch: TimeSpan %q: %w", s, err)
		}
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second + time.Duration(frac)*100
	if neg {
		d = -d
	}
	*t = TimeSpan(d)
	return nil
}

// counters are the live byte and connection counts of a Job.
type counters struct {
	from      [numKinds]atomic.Int64 // bytes received, by source kind
	to        [numKinds]atomic.Int64 // bytes uploaded to peers, by kind
	conns     [numKinds]atomic.Int64 // connections (HTTP) or sources (peers) used at once, at most
	active    [numKinds]atomic.Int64 // connections open now
	previous  [numKinds]int64        // bytes from earlier runs (journal); set before Run's workers
	prevConns [numKinds]int          // the record's connection counts of earlier runs (journal); likewise
}

// open notes a request starting on kind; peak concurrency is the count.
func (c *counters) open(k SourceKind) {
	n := c.active[k].Add(1)
	for {
		old := c.conns[k].Load()
		if n <= old || c.conns[k].CompareAndSwap(old, n) {
			return
		}
	}
}

func (c *counters) close(k SourceKind) { c.active[k].Add(-1) }

func (c *counters) bytesFrom(k SourceKind) int64 { return c.previous[k] + c.from[k].Load() }

// fill sets the byte and connection fields of s.
func (c *counters) fill(s *Status) {
	s.BytesFromCacheServer = c.bytesFrom(CacheServer)
	s.BytesFromHttp = c.bytesFrom(HTTP) + s.BytesFromCacheServer
	s.BytesFromLanPeers = c.bytesFrom(LanPeer)
	s.BytesFromGroupPeers = c.bytesFrom(GroupPeer)
	s.BytesFromInternetPeers = c.bytesFrom(InternetPeer)
	s.BytesFromPeers = s.BytesFromLanPeers + s.BytesFromGroupPeers + s.BytesFromInternetPeers
	s.TotalBytesDownloaded = s.BytesFromHttp + s.BytesFromPeers
	if s.TotalBytesDownloaded > 0 {
		s.PercentPeerCaching = float64(s.BytesFromPeers) * 100 / float64(s.TotalBytesDownloaded)
	}
	s.BytesToLanPeers = c.to[LanPeer].Load()
	s.BytesToGroupPeers = c.to[GroupPeer].Load()
	s.BytesToInternetPeers = c.to[InternetPeer].Load()
	s.HttpConnectionCount = c.connections(HTTP) + c.connections(CacheServer)
	s.LanConnectionCount = c.connections(LanPeer)
	s.GroupConnectionCount = c.connections(GroupPeer)
	s.InternetConnectionCount = c.connections(InternetPeer)
}

// connections is the connection count of kind k for the record, over
// the whole download as the byte counts are: the larger of this Job's
// count and the earlier runs' (journal, which records what this returns).
//
// This Job's count is its peak of requests open at once on k: how many
// connections (HTTP) or sources (peers) it used side by side, not how
// often it connected (a connection cut and made again is not counted
// twice). Runs therefore do not add up: a resumed run connects to the
// same origin and peers again, not to more of them. Taking the larger
// also gives the same figure whether a download resumes in a second Run
// of the Job or from the journal in a new process.
//
// A peer kind that delivered nothing to this Job counts no connection of
// it: its requests went to a swarm that named no holder (answered at
// once, without a peer), and DO counts the peers that served. Bytes from
// earlier runs with no connection beside them (a journal older than its
// connection counts; "already complete": BytesFromHttp 960,
// HttpConnectionCount 0) would contradict each other: they count one,
// the least those bytes took and, for a file found complete, the one
// request this run made (Stat's one byte, which is not counted as
// downloaded).
func (c *counters) connections(k SourceKind) int {
	n := int(c.conns[k].Load())
	if k.IsPeer() && c.from[k].Load() == 0 {
		n = 0
	}
	n = max(n, c.prevConns[k], 0)
	if n == 0 && c.previous[k] > 0 {
		return 1
	}
	return n
}
