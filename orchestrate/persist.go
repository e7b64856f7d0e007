package orchestrate

import (
	"encoding/json"
	"os"
	"strings"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/imelog"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// persistFor says whether an app's content is kept after install: the
// agent-wide PersistContent, or "persistContent": true in the app.
func (a *Agent) persistFor(app imeapi.Win32LobApp) bool {
	if a.cfg.PersistContent {
		return true
	}
	var on bool
	if raw, ok := app.Extra["persistContent"]; ok && json.Unmarshal(raw, &on) == nil {
		return on
	}
	return false
}

// keptDir returns the kept IMECache folder of key when it still matches
// the manifest written when it was kept, touching its LRU time ("" when
// none). Kept content that does not verify (a file edited, added,
// removed or replaced by a symlink, or a record without a manifest) is
// discarded with a warning, and the caller downloads again.
func (a *Agent) keptDir(t *tracer, key string) string {
	list, err := a.store.Persisted()
	if err != nil {
		return ""
	}
	for _, p := range list {
		if p.Key != key || !exists(p.Path) {
			continue
		}
		if !inside(a.layout.IMECache, p.Path) {
			t.log(imelog.PersistedOutside, key, p.Path, a.layout.IMECache)
			_ = a.store.DeletePersisted(p.Key)
			return ""
		}
		if err := verifyKept(p.Path, p.Files); err != nil {
			t.log(imelog.PersistedBad, p.Path, err)
			a.evict(t, p)
			return ""
		}
		t.log(imelog.PersistedOK, p.Path, len(p.Files))
		p.LastUsed = a.cfg.Clock.Now()
		_ = a.store.PutPersisted(p)
		return p.Path
	}
	return ""
}

// persist keeps dir for source resiliency and evicts the least recently
// used kept content beyond PersistMaxApps or PersistMaxBytes (including,
// last, this one when it alone is too large). Older revisions of the same
// app are dropped.
func (a *Agent) persist(t *tracer, key, dir string) {
	appID, _, _ := strings.Cut(key, "_")
	files, size, err := manifestOf(dir)
	if err != nil {
		t.log(imelog.PersistNotKept, key, err)
		_ = os.RemoveAll(dir)
		return
	}
	_ = a.store.PutPersisted(state.Persisted{Key: key, Path: dir, Size: size, LastUsed: a.cfg.Clock.Now(), Files: files})
	t.log(imelog.PersistKept, key, dir, len(files))
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
	t.log(imelog.PersistEvict, p.Key, p.Size)
	if inside(a.layout.IMECache, p.Path) {
		_ = os.RemoveAll(p.Path)
	}
	_ = a.store.DeletePersisted(p.Key)
}

// unpersist forgets kept content of key (after an uninstall).
func (a *Agent) unpersist(key string) { _ = a.store.DeletePersisted(key) }
