package service

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/fixtures"
)

// TestGUIDCase: a second app folder whose id differs from the first only
// in case is refused with an error naming both folders; lookups by id,
// DoFileId and report appId match in any case.
func TestGUIDCase(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	g := testApp(0xabc, "first", "install.ps1")
	g.ID = "0000000a-000b-400c-8d0e-00000000abcd"
	writeAppDir(t, apps, "a-first", g, nil, fixtures.Path(t, "7zip.intunewin"))
	g2 := testApp(0xabc, "second", "install.ps1")
	g2.ID = strings.ToUpper(g.ID)
	writeAppDir(t, apps, "b-second", g2, nil, fixtures.Path(t, "desktopinfo.intunewin"))
	e := &env{clock: newClock(), logs: &logSink{}, apps: map[string]imeapi.Win32LobApp{}}
	e.cfg = Config{AppsDir: apps, DataDir: filepath.Join(root, "data"), Now: e.clock.Now, Logf: e.logs.Logf}
	e.start(t)
	if got := e.srv.Apps(); len(got) != 1 || got[0].DisplayName != "first" {
		t.Fatalf("served %+v, want only first", got)
	}
	sk := e.srv.Skipped()
	if len(sk) != 1 || filepath.Base(sk[0].Dir) != "b-second" || sk[0].Field != "id" ||
		!strings.Contains(sk[0].Error(), filepath.Join(apps, "a-first")) || !errors.Is(sk[0], ErrApp) {
		t.Fatalf("skipped %v, want b-second refused naming a-first", sk)
	}
	ctx := context.Background()
	c, _ := e.enroll(t, "pc")
	ci, err := c.ContentInfo(ctx, strings.ToUpper(g.ID), g.Version)
	if err != nil || ci.ContentInfo.DoFileID != imeapi.DoFileID(g.ID, g.Version) {
		t.Fatalf("contentinfo by upper-case id: %+v %v", ci.ContentInfo, err)
	}
	if _, err := c.PieceHashes(ctx, "/phf/"+imeapi.DoFileID(strings.ToUpper(g.ID), g.Version)); err != nil {
		t.Fatalf("phf by upper-case id: %v", err)
	}
	// The version stays case-sensitive.
	if _, err := c.PieceHashes(ctx, "/phf/"+imeapi.DoFileID(g.ID, "1X")); !errors.Is(err, imeapi.ErrNotFound) {
		t.Fatalf("phf of another version: %v", err)
	}
}

// TestDuplicateKeys: an object naming a key twice, at any depth and in
// any case, is found with its JSON path; distinct keys and repeated values are not.
func TestDuplicateKeys(t *testing.T) {
	cases := []struct{ in, path, key string }{
		{`{"id":"x","id":"y"}`, "id", "id"},
		{`{"displayName":"a","DisplayName":"b"}`, "DisplayName", "DisplayName"},
		{`{"rules":[{"path":"a","path":"b"}]}`, "rules[0].path", "path"},
		{`{"assignments":[{},{"target":{"groupId":"a","groupid":"b"}}]}`, "assignments[1].target.groupid", "groupid"},
		{`[[1],{"a":{"b":[{"c":1},{"c":2,"c":3}]}}]`, "[1].a.b[1].c", "c"},
		{`{"a":{"x":1},"b":{"x":1},"x":{"x":{}}}`, "", ""},
		{`{"rules":[{"path":"a"},{"path":"b"}],"k":"k","v":["k","k"]}`, "", ""},
		{`{"a":1,`, "", ""}, // malformed: the decoder's to report
	}
	for _, c := range cases {
		err := checkDuplicateKeys([]byte(c.in))
		var dk *dupKeyError
		if c.path == "" {
			if err != nil {
				t.Errorf("%s: %v, want none", c.in, err)
			}
			continue
		}
		if !errors.As(err, &dk) || dk.Path != c.path || dk.Key != c.key || dk.Offset > int64(len(c.in)) {
			t.Errorf("%s: %+v, want %s at %s", c.in, err, c.key, c.path)
		}
	}
}

// TestDuplicateKeyApp: an app.json that names a key twice is skipped with
// a load error giving the key, its path and where it is.
func TestDuplicateKeyApp(t *testing.T) {
	root := t.TempDir()
	apps := filepath.Join(root, "apps")
	g := testApp(1, "dup", "install.ps1")
	raw, err := g.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	// A second "fileOrFolderName" in rules[0], which would otherwise win.
	dup := strings.Replace(string(raw), `"fileOrFolderName":"x.exe"`, `"fileOrFolderName":"x.exe","fileOrFolderName":"evil.exe"`, 1)
	if dup == string(raw) {
		t.Fatalf("no fileOrFolderName in %s", raw)
	}
	writeAppDir(t, apps, "dup", g, []byte(dup), fixtures.Path(t, "7zip.intunewin"))
	srv, err := NewContext(context.Background(), Config{AppsDir: apps, DataDir: filepath.Join(root, "data")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sk := srv.Skipped()
	if len(srv.Apps()) != 0 || len(sk) != 1 || sk[0].Field != "rules[0].fileOrFolderName" ||
		!strings.Contains(sk[0].Error(), `key "fileOrFolderName" appears twice (line 1, column`) {
		t.Fatalf("served %d, skipped %v", len(srv.Apps()), sk)
	}
}

func FuzzDuplicateKeys(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.json")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add([]byte(strings.Replace(string(data), `"id":`, `"id": "x", "ID":`, 1)))
	}
	f.Add([]byte(`{"a":[{"b":1,"b":2}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := checkDuplicateKeys(data)
		var dk *dupKeyError
		if err != nil && (!errors.As(err, &dk) || dk.Offset > int64(len(data)) || !strings.EqualFold(dk.Key, dk.First)) {
			t.Fatalf("bad report %+v", err)
		}
		if err != nil || !json.Valid(data) {
			return
		}
		// No duplicate: the same document through a map has none either,
		// and keeps every key.
		var v any
		if json.Unmarshal(data, &v) != nil {
			return
		}
		out, _ := json.Marshal(v)
		if err := checkDuplicateKeys(out); err != nil {
			t.Fatalf("re-encoded %s: %v", out, err)
		}
	})
}

// TestSlowBody: 50 connections that send headers and one byte of a body
// get 408 and are closed once BodyTimeout passes, not held (and 50 more
// whose handler never reads the body get their answer and are closed
// too); a body sent at once still works on the same server.
func TestSlowBody(t *testing.T) {
	e := newEnv(t)
	e.stop()
	e.cfg.BodyTimeout = 100 * time.Millisecond
	e.start(t)
	const n = 50
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- slowBody(e.ts.Listener.Addr().String(), "/api/v1/enroll", "408")
			// A handler that never reads the body (401 here): the server's
			// discard of it ends at the deadline too.
			errs <- slowBody(e.ts.Listener.Addr().String(), "/api/v1/reports", "401")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	d := time.Since(start)
	if d > 5*time.Second {
		t.Fatalf("%d slow bodies held %v", n, d)
	}
	t.Logf("%d stalled bodies answered (408, 401) and closed in %v (BodyTimeout %v)", 2*n, d.Round(time.Millisecond), e.cfg.BodyTimeout)
	c, _ := e.enroll(t, "pc")
	if _, err := c.Policies(context.Background()); err != nil {
		t.Fatalf("after the slow bodies: %v", err)
	}
}

// slowBody sends a request to path whose body stalls after one byte and
// expects status code and the connection closed, within a bound well
// above BodyTimeout.
func slowBody(addr, path, code string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"); err != nil {
		return err
	}
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil {
		return errors.New("no answer to a stalled body: " + err.Error())
	}
	if !strings.HasPrefix(line, "HTTP/1.1 "+code) {
		return errors.New(path + ": stalled body answered " + strings.TrimSpace(line) + ", want " + code)
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return errors.New(path + ": connection not closed after " + code + ": " + err.Error())
	}
	return nil
}

// BenchmarkDuplicateKeys: the key walk every app.json load pays, on the
// README example.
func BenchmarkDuplicateKeys(b *testing.B) {
	data, err := os.ReadFile("testdata/app-example.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := checkDuplicateKeys(data); err != nil {
			b.Fatal(err)
		}
	}
}
