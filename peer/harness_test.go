package peer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service"
)

const testPiece = 64 << 10

// testFile is generated content with its piece hashes.
type testFile struct {
	id     string
	data   []byte
	hashes [][32]byte
}

func newTestFile(t testing.TB, size int, seed uint64) *testFile {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	f := &testFile{id: "intunewin-bin_00000000-0000-4000-8000-000000000001_1", data: data}
	for off := 0; off < size; off += testPiece {
		f.hashes = append(f.hashes, sha256.Sum256(data[off:min(off+testPiece, size)]))
	}
	return f
}

// origin serves the file with ranges and counts the bytes it sends.
type origin struct {
	*httptest.Server
	sent atomic.Int64
	down atomic.Bool
	pace *fetch.Pacer
}

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
	p *fetch.Pacer
	r *http.Request
}

func (c countingWriter) Write(b []byte) (int, error) {
	n, err := c.p.Writer(c.r.Context(), c.ResponseWriter).Write(b)
	c.n.Add(int64(n))
	return n, err
}

// newOrigin serves f at rate bytes per second over all connections (0: no cap).
func newOrigin(t testing.TB, f *testFile, rate int64) *origin {
	o := &origin{pace: fetch.NewPacer(rate, time.Now, nil)}
	mod := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o.down.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		http.ServeContent(countingWriter{w, &o.sent, o.pace, r}, r, "blob", mod, bytes.NewReader(f.data))
	}))
	t.Cleanup(o.Close)
	return o
}

// fakeArray types peers as the service does (LAN by LAN id, Group by
// GroupID, else Internet; both sides' modes must allow the type), and
// registers only peers that hold something.
type fakeArray struct {
	mu    sync.Mutex
	regs  map[string]imeapi.ArrayRequest
	calls atomic.Int64
}

func newFakeArray() *fakeArray { return &fakeArray{regs: map[string]imeapi.ArrayRequest{}} }

func (a *fakeArray) Array(ctx context.Context, req imeapi.ArrayRequest) (imeapi.ArrayResponse, error) {
	a.calls.Add(1)
	a.mu.Lock()
	defer a.mu.Unlock()
	holds := req.Complete
	for _, b := range req.Pieces {
		holds = holds || b != 0
	}
	sharing := func(m imeapi.DownloadMode) bool {
		return m == imeapi.ModeLAN || m == imeapi.ModeGroup || m == imeapi.ModeInternet
	}
	if holds && sharing(req.DownloadMode) && req.Addr != "" {
		a.regs[req.PeerID] = req
	}
	resp := imeapi.ArrayResponse{DoFileID: req.DoFileID, Registered: holds, Peers: []imeapi.Peer{}}
	if !sharing(req.DownloadMode) {
		return resp, nil
	}
	allows := func(m imeapi.DownloadMode, typ string) bool {
		switch typ {
		case imeapi.PeerLAN:
			return true
		case imeapi.PeerGroup:
			return m == imeapi.ModeGroup || m == imeapi.ModeInternet
		}
		return m == imeapi.ModeInternet
	}
	for id, x := range a.regs {
		if id == req.PeerID || x.DoFileID != req.DoFileID {
			continue
		}
		typ := imeapi.PeerInternet
		switch {
		case x.LanID == req.LanID:
			typ = imeapi.PeerLAN
		case x.GroupID != "" && x.GroupID == req.GroupID:
			typ = imeapi.PeerGroup
		}
		if allows(req.DownloadMode, typ) && allows(x.DownloadMode, typ) {
			resp.Peers = append(resp.Peers, imeapi.Peer{PeerID: id, Addr: x.Addr, Type: typ, Complete: x.Complete, Pieces: x.Pieces})
		}
	}
	return resp, nil
}

// node is one test agent: a DO cache, a piece server, its config.
type node struct {
	name   string
	root   string
	cache  *Cache
	srv    *Server
	addr   string
	lan    string
	group  string
	mode   imeapi.DownloadMode
	result Result
	err    error
	logf   func(string, ...any)
}

func newNode(t testing.TB, name, lan, group string, mode imeapi.DownloadMode, tamper func(string, int, []byte)) *node {
	t.Helper()
	root := t.TempDir()
	c, err := OpenCache(filepath.Join(root, "DOCache"), CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(ServerConfig{Cache: c, Tamper: tamper, MaxWait: 5 * time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = c.Close()
	})
	if err := os.MkdirAll(filepath.Join(root, "Incoming"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &node{name: name, root: root, cache: c, srv: srv, addr: ln.Addr().String(), lan: lan, group: group, mode: mode}
}

func (n *node) path() string { return filepath.Join(n.root, "Incoming", "app_1.bin") }

// download runs one Download of f from o for n, with test timings.
func (n *node) download(ctx context.Context, f *testFile, o *origin, arr ArrayClient, cacheHost string) {
	info := imeapi.ContentInfo{UploadLocation: o.URL + "/blob", DoFileID: f.id, Size: int64(len(f.data)), PieceSize: testPiece}
	n.result, n.err = Download(ctx, DownloadConfig{
		Info: info, Hashes: f.hashes, Path: n.path(), Cache: n.cache, Mode: n.mode,
		PeerID: n.name, PeerAddr: n.addr, LanID: n.lan, GroupID: n.group, Array: arr, CacheHost: cacheHost,
		Options:         fetch.Options{Connections: 4, BanDuration: time.Minute, Retry: fetch.Retry{Attempts: 3, Backoff: func(int) time.Duration { return time.Millisecond }}},
		Logf:            n.logf,
		RefreshInterval: 20 * time.Millisecond, OwnerWait: 2 * time.Second, StallTimeout: 2 * time.Second, PeerBan: time.Minute,
	})
}

// verify checks n's file is f byte for byte.
func (n *node) verify(t testing.TB, f *testFile) {
	t.Helper()
	if n.err != nil {
		t.Fatalf("%s: %v", n.name, n.err)
	}
	got, err := os.ReadFile(n.path())
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(f.data) {
		t.Fatalf("%s: file differs", n.name)
	}
}

func infoOf(f *testFile, o *origin) imeapi.ContentInfo {
	return imeapi.ContentInfo{UploadLocation: o.URL + "/blob", DoFileID: f.id, Size: int64(len(f.data)), PieceSize: testPiece}
}

func ct2kind(typ string) fetch.SourceKind { k, _ := kindOf(typ); return k }

// newCoordArray is the service's own Array matching and back-to-source
// assignment, in process, for f.
func newCoordArray(f *testFile) *service.LocalArray {
	a := service.NewLocalArray(time.Minute, 0, time.Now)
	a.AddFile(f.id, len(f.hashes))
	return a
}
