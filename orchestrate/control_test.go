package orchestrate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/orchestrate/state"
)

// TestControlSocket: while an agent holds state.db, Connect reaches it
// through agent.sock; after Close, Connect opens state.db itself.
func TestControlSocket(t *testing.T) {
	app := fileApp("Ctl", "available")
	h := newHarness(t, []testApp{app}, nil)
	ctx := context.Background()
	if _, err := New(Config{Root: h.cfg.Root}); !errors.Is(err, state.ErrLocked) {
		t.Fatalf("second agent on the same root: %v, want ErrLocked", err)
	}
	c, closer, err := Connect(ctx, h.cfg.Root, Config{})
	must(t, err)
	if _, ok := c.(*Remote); !ok {
		t.Fatalf("Connect gave %T, want *Remote", c)
	}
	must(t, c.SyncKind(ctx, SyncApp))
	st, err := c.Install(ctx, app.id())
	must(t, err)
	if st.EnforcementState != imeapi.EnforcementSuccess {
		t.Fatalf("remote install: %+v", st)
	}
	if _, err := c.Install(ctx, "nope"); !errors.Is(err, ErrUnknownApp) {
		t.Fatalf("remote unknown app: %v", err)
	}
	_, err = c.Reg(ctx, RegRequest{Action: "add", Key: `HKLM\SOFTWARE\X`, Value: "N", HasValue: true, Type: "REG_DWORD", Data: "0x10"})
	must(t, err)
	res, err := c.Reg(ctx, RegRequest{Action: "query", Key: `hklm\software\x`, Value: "n", HasValue: true})
	must(t, err)
	if len(res.Key.Values) != 1 || res.Key.Values[0].Data != "16" {
		t.Fatalf("remote reg query: %+v", res)
	}
	if _, err := c.Reg(ctx, RegRequest{Action: "query", Key: `HKLM\SOFTWARE\Missing`}); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("missing key: %v", err)
	}
	rs, err := c.Status(ctx)
	must(t, err)
	if !rs.AgentRunning || len(rs.Apps) != 1 || rs.Apps[0].Request != "install" {
		t.Fatalf("remote status: %+v", rs)
	}
	closer.Close()
	must(t, h.agent.Close())
	if _, err := os.Stat(filepath.Join(h.cfg.Root, "agent.sock")); !os.IsNotExist(err) {
		t.Fatal("socket left behind")
	}
	c, closer, err = Connect(ctx, h.cfg.Root, Config{})
	must(t, err)
	defer closer.Close()
	if _, ok := c.(*Agent); !ok {
		t.Fatalf("Connect without an agent gave %T", c)
	}
	off, err := c.Status(ctx)
	must(t, err)
	if off.AgentRunning || len(off.Apps) != 1 || off.Apps[0].EnforcementState != imeapi.EnforcementSuccess || off.DeviceID == "" {
		t.Fatalf("offline status: %+v", off)
	}
	n, err := c.ResetGRS(ctx, app.id())
	must(t, err)
	if n == 0 {
		t.Fatal("offline reset removed nothing")
	}
}

// TestPersistContentLRU: kept content survives install (source
// resiliency), is reused instead of a download, and is evicted least
// recently used first.
func TestPersistContentLRU(t *testing.T) {
	a1 := fileApp("Keep1", "required").with("persistContent", true)
	a2 := fileApp("Keep2", "required").with("persistContent", true)
	plain := fileApp("Plain", "required")
	h := newHarness(t, []testApp{a1, a2, plain}, func(c *Config) { c.PersistMaxApps = 1 })
	h.sync()
	st, err := h.agent.Status(context.Background())
	must(t, err)
	if len(st.Persisted) != 1 || st.Persisted[0].Key != a2.id()+"_1" {
		t.Fatalf("persisted %+v, want only the most recent (%s)", st.Persisted, a2.id())
	}
	if _, err := os.Stat(filepath.Join(h.agent.layout.IMECache, a2.id()+"_1", installerName())); err != nil {
		t.Fatalf("kept content missing: %v", err)
	}
	for _, gone := range []string{a1.id(), plain.id()} {
		if _, err := os.Stat(filepath.Join(h.agent.layout.IMECache, gone+"_1")); !os.IsNotExist(err) {
			t.Fatalf("%s not cleaned/evicted", gone)
		}
	}
	// Repair: the app disappears; the next sync reinstalls from kept content.
	must(t, os.Remove(h.programFiles("Keep2", "app.txt")))
	h.sync()
	h.wantState(a2.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if !strings.Contains(h.log(), "Using persisted content") {
		t.Fatal("kept content not reused")
	}
}
