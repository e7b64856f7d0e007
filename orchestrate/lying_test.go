package orchestrate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// lyingProxy sits between the agent and the real service (an on-path
// attacker on the plain-HTTP link): it forwards everything and lets a test
// rewrite the policies and content info the agent reads. It counts the
// bytes of blob bodies it forwards (what the origin served).
type lyingProxy struct {
	srv       *httptest.Server
	mu        sync.Mutex
	policy    func(*map[string]any) // edits each policy (nil: none)
	info      func(map[string]any)  // edits ContentInfo (nil: none)
	blobBytes atomic.Int64
	realID    string // the app id the content info request is rewritten to
}

// lie puts a lying proxy in front of h's service and reopens the agent
// through it (before its first sync, so it enrolls through the proxy).
func lie(t *testing.T, h *harness) *lyingProxy {
	t.Helper()
	target, err := url.Parse(h.http.URL)
	must(t, err)
	lp := &lyingProxy{}
	rp := httputil.NewSingleHostReverseProxy(target)
	direct := rp.Director
	rp.Director = func(r *http.Request) {
		direct(r)
		lp.mu.Lock()
		lying := lp.policy != nil
		lp.mu.Unlock()
		if r.URL.Path != "/api/v1/contentinfo" || !lying {
			return
		}
		// Ask the service for the real app, whatever the agent asks for:
		// the lie is served real content.
		body, _ := io.ReadAll(r.Body)
		var req imeapi.ContentInfoRequest
		_ = json.Unmarshal(body, &req)
		lp.mu.Lock()
		req.AppID, req.Version = lp.realID, "1"
		lp.mu.Unlock()
		body, _ = json.Marshal(req)
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", fmt.Sprint(len(body)))
	}
	rp.ModifyResponse = func(resp *http.Response) error {
		path := resp.Request.URL.Path
		lp.mu.Lock()
		pol, info := lp.policy, lp.info
		lp.mu.Unlock()
		switch {
		case strings.HasPrefix(path, "/blobs/"):
			resp.Body = countingBody{resp.Body, &lp.blobBytes}
			return nil
		case path == "/api/v1/policies" && pol != nil && resp.StatusCode == http.StatusOK:
			return rewrite(resp, func(m map[string]any) {
				for i, p := range m["policies"].([]any) {
					pm := p.(map[string]any)
					pol(&pm)
					m["policies"].([]any)[i] = pm
				}
			})
		case path == "/api/v1/contentinfo" && info != nil && resp.StatusCode == http.StatusOK:
			return rewrite(resp, func(m map[string]any) { info(m["ContentInfo"].(map[string]any)) })
		}
		return nil
	}
	lp.srv = httptest.NewServer(rp)
	t.Cleanup(lp.srv.Close)
	h.agent.Close()
	h.cfg.ServiceURL = lp.srv.URL
	h.open()
	return lp
}

func (lp *lyingProxy) set(policy func(*map[string]any), info func(map[string]any)) {
	lp.mu.Lock()
	lp.policy, lp.info = policy, info
	lp.mu.Unlock()
}

func rewrite(resp *http.Response, edit func(map[string]any)) error {
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		return err
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", fmt.Sprint(len(out)))
	return nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// snapshot lists every entry under dir except the subtree skip: path,
// type and mode, size, modification time and SHA-256 of regular files.
func snapshot(t *testing.T, dir, skip string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return fs.SkipDir
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		v := fmt.Sprintf("%v %d %d", fi.Mode(), fi.Size(), fi.ModTime().UnixNano())
		if fi.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(b)
			v += " " + hex.EncodeToString(sum[:])
		}
		out[p] = v
		return nil
	})
	must(t, err)
	return out
}

func diffSnapshots(before, after map[string]string) []string {
	var d []string
	for p, v := range before {
		if w, ok := after[p]; !ok {
			d = append(d, "removed "+p)
		} else if w != v {
			d = append(d, "changed "+p)
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			d = append(d, "created "+p)
		}
	}
	sort.Strings(d)
	return d
}

// TestLyingServiceIdentifiers is the acceptance test of issue #11 (1): an
// on-path attacker rewrites the policy's appId or version into
// traversal, absolute, drive-letter, over-long, empty, dot-only and
// control-character values. Nothing outside --root (a victim folder
// beside it, and its parent) is created, changed or removed; nothing is
// created in IMECache or Incoming; the app ends in an error state whose
// message names the bad field. The last row changes nothing and installs,
// so the proxy is proven to be on the path.
func TestLyingServiceIdentifiers(t *testing.T) {
	app := fileApp("Victim", "required")
	var box string
	h := newHarness(t, []testApp{app}, func(c *Config) {
		box = filepath.Join(filepath.Dir(c.Root), "box")
		c.Root = filepath.Join(box, "root")
	})
	for _, v := range []string{"victim", "victim_1", app.id() + "_1", "x"} {
		must(t, os.MkdirAll(filepath.Join(box, v, "sub"), 0o755))
		must(t, os.WriteFile(filepath.Join(box, v, "keep.txt"), []byte("precious "+v), 0o644))
		must(t, os.WriteFile(filepath.Join(box, v, "sub", "install.sh"), []byte("#!/bin/sh\n"), 0o755))
	}
	must(t, os.WriteFile(filepath.Join(box, "victim.bin"), []byte("precious"), 0o644))
	lp := lie(t, h)
	lp.realID = app.id()
	long := strings.Repeat("9", 65)
	kb4 := strings.Repeat("A", 4096)
	cases := []struct {
		name, field, value string
	}{
		{"version traversal", "version", "1/../../../victim"},
		{"version traversal to the key", "version", "1/../../../" + app.id() + "_1"},
		{"version backslash traversal", "version", `1\..\..\..\victim`},
		{"version absolute", "version", filepath.Join(box, "victim")},
		{"version drive letter", "version", `C:\victim`},
		{"version 65 bytes", "version", long},
		{"version 4 KB", "version", kb4},
		{"version empty", "version", ""},
		{"version dot", "version", "."},
		{"version dotdot", "version", ".."},
		{"version trailing dot", "version", "1."},
		{"version NUL", "version", "1\x00"},
		{"version newline", "version", "1\n"},
		{"version ESC", "version", "1\x1b[2J"},
		{"appId traversal", "appId", "../../victim"},
		{"appId absolute", "appId", filepath.Join(box, "victim")},
		{"appId drive letter", "appId", `C:\victim`},
		{"appId 4 KB", "appId", kb4},
		{"appId GUID plus traversal", "appId", app.id() + "/../../../x"},
		{"appId empty", "appId", ""},
		{"appId dot", "appId", "."},
		{"appId dotdot", "appId", ".."},
		{"appId NUL", "appId", app.id()[:35] + "\x00"},
		{"appId control", "appId", "\x1b]0;pwned\x07"},
	}
	outside := snapshot(t, box, h.cfg.Root)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lp.set(func(p *map[string]any) { (*p)[c.field] = c.value }, nil)
			before := len(strings.Split(h.log(), "Refusing the policy"))
			h.sync()
			if d := diffSnapshots(outside, snapshot(t, box, h.cfg.Root)); len(d) > 0 {
				t.Fatalf("outside --root: %v", d)
			}
			for _, dir := range []string{h.agent.layout.IMECache, h.agent.layout.Incoming} {
				if ents, _ := os.ReadDir(dir); len(ents) != 0 {
					t.Fatalf("%s holds %v", dir, ents)
				}
			}
			p := map[string]any{"appId": app.id(), "version": "1"}
			p[c.field] = c.value
			key := refusedKey(policyOf(p))
			ap, err := h.agent.store.App(state.DeviceUser, key)
			must(t, err)
			if ap.Enforcement == nil || ap.Enforcement.EnforcementState != imeapi.EnforcementError {
				t.Fatalf("state %q: %+v", key, ap.Enforcement)
			}
			if msg := ap.Enforcement.ErrorMessage; !strings.Contains(msg, "policy "+c.field+" ") || len(msg) > 300 || strings.ContainsAny(msg, "\x00\x1b\n") {
				t.Fatalf("error message %q does not name %s (or is raw/unbounded)", msg, c.field)
			}
			if n := len(strings.Split(h.log(), "Refusing the policy")) - before; n != 1 {
				t.Fatalf("refusal logged %d times", n)
			}
			if strings.ContainsAny(h.log(), "\x00\x1b") {
				t.Fatal("a control character reached the log")
			}
			// The same lie at the next sync is not logged again.
			h.sync()
			if n := len(strings.Split(h.log(), "Refusing the policy")) - before; n != 1 {
				t.Fatalf("refusal logged %d times after two syncs", n)
			}
		})
	}
	t.Run("honest", func(t *testing.T) {
		lp.set(nil, nil)
		h.sync()
		h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
		if lp.blobBytes.Load() == 0 {
			t.Fatal("the content did not come through the proxy")
		}
		if d := diffSnapshots(outside, snapshot(t, box, h.cfg.Root)); len(d) > 0 {
			t.Fatalf("outside --root: %v", d)
		}
	})
}

func policyOf(m map[string]any) imeapi.Policy {
	return imeapi.Policy{AppID: m["appId"].(string), Version: m["version"].(string)}
}

// TestLyingServiceDoFileId: a content info whose DoFileId would name a
// file outside the DO cache ("../../x") is refused before any path is
// built from it, with and without peering; the app ends in an error
// state naming DoFileId.
func TestLyingServiceDoFileId(t *testing.T) {
	for _, peering := range []bool{false, true} {
		t.Run(fmt.Sprintf("peering=%v", peering), func(t *testing.T) {
			app := fileApp("DoLie", "required")
			h := newHarness(t, []testApp{app}, func(c *Config) {
				c.Root = filepath.Join(filepath.Dir(c.Root), "box", "root")
				if peering {
					c.PeerAddr = "127.0.0.1:0"
				}
			})
			box := filepath.Dir(h.cfg.Root)
			must(t, os.MkdirAll(filepath.Join(box, "x"), 0o755))
			lp := lie(t, h)
			outside := snapshot(t, box, h.cfg.Root)
			for _, id := range []string{"../../x", "../x.content", "/x", "", ".hidden", `..\x`} {
				lp.set(nil, func(ci map[string]any) { ci["DoFileId"] = id })
				h.sync()
				ap := h.app(app.id())
				if ap.Enforcement == nil || ap.Enforcement.EnforcementState != imeapi.EnforcementError || !strings.Contains(ap.Enforcement.ErrorMessage, "DoFileId") {
					t.Fatalf("DoFileId %q: state %+v", id, ap.Enforcement)
				}
				if d := diffSnapshots(outside, snapshot(t, box, h.cfg.Root)); len(d) > 0 {
					t.Fatalf("DoFileId %q: outside --root: %v", id, d)
				}
				if ents, _ := os.ReadDir(h.agent.layout.DOCache); len(ents) != 1 || ents[0].Name() != "_policy.json" {
					t.Fatalf("DoFileId %q: DOCache holds %v, want only the agent's _policy.json", id, ents)
				}
				_, _ = h.agent.ResetGRS(context.Background(), app.id())
			}
		})
	}
}
