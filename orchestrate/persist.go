package orchestrate

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/imepipe/imepipe/orchestrate/state"
	"github.com/imepipe/imepipe/service"
)

// persistFor says whether an app's content is kept after install: the
// agent-wide PersistContent, or "persistContent": true in the app.
func (a *Agent) persistFor(app service.Win32LobApp) bool {
	if a.cfg.PersistContent {
		return true
	}
	var on bool
	if raw, ok := app.Extra["persistContent"]; ok && json.Unmarshal(raw, &on) == nil {
		return on
	}
	return false
}

// persistedDir returns the kept IMECache folder of key, touching its LRU
// time ("" when none).
func (a *Agent) persistedDir(key string) string {
	list, err := a.store.Persisted()
	if err != nil {
		return ""
	}
	for _, p := range list {
		if p.Key == key && exists(p.Path) {
			p.LastUsed = a.cfg.Now()
			_ = a.store.PutPersisted(p)
			return p.Path
		}
	}
	return ""
}

// persist keeps dir for source resiliency and evicts the least recently
// used kept content beyond PersistMaxApps or PersistMaxBytes (including,
// last, this one when it alone is too large). Older revisions of the same
// app are dropped.
func (a *Agent) persist(t *tracer, key, dir string) {
	appID, _, _ := strings.Cut(key, "_")
	_ = a.store.PutPersisted(state.Persisted{Key: key, Path: dir, Size: dirSize(dir), LastUsed: a.cfg.Now()})
	t.info("[Win32App] Content of %s kept at %s for source resiliency", key, dir)
	list, err := a.store.Persisted()
	if err != nil {
		return
	}
	var total int64
	var keep []state.Persisted
	for _, p := range list {
		if p.Key != key && strings.HasPrefix(p.Key, appID+"_") {
			a.evict(t, p)
			continue
		}
		total += p.Size
		keep = append(keep, p)
	}
	for len(keep) > 0 && (len(keep) > a.cfg.PersistMaxApps || total > a.cfg.PersistMaxBytes) {
		victim := keep[0] // least recently used first
		total -= victim.Size
		keep = keep[1:]
		a.evict(t, victim)
	}
}

func (a *Agent) evict(t *tracer, p state.Persisted) {
	t.info("[Win32App] Evicting kept content %s (%d bytes)", p.Key, p.Size)
	_ = os.RemoveAll(p.Path)
	_ = a.store.DeletePersisted(p.Key)
}

// unpersist forgets kept content of key (after an uninstall).
func (a *Agent) unpersist(key string) { _ = a.store.DeletePersisted(key) }

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
