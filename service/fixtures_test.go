package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/fixtures"
)

// TestFixturesEndToEnd loads every real fixture as an app and, for each,
// checks content info, blob and piece hash file end to end: download the
// blob, check every piece hash and the whole-file SHA-256, then verify the
// HMAC and FileDigest with the DecryptInfo the device opened.
func TestFixturesEndToEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var manifest map[string]json.RawMessage
	data, err := os.ReadFile(fixtures.Path(t, "MANIFEST.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &manifest); err != nil {
		t.Fatal(err)
	}
	if got, want := len(e.srv.Apps()), len(manifest); got != want {
		t.Fatalf("served %d apps, MANIFEST lists %d fixtures; skipped: %v", got, want, e.srv.Skipped())
	}
	c, priv := e.enroll(t, "pc-1")
	pol, err := c.Policies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pol.Policies) != len(manifest) {
		t.Fatalf("%d policies, want %d", len(pol.Policies), len(manifest))
	}
	for _, p := range pol.Policies {
		g, err := p.Win32LobApp()
		if err != nil {
			t.Fatal(err)
		}
		t.Run(g.DisplayName, func(t *testing.T) {
			if p.Intent != imeapi.IntentRequired || g.ID != p.AppID || g.InstallCommandLine == "" || len(g.Assignments) != 0 || g.Validate() != nil {
				t.Fatalf("policy %+v", p)
			}
			ci, err := c.ContentInfo(ctx, p.AppID, p.Version)
			if err != nil {
				t.Fatal(err)
			}
			info := ci.ContentInfo
			if info.DoFileID != imeapi.DoFileID(p.AppID, p.Version) || info.Size != p.ContentSize || info.PieceSize != PieceSize {
				t.Fatalf("content info %+v", info)
			}
			di, err := c.OpenDecryptInfo(priv, ci.DecryptInfo)
			if err != nil {
				t.Fatal(err)
			}
			keys, err := decrypt.KeysFromDecryptInfo(di, info.UnencryptedContentSize)
			if err != nil {
				t.Fatal(err)
			}
			blob := download(t, e, info.UploadLocation, info.Size)
			phf, err := c.PieceHashes(ctx, info.PieceHashesURL)
			if err != nil {
				t.Fatal(err)
			}
			checkPieces(t, blob, phf)
			if sum := sha256.Sum256(blob); hex.EncodeToString(sum[:]) != info.SHA256 || phf.SHA256 != info.SHA256 {
				t.Fatalf("blob SHA-256 %x, content info says %s, phf %s", sum, info.SHA256, phf.SHA256)
			}
			res, err := decrypt.Open(ctx, io.Discard, bytes.NewReader(blob), keys)
			if err != nil || !res.Verified() || res.PlainSize != info.UnencryptedContentSize {
				t.Fatalf("decrypt.Open: %+v, %v", res, err)
			}
			checkRange(t, e, info.UploadLocation, blob)
		})
	}
}

// download GETs a blob URL and checks its length.
func download(t *testing.T, e *env, url string, size int64) []byte {
	t.Helper()
	resp, err := e.ts.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET blob: %s", resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != size || resp.Header.Get("ETag") == "" || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("blob is %d bytes (want %d), headers %v", len(b), size, resp.Header)
	}
	return b
}

// checkPieces checks every piece of blob against the piece hash file.
func checkPieces(t *testing.T, blob []byte, phf imeapi.PieceHashes) {
	t.Helper()
	want := (int64(len(blob)) + phf.PieceSize - 1) / phf.PieceSize
	if int64(len(phf.Pieces)) != want || phf.Size != int64(len(blob)) {
		t.Fatalf("phf has %d pieces for %d bytes, want %d", len(phf.Pieces), len(blob), want)
	}
	for i, h := range phf.Pieces {
		end := min(int64(i+1)*phf.PieceSize, int64(len(blob)))
		sum := sha256.Sum256(blob[int64(i)*phf.PieceSize : end])
		if hex.EncodeToString(sum[:]) != h {
			t.Fatalf("piece %d: hash %x, phf %s", i, sum, h)
		}
	}
}

// checkRange asks for a middle range, then If-Range with a stale ETag.
func checkRange(t *testing.T, e *env, url string, blob []byte) {
	t.Helper()
	lo, hi := len(blob)/3, len(blob)/2
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", lo, hi))
	code, body := e.do(t, req)
	if code != http.StatusPartialContent || !bytes.Equal(body, blob[lo:hi+1]) {
		t.Fatalf("range: HTTP %d, %d bytes, want 206 and %d bytes", code, len(body), hi-lo+1)
	}
	req.Header.Set("If-Range", `"stale"`)
	code, body = e.do(t, req)
	if code != http.StatusOK || len(body) != len(blob) {
		t.Fatalf("If-Range with a stale ETag: HTTP %d, %d bytes, want the whole blob", code, len(body))
	}
	if !strings.Contains(url, "sig=") {
		t.Fatalf("UploadLocation %s is not signed", url)
	}
}
