package service

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

func BenchmarkDecodeApp(b *testing.B) {
	data, err := os.ReadFile("testdata/app-example.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		var g imeapi.Win32LobApp
		if err := json.Unmarshal(data, &g); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeApp(b *testing.B) {
	data, err := os.ReadFile("testdata/app-example.json")
	if err != nil {
		b.Fatal(err)
	}
	var g imeapi.Win32LobApp
	if err := json.Unmarshal(data, &g); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := json.Marshal(g); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkContentInfo measures one content info request through the
// handler (token lookup, envelope cache, URL signing, JSON).
func BenchmarkContentInfo(b *testing.B) {
	e := newEnv(b)
	c, _ := e.enroll(b, "pc")
	app := e.apps["desktopinfo.intunewin"]
	body := []byte(`{"appId":"` + app.ID + `","version":"1"}`)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/contentinfo", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.Token)
		rec := httptest.NewRecorder()
		e.srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("HTTP %d", rec.Code)
		}
	}
}

// BenchmarkBlob downloads a blob over loopback.
func BenchmarkBlob(b *testing.B) {
	e := newEnv(b)
	c, _ := e.enroll(b, "pc")
	app := e.apps["desktopinfo.intunewin"]
	ci, err := c.ContentInfo(context.Background(), app.ID, app.Version)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(ci.ContentInfo.Size)
	for b.Loop() {
		resp, err := e.ts.Client().Get(ci.ContentInfo.UploadLocation)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if n != ci.ContentInfo.Size {
			b.Fatalf("%d bytes", n)
		}
	}
}
