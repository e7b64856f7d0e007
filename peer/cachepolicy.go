package peer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/internal/clock"
)

// CachePolicy is the DO cache policy in force, as the agent wrote it into
// the cache folder (_policy.json) for `imepipe do status`, with DO's
// policy names.
type CachePolicy struct {
	// DOMaxCacheAge, in seconds.
	DOMaxCacheAge int64
	// DOMaxCacheSize, in percent of the disk (0: no percent cap).
	DOMaxCacheSize int
	// DOAbsoluteMaxCacheSize, in bytes (0: not set; when set it wins).
	DOAbsoluteMaxCacheSize int64
	// MaxCacheSizeBytes is the cap that applies (0: none); TotalDiskBytes
	// the size of the disk the percent is taken of (0: unknown).
	MaxCacheSizeBytes int64
	TotalDiskBytes    int64
}

func (o CacheOptions) withDefaults() CacheOptions {
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.MaxPercent == 0 {
		o.MaxPercent = DefaultMaxPercent
	}
	if o.DiskSize == nil {
		o.DiskSize = diskSize
	}
	if o.SaveInterval <= 0 {
		o.SaveInterval = DefaultSaveInterval
	}
	if o.CachingWindow <= 0 {
		o.CachingWindow = DefaultCachingWindow
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	return o
}

// workOutPolicy works out the size cap: MaxBytes, else MaxPercent of the disk.
func (c *Cache) workOutPolicy() CachePolicy {
	p := CachePolicy{DOMaxCacheAge: int64(c.opt.MaxAge / time.Second), DOAbsoluteMaxCacheSize: max(c.opt.MaxBytes, 0)}
	if c.opt.MaxPercent > 0 {
		p.DOMaxCacheSize = c.opt.MaxPercent
		if n, err := c.opt.DiskSize(c.dir); err == nil && n > 0 {
			p.TotalDiskBytes = n
		} else if c.opt.MaxBytes <= 0 {
			c.opt.Logf("peer: DO cache: disk size unknown (%v): no DOMaxCacheSize cap", err)
		}
	}
	switch {
	case p.DOAbsoluteMaxCacheSize > 0:
		p.MaxCacheSizeBytes = p.DOAbsoluteMaxCacheSize
	case p.TotalDiskBytes > 0:
		p.MaxCacheSizeBytes = p.TotalDiskBytes / 100 * int64(p.DOMaxCacheSize)
	}
	return p
}

// Policy is the cache policy in force.
func (c *Cache) Policy() CachePolicy { return c.policy }

// WritePolicy writes the policy in force into the folder (_policy.json),
// for ReadPolicy in another process; the agent does it when it opens its
// DO cache.
func (c *Cache) WritePolicy() error {
	data, err := json.MarshalIndent(c.policy, "", " ")
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	return writeRecord(filepath.Join(c.dir, policyFile), data)
}

// ReadPolicy reads the policy an agent wrote into the cache folder dir;
// false when none did.
func ReadPolicy(dir string) (CachePolicy, bool, error) {
	var p CachePolicy
	data, err := os.ReadFile(filepath.Join(dir, policyFile))
	if errors.Is(err, os.ErrNotExist) {
		return p, false, nil
	}
	if err != nil {
		return p, false, fmt.Errorf("peer: DO cache: %w", err)
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, false, fmt.Errorf("peer: DO cache: %s: %w", policyFile, err)
	}
	return p, true, nil
}

// pinned reports whether DoFileId id is pinned in the folder.
func (c *Cache) pinned(id string) bool { return isPinned(c.dir, id) }

func isPinned(dir, id string) bool {
	_, err := os.Stat(filepath.Join(dir, id+pinSuffix))
	return err == nil
}

// SetPinned pins DoFileId id in the DO cache folder dir (on) or unpins
// it, as Set-DeliveryOptimizationStatus -FileId id -Pin does: a pinned
// file is kept whatever its age and the size cap. It works whether or
// not an agent runs there (the agent looks again at its next save); the
// folder must hold a record of id (ErrUnknown otherwise).
func SetPinned(dir, id string, on bool) error {
	if err := CheckID(id); err != nil {
		return err
	}
	found := false
	for _, suffix := range []string{recordSuffix, statusSuffix} {
		if _, err := os.Stat(filepath.Join(dir, id+suffix)); err == nil {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("%w: no DO record of %s in %s", ErrUnknown, id, dir)
	}
	pin := filepath.Join(dir, id+pinSuffix)
	if !on {
		if err := os.Remove(pin); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("peer: DO cache: %w", err)
		}
		return nil
	}
	return writeRecord(pin, nil)
}

// refreshPins looks at every content's pin file again.
func (c *Cache) refreshPins() {
	for _, ct := range c.List() {
		p := c.pinned(ct.ID)
		ct.mu.Lock()
		ct.pinned = p
		ct.mu.Unlock()
	}
}

// Expire applies the cache policy: it removes content (and records
// without content) not used for MaxAge, then the least recently used
// content until the rest fits the size cap. Pinned files and content
// still downloading are never removed. It returns the DoFileIds removed.
func (c *Cache) Expire() ([]string, error) {
	c.refreshPins()
	now := c.opt.Clock.Now()
	var done []*Content
	var total int64
	for _, ct := range c.List() {
		ct.mu.Lock()
		if ct.complete {
			done = append(done, ct)
			total += ct.Size
		}
		ct.mu.Unlock()
	}
	sort.SliceStable(done, func(i, j int) bool { return lastUsed(done[i]).Before(lastUsed(done[j])) })
	limit := c.policy.MaxCacheSizeBytes
	var removed []string
	for _, ct := range done {
		ct.mu.Lock()
		pinned := ct.pinned
		ct.mu.Unlock()
		old := now.Sub(lastUsed(ct)) >= c.opt.MaxAge
		over := limit > 0 && total > limit
		if pinned || (!old && !over) {
			continue
		}
		if err := c.Remove(ct.ID); err != nil {
			return removed, err
		}
		total -= ct.Size
		removed = append(removed, ct.ID)
		c.opt.Logf("peer: DO cache: expired %s", ct.ID)
	}
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		return removed, fmt.Errorf("peer: DO cache: %w", err)
	}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), statusSuffix)
		if !ok || CheckID(id) != nil || c.pinned(id) {
			continue
		}
		r, err := readStatusRecord(filepath.Join(c.dir, e.Name()))
		if err == nil && now.Sub(r.Used) < c.opt.MaxAge {
			continue
		}
		if err := os.Remove(filepath.Join(c.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("peer: DO cache: %w", err)
		}
		removed = append(removed, id)
	}
	return removed, nil
}

func lastUsed(ct *Content) time.Time {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.used
}

// touch marks ct used, and being served to a peer, now.
func (c *Cache) touch(ct *Content) {
	now := c.opt.Clock.Now()
	ct.mu.Lock()
	ct.used, ct.served = now, now
	ct.mu.Unlock()
}

// Flush writes the record of every complete content whose DO figures
// (upload counters, Caching, pin) changed since it was last written.
func (c *Cache) Flush() error {
	c.refreshPins()
	var first error
	for _, ct := range c.List() {
		ct.mu.Lock()
		complete, saved, has := ct.complete, ct.saved, ct.hasSaved
		ct.mu.Unlock()
		if !complete || (has && ct.Status() == saved) {
			continue
		}
		if err := c.Save(ct); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Persist flushes the records (Flush) every SaveInterval on the cache's
// clock until ctx is done, so that `imepipe do status` in another
// process sees the counters while the agent runs; a file's record is so
// written at most once per SaveInterval.
func (c *Cache) Persist(ctx context.Context) {
	for {
		if err := c.Flush(); err != nil {
			c.opt.Logf("peer: DO cache: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-c.opt.Clock.After(c.opt.SaveInterval):
		}
	}
}

// Close saves every complete record (with upload counters; no longer
// Caching, as nothing serves it now) and closes the open files.
func (c *Cache) Close() error {
	var first error
	for _, ct := range c.List() {
		ct.mu.Lock()
		ct.served = time.Time{}
		ct.mu.Unlock()
		if err := c.Save(ct); err != nil && first == nil {
			first = err
		}
		ct.close()
	}
	return first
}

// statusRecord is a DO record without content (<id>.record): downloads
// in modes 0, 99 and 100, which keep nothing for peers.
type statusRecord struct {
	Used   time.Time    `json:"used"`
	Status fetch.Status `json:"status"`
}

func readStatusRecord(path string) (statusRecord, error) {
	var r statusRecord
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("peer: %s: %w", path, err)
	}
	return r, nil
}

// Record writes s as the DO record of a download the cache keeps no
// content of (modes 0, 99, 100: no peer is served), with ExpireOn from
// the cache policy and SourceURL without its query. Content the cache
// holds keeps its own record; s is then dropped.
func (c *Cache) Record(s fetch.Status) error {
	if err := CheckID(s.FileId); err != nil {
		return err
	}
	if _, ok := c.Get(s.FileId); ok {
		return nil
	}
	now := c.opt.Clock.Now()
	s.SourceURL = fetch.SourceURL(s.SourceURL)
	s.ExpireOn = fetch.DateTime(now.Add(c.opt.MaxAge))
	s.IsPinned = c.pinned(s.FileId)
	data, err := json.MarshalIndent(statusRecord{Used: now, Status: s}, "", " ")
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	return writeRecord(filepath.Join(c.dir, s.FileId+statusSuffix), data)
}

// ReadStatus reads the DO records of the cache folder dir without
// opening it for serving (for `imepipe do status`), by DoFileId: those
// of content the cache holds and those of downloads it keeps no content
// of. IsPinned is read from the pin files as they are now. A record that
// cannot be read (damaged, or not a record) is left out, as
// Get-DeliveryOptimizationStatus lists what it can; ReadStatusFunc names
// them.
func ReadStatus(dir string) ([]fetch.Status, error) { return ReadStatusFunc(dir, nil) }

// ReadStatusFunc is ReadStatus, calling skipped (when set) with the path
// of each record it left out and why (the file system's or the JSON
// decoder's error). A record removed while it ran (evicted) is left out
// without a call.
func ReadStatusFunc(dir string, skipped func(path string, err error)) ([]fetch.Status, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("peer: DO cache: %w", err)
	}
	var out []fetch.Status
	seen := map[string]bool{}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), recordSuffix)
		if !ok || CheckID(id) != nil {
			continue
		}
		r, err := readRecord(filepath.Join(dir, e.Name()))
		if err != nil {
			skip(skipped, filepath.Join(dir, e.Name()), err)
			continue
		}
		s := r.Status
		if s.FileId == "" {
			s.FileId, s.FileSize = r.ID, r.Size
		}
		s.IsPinned = isPinned(dir, r.ID)
		seen[r.ID] = true
		out = append(out, s)
	}
	for _, e := range ents {
		id, ok := strings.CutSuffix(e.Name(), statusSuffix)
		if !ok || CheckID(id) != nil || seen[id] {
			continue
		}
		r, err := readStatusRecord(filepath.Join(dir, e.Name()))
		if err != nil {
			skip(skipped, filepath.Join(dir, e.Name()), err)
			continue
		}
		s := r.Status
		s.FileId = id
		s.SourceURL = fetch.SourceURL(s.SourceURL)
		s.IsPinned = isPinned(dir, id)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FileId < out[j].FileId })
	return out, nil
}

// skip reports a record ReadStatusFunc left out, by its cause alone (the
// readers wrap JSON errors with the path): but not one that is gone.
func skip(skipped func(string, error), path string, err error) {
	if skipped == nil || errors.Is(err, fs.ErrNotExist) {
		return
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	} else if inner := errors.Unwrap(err); inner != nil {
		err = inner
	}
	skipped(path, err)
}
