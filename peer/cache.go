package peer

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/internal/atomicfile"
	"github.com/imepipe/imepipe/internal/privdir"
)

// Defaults of CacheOptions: DO's cache policy defaults (DOMaxCacheAge
// 259200 s, DOMaxCacheSize 20 % of the disk).
const (
	DefaultMaxAge     = 72 * time.Hour
	DefaultMaxPercent = 20
	// DefaultSaveInterval bounds how often one file's record is written
	// while its counters change; DefaultCachingWindow is how long after
	// its last upload to a peer a file still shows Caching.
	DefaultSaveInterval  = time.Second
	DefaultCachingWindow = 5 * time.Second
)

// File name suffixes in the DO cache folder, and the policy file (a
// name no DoFileId can take: it starts with "_").
const (
	dataSuffix   = ".content"
	recordSuffix = ".json"
	statusSuffix = ".record" // a record without content (modes 0, 99, 100)
	pinSuffix    = ".pin"    // the file is pinned
	policyFile   = "_policy.json"
)

// CacheOptions tune a Cache, as DO's cache policies do; the zero value
// is DO's defaults.
type CacheOptions struct {
	// MaxAge (DOMaxCacheAge) removes content not used for this long
	// (DefaultMaxAge); ExpireOn is the last use plus MaxAge.
	MaxAge time.Duration
	// MaxBytes (DOAbsoluteMaxCacheSize) caps the complete content kept,
	// the least recently used going first; when set it wins over
	// MaxPercent, as in DO.
	MaxBytes int64
	// MaxPercent (DOMaxCacheSize) caps it at this percent of the disk
	// holding the folder (0: DefaultMaxPercent; negative: no percent cap).
	MaxPercent int
	// DiskSize is the size of the disk holding the folder (nil: asked of
	// the file system; where it cannot say, no percent cap applies).
	DiskSize func(dir string) (int64, error)
	// SaveInterval (DefaultSaveInterval) and CachingWindow
	// (DefaultCachingWindow): see their defaults.
	SaveInterval  time.Duration
	CachingWindow time.Duration
	// Clock dates use and expiry (nil: the real clock).
	Clock Clock
	Logf  func(format string, args ...any)
}

// Cache is the DO cache folder (DOCache/): for every DoFileId a data file
// <id>.content (a hard link to the download where possible) and a record
// <id>.json with the piece hashes and the DO figures. Only complete
// content survives a restart; a download in progress is rebuilt by the
// next Download. Safe for concurrent use.
type Cache struct {
	dir    string
	opt    CacheOptions
	policy CachePolicy
	mu     sync.Mutex
	items  map[string]*Content
}

// OpenCache opens (creating) the DO cache folder dir and loads its
// complete content; leftovers of interrupted downloads are removed.
func OpenCache(dir string, opt CacheOptions) (*Cache, error) {
	opt = opt.withDefaults()
	if err := privdir.Make(dir); err != nil {
		return nil, fmt.Errorf("peer: DO cache: %w", err)
	}
	c := &Cache{dir: dir, opt: opt, items: map[string]*Content{}}
	c.policy = c.workOutPolicy()
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("peer: DO cache: %w", err)
	}
	for _, e := range ents {
		name := e.Name()
		id, ok := strings.CutSuffix(name, recordSuffix)
		if !ok || CheckID(id) != nil {
			continue
		}
		ct, err := c.load(id)
		if err != nil {
			opt.Logf("peer: DO cache: dropping %s: %v", id, err)
			_ = os.Remove(filepath.Join(dir, name))
			_ = os.Remove(c.dataPath(id))
			continue
		}
		c.items[id] = ct
	}
	// Data files without a record are leftovers of interrupted downloads.
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), dataSuffix); ok && c.items[id] == nil {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return c, nil
}

// Dir is the cache folder.
func (c *Cache) Dir() string { return c.dir }

func (c *Cache) dataPath(id string) string   { return filepath.Join(c.dir, id+dataSuffix) }
func (c *Cache) recordPath(id string) string { return filepath.Join(c.dir, id+recordSuffix) }

// record is the JSON kept beside each content file.
type record struct {
	ID        string       `json:"id"`
	Size      int64        `json:"size"`
	PieceSize int64        `json:"pieceSize"`
	Hashes    []string     `json:"hashes"`
	Complete  bool         `json:"complete"`
	Created   time.Time    `json:"created"`
	Used      time.Time    `json:"used"`
	Status    fetch.Status `json:"status"`
}

func readRecord(path string) (record, error) {
	var r record
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("peer: %s: %w", path, err)
	}
	r.Status.SourceURL = fetch.SourceURL(r.Status.SourceURL) // a record an older agent wrote
	return r, nil
}

func (c *Cache) load(id string) (*Content, error) {
	r, err := readRecord(c.recordPath(id))
	if err != nil {
		return nil, err
	}
	if r.ID != id || !r.Complete {
		return nil, fmt.Errorf("peer: record %s is not a complete %s", r.ID, id)
	}
	hashes, err := decodeHashes(r.Hashes)
	if err != nil {
		return nil, err
	}
	ct, err := newContent(id, r.Size, r.PieceSize, hashes)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(c.dataPath(id))
	if err != nil {
		return nil, err
	}
	if fi.Size() != r.Size {
		return nil, fmt.Errorf("peer: %s is %d bytes, want %d", id, fi.Size(), r.Size)
	}
	ct.path, ct.complete, ct.created, ct.used = c.dataPath(id), true, r.Created, r.Used
	for i := range hashes {
		ct.have.Set(i) // checked lazily, on first serve
	}
	ct.nhave = len(hashes)
	ct.cache, ct.pinned = c, c.pinned(id)
	ct.uploaded[0].Store(r.Status.BytesToLanPeers)
	ct.uploaded[1].Store(r.Status.BytesToGroupPeers)
	ct.uploaded[2].Store(r.Status.BytesToInternetPeers)
	ct.setStatus(r.Status)
	return ct, nil
}

func decodeHashes(hexes []string) ([][32]byte, error) {
	out := make([][32]byte, len(hexes))
	for i, h := range hexes {
		b, err := hex.DecodeString(h)
		if err != nil || len(b) != 32 {
			return nil, fmt.Errorf("%w: piece %d: %q", ErrHashes, i, h)
		}
		copy(out[i][:], b)
	}
	return out, nil
}

// Get returns the content with DoFileId id.
func (c *Cache) Get(id string) (*Content, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, ok := c.items[id]
	return ct, ok
}

// List returns every content, by DoFileId.
func (c *Cache) List() []*Content {
	c.mu.Lock()
	out := make([]*Content, 0, len(c.items))
	for _, ct := range c.items {
		out = append(out, ct)
	}
	c.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Begin starts caching content id while it downloads into target: target
// is created when absent and hard-linked as <id>.content (served from
// target itself where linking fails). Pieces become servable as the
// download marks them verified. Any earlier entry for id is replaced.
func (c *Cache) Begin(id string, size, pieceSize int64, hashes [][32]byte, target string) (*Content, error) {
	ct, err := newContent(id, size, pieceSize, hashes)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(target, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("peer: %w", err)
	}
	_ = f.Close()
	if err := c.Remove(id); err != nil {
		return nil, err
	}
	ct.path = c.dataPath(id)
	if err := os.Link(target, ct.path); err != nil {
		c.opt.Logf("peer: DO cache: cannot link %s (%v); serving it from %s", id, err, target)
		ct.path = target
	}
	now := c.opt.Clock.Now()
	ct.created, ct.used, ct.cache, ct.pinned = now, now, c, c.pinned(id)
	c.mu.Lock()
	c.items[id] = ct
	c.mu.Unlock()
	return ct, nil
}

// Finish records ct as complete with its download status s: the data
// file is made a full copy in the cache when it could not be linked, and
// the record is written.
func (c *Cache) Finish(ct *Content, s fetch.Status) error {
	ct.setStatus(s)
	ct.mu.Lock()
	path, dst := ct.path, c.dataPath(ct.ID)
	complete := ct.nhave == len(ct.hashes)
	ct.mu.Unlock()
	if !complete {
		return fmt.Errorf("peer: %s: %d pieces missing", ct.ID, ct.Missing())
	}
	if path != dst {
		if err := copyFile(path, dst); err != nil {
			return fmt.Errorf("peer: DO cache: %w", err)
		}
		ct.close()
		ct.mu.Lock()
		ct.path = dst
		ct.mu.Unlock()
	}
	ct.mu.Lock()
	ct.complete, ct.used = true, c.opt.Clock.Now()
	ct.mu.Unlock()
	return c.Save(ct)
}

// Save writes ct's record (complete content only), atomically.
func (c *Cache) Save(ct *Content) error {
	ct.mu.Lock()
	r := record{ID: ct.ID, Size: ct.Size, PieceSize: ct.PieceSize, Complete: ct.complete, Created: ct.created, Used: ct.used}
	ct.mu.Unlock()
	if !r.Complete {
		return nil
	}
	r.Status = ct.Status()
	r.Status.SourceURL = fetch.SourceURL(r.Status.SourceURL)
	ct.mu.Lock()
	ct.saved, ct.hasSaved = r.Status, true
	ct.mu.Unlock()
	r.Hashes = make([]string, len(ct.hashes))
	for i, h := range ct.hashes {
		r.Hashes[i] = hex.EncodeToString(h[:])
	}
	data, err := json.MarshalIndent(r, "", " ")
	if err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	return writeRecord(c.recordPath(ct.ID), data)
}

// Remove drops content id from the cache (a no-op when absent).
func (c *Cache) Remove(id string) error {
	if err := CheckID(id); err != nil {
		return err
	}
	c.mu.Lock()
	ct := c.items[id]
	delete(c.items, id)
	c.mu.Unlock()
	if ct != nil {
		ct.mu.Lock()
		ct.removed = true
		close(ct.changed)
		ct.changed = make(chan struct{})
		ct.mu.Unlock()
		ct.close()
	}
	for _, p := range []string{c.recordPath(id), c.dataPath(id)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("peer: DO cache: %w", err)
		}
	}
	return nil
}

// copyFile copies src to dst through a temporary file.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// writeRecord replaces path with data (mode 0600) whole: a record, a
// pin, the policy.
func writeRecord(path string, data []byte) error {
	if err := atomicfile.Write(path, data, 0o600); err != nil {
		return fmt.Errorf("peer: %w", err)
	}
	return nil
}
