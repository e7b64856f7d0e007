package orchestrate

import (
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clocktest"
	"github.com/imepipe/imepipe/peer"
)

// waitSavers returns once n DO record savers (peer.Cache.Persist) wait
// on clk, that is, once each finished its save; bounded.
func waitSavers(t *testing.T, clk *clocktest.Clock, n int) {
	t.Helper()
	for i := 0; clk.Waiters() < n; i++ {
		if i > 10_000_000 {
			t.Fatalf("%d savers wait on the DO clock, want %d", clk.Waiters(), n)
		}
		runtime.Gosched()
	}
}

// TestDORecordsLiveWhileServing (acceptance 3, the agent's side): while
// agent A still runs and serves B, A's DO record on disk — what `imepipe
// do status` reads from another process — shows Caching and the bytes
// sent to B as a LAN peer after the next save (one SaveInterval of the
// injected DO clock); Complete once CachingWindow passes without an
// upload, and after Close, with the counters kept.
func TestDORecordsLiveWhileServing(t *testing.T) {
	payload := make([]byte, 3<<20)
	_, _ = rand.NewChaCha8([32]byte{21}).Read(payload)
	app := fileApp("Live", "required").script("payload.bin", string(payload))
	doClk := clocktest.New(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	h := newHarness(t, []testApp{app}, func(c *Config) {
		c.DownloadMode, c.PeerAddr = new(imeapi.ModeLAN), "127.0.0.1:0"
		c.DOCache.Clock = doClk
	})
	h.sync()
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	lan := httptest.NewServer(h.srv)
	t.Cleanup(lan.Close)
	b := peerAgent(t, h, "pc-b", lan.URL, imeapi.ModeLAN)
	if err := b.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	if do := doRecord(t, b, app.id()); do.BytesFromLanPeers == 0 {
		t.Fatalf("B took nothing from A: %+v", do)
	}
	read := func() fetch.Status {
		t.Helper()
		recs, err := peer.ReadStatus(h.agent.layout.DOCache)
		if err != nil || len(recs) != 1 {
			t.Fatalf("A's DO records %+v (%v)", recs, err)
		}
		return recs[0]
	}
	waitSavers(t, doClk, 2) // A's and B's
	doClk.Advance(peer.DefaultSaveInterval)
	waitSavers(t, doClk, 2)
	s := read()
	if s.Status != imeapi.DOCaching || s.BytesToLanPeers == 0 || s.PredefinedCallerApplication != DefaultCaller ||
		time.Time(s.ExpireOn).Before(doClk.Now()) || s.IsPinned || strings.Contains(s.SourceURL, "?") {
		t.Fatalf("A's record while it serves: %+v, want Caching, BytesToLanPeers > 0, caller, ExpireOn ahead", s)
	}
	sent := s.BytesToLanPeers
	doClk.Advance(peer.DefaultCachingWindow)
	waitSavers(t, doClk, 2)
	if s := read(); s.Status != imeapi.DOComplete || s.BytesToLanPeers != sent {
		t.Fatalf("A's record once idle: %+v, want Complete with %d bytes sent", s, sent)
	}
	must(t, h.agent.Close())
	if s := read(); s.Status != imeapi.DOComplete || s.BytesToLanPeers != sent {
		t.Fatalf("A's record after Close: %+v", s)
	}
}

// TestDORecordsInEveryMode: modes 99 and 100 (like 0, see
// TestPeersShareContentOnLAN) leave a DO record with their mode, the
// whole file from HTTP, no peers and SourceURL without its query.
func TestDORecordsInEveryMode(t *testing.T) {
	payload := make([]byte, 1<<20)
	_, _ = rand.NewChaCha8([32]byte{22}).Read(payload)
	app := fileApp("Modes", "required").script("payload.bin", string(payload))
	h := newHarness(t, []testApp{app}, nil)
	lan := httptest.NewServer(h.srv)
	t.Cleanup(lan.Close)
	for _, m := range []imeapi.DownloadMode{imeapi.ModeSimple, imeapi.ModeBypass} {
		a := peerAgent(t, h, "pc-"+m.String(), lan.URL, m)
		must(t, a.Sync(context.Background()))
		do := doRecord(t, a, app.id())
		recs, err := peer.ReadStatus(a.layout.DOCache)
		if err != nil || len(recs) != 1 {
			t.Fatalf("mode %d: records %+v (%v)", m, recs, err)
		}
		r := recs[0]
		if r.DownloadMode != m || r.FileId != do.FileId || r.BytesFromHttp != r.FileSize || r.FileSize == 0 || r.NumPeers != 0 ||
			r.BytesFromPeers != 0 || strings.Contains(r.SourceURL, "?") || r.SourceURL == "" || r.PredefinedCallerApplication != DefaultCaller {
			t.Errorf("mode %d: record %+v", m, r)
		}
	}
}
