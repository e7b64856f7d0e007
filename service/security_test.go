package service

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/imeapi"
)

func TestUnauthorized(t *testing.T) {
	e := newEnv(t)
	app := e.apps["7zip.intunewin"]
	endpoints := []struct{ method, path, body string }{
		{"GET", "/api/v1/policies", ""},
		{"POST", "/api/v1/contentinfo", `{"appId":"` + app.ID + `","version":"1"}`},
		{"POST", "/api/v1/reports", `{"reports":[{"appId":"` + app.ID + `","enforcementState":1000}]}`},
		{"GET", "/api/v1/status", ""},
		{"GET", "/phf/" + imeapi.DoFileID(app.ID, app.Version), ""},
		{"POST", "/do/v1/array", `{"doFileId":"` + imeapi.DoFileID(app.ID, app.Version) + `","peerId":"p","downloadMode":1}`},
	}
	headers := map[string]string{
		"no token":      "",
		"bad token":     "Bearer " + base64.RawURLEncoding.EncodeToString(make([]byte, 32)),
		"not bearer":    "Basic dXNlcjpwYXNz",
		"empty bearer":  "Bearer ",
		"huge token":    "Bearer " + strings.Repeat("A", 5000),
		"secret as tok": "Bearer " + e.secret,
	}
	for _, ep := range endpoints {
		for name, h := range headers {
			t.Run(ep.path+"/"+name, func(t *testing.T) {
				req, _ := http.NewRequest(ep.method, e.ts.URL+ep.path, strings.NewReader(ep.body))
				if h != "" {
					req.Header.Set("Authorization", h)
				}
				code, body := e.do(t, req)
				if code != http.StatusUnauthorized {
					t.Fatalf("HTTP %d %s, want 401", code, body)
				}
			})
		}
	}
	// A wrong enrollment secret is refused too.
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	_, err := e.client().Enroll(context.Background(), "pc", "wrong-secret-wrong-secret", priv.PublicKey())
	if !errors.Is(err, imeapi.ErrUnauthorized) {
		t.Fatalf("enroll with a wrong secret: %v, want ErrUnauthorized", err)
	}
}

func TestStatusIsolation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, _ := e.enroll(t, "pc-a")
	b, _ := e.enroll(t, "pc-b")
	app := e.apps["7zip.intunewin"]
	if err := b.Report(ctx, imeapi.Report{AppID: app.ID, Version: "1", EnforcementState: imeapi.EnforcementSuccess, ComplianceState: imeapi.ComplianceInstalled}); err != nil {
		t.Fatal(err)
	}
	// A's own view holds only A.
	st, err := a.Status(ctx)
	if err != nil || len(st.Devices) != 1 || st.Devices[0].DeviceID != a.DeviceID {
		t.Fatalf("A's status: %+v, %v", st, err)
	}
	for _, ap := range st.Devices[0].Apps {
		if ap.Report != nil {
			t.Fatalf("A sees a report it did not send: %+v", ap)
		}
	}
	// A asking for B is forbidden.
	code, body := e.get(t, "/api/v1/status?device="+b.DeviceID, a.Token)
	if code != http.StatusForbidden || bytes.Contains(body, []byte("pc-b")) {
		t.Fatalf("A reading B: HTTP %d %s, want 403", code, body)
	}
	// The admin sees both, and B's report.
	all, err := e.adminClient(t).Status(ctx)
	if err != nil || len(all.Devices) != 2 {
		t.Fatalf("admin status: %+v, %v", all, err)
	}
	code, body = e.get(t, "/api/v1/status?device="+b.DeviceID, e.adminClient(t).Token)
	if code != http.StatusOK || !bytes.Contains(body, []byte(`"enforcementState":1000`)) {
		t.Fatalf("admin reading B: HTTP %d %s", code, body)
	}
}

func TestBlobSignature(t *testing.T) {
	e := newEnv(t)
	c, _ := e.enroll(t, "pc")
	app := e.apps["7zip.intunewin"]
	other := e.apps["desktopinfo.intunewin"]
	ci, err := c.ContentInfo(context.Background(), app.ID, app.Version)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(ci.ContentInfo.UploadLocation)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sig, se := q.Get("sig"), q.Get("se")
	flipped := []byte(sig)
	flipped[3] ^= 1
	later, _ := time.Parse(time.RFC3339, "2099-01-01T00:00:00Z")
	cases := []struct {
		name, path string
		query      url.Values
		want       int
	}{
		{"valid", u.Path, q, 200},
		{"cacheHostOrigin added by MCC", u.Path, url.Values{"se": {se}, "sig": {sig}, "cacheHostOrigin": {"origin.example"}}, 200},
		{"no signature", u.Path, url.Values{}, 403},
		{"no expiry", u.Path, url.Values{"sig": {sig}}, 403},
		{"tampered signature", u.Path, url.Values{"se": {se}, "sig": {string(flipped)}}, 403},
		{"signature not base64", u.Path, url.Values{"se": {se}, "sig": {"!!!"}}, 403},
		{"extended expiry", u.Path, url.Values{"se": {strconv.FormatInt(later.Unix(), 10)}, "sig": {sig}}, 403},
		{"signature of another blob", "/blobs/" + BlobName(other.ID, other.Version), q, 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.get(t, tc.path+"?"+tc.query.Encode(), "")
			if code != tc.want {
				t.Fatalf("HTTP %d %s, want %d", code, body, tc.want)
			}
		})
	}
	// The same URL after its expiry: 403, and it says so.
	e.clock.Advance(time.Hour)
	code, body := e.get(t, u.Path+"?"+q.Encode(), "")
	if code != http.StatusForbidden || !bytes.Contains(body, []byte("expired")) {
		t.Fatalf("expired URL: HTTP %d %s, want 403 expired", code, body)
	}
}

func TestPathTraversal(t *testing.T) {
	e := newEnv(t)
	c, _ := e.enroll(t, "pc")
	app := e.apps["7zip.intunewin"]
	ci, err := c.ContentInfo(context.Background(), app.ID, app.Version)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(ci.ContentInfo.UploadLocation)
	q := "?" + u.RawQuery
	name := BlobName(app.ID, app.Version)
	paths := []string{
		"/blobs/../service.db" + q,
		"/blobs/..%2fservice.db" + q,
		"/blobs/..%2F..%2Fdata%2Fservice.db" + q,
		"/blobs/%2e%2e%2fservice.db" + q,
		"/blobs/" + name + ".json" + q,
		"/blobs/" + name + "%00" + q,
		"/blobs/..\\service.db" + q,
		"/blobs//" + name + q,
		"/blobs/x/../" + name + q,
		"/blobs/./" + name + q,
		"/phf/..%2f..%2fservice.db",
		"/phf/../../etc/passwd",
		"/phf/" + imeapi.DoFileID(app.ID, app.Version) + "%2f..",
		"/phf/%2e%2e",
		"/../../etc/passwd",
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, e.ts.URL+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Opaque = p // sent as written, not cleaned by the client
			req.URL.RawQuery = ""
			if i := strings.IndexByte(p, '?'); i >= 0 {
				req.URL.Opaque, req.URL.RawQuery = p[:i], p[i+1:]
			}
			req.Header.Set("Authorization", "Bearer "+c.Token)
			code, body := e.do(t, req)
			if code != http.StatusNotFound {
				t.Fatalf("HTTP %d %.100s, want 404", code, body)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	e := newEnv(t)
	c, _ := e.enroll(t, "pc")
	big := `{"deviceName":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
	for _, p := range []string{"/api/v1/enroll", "/api/v1/contentinfo", "/api/v1/reports", "/do/v1/array"} {
		req, _ := http.NewRequest(http.MethodPost, e.ts.URL+p, strings.NewReader(big))
		req.Header.Set("Authorization", "Bearer "+c.Token)
		code, body := e.do(t, req)
		if code != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s: HTTP %d %.200s, want 413", p, code, body)
		}
	}
}

func TestMalformedJSON(t *testing.T) {
	e := newEnv(t)
	c, _ := e.enroll(t, "pc")
	app := e.apps["7zip.intunewin"]
	doFile := imeapi.DoFileID(app.ID, app.Version)
	cases := []struct {
		name, path, body, field, msg string
	}{
		{"syntax", "/api/v1/contentinfo", `{"appId": "x",,}`, "", "line 1"},
		{"truncated", "/api/v1/contentinfo", `{"appId": "x"`, "", "malformed JSON"},
		{"empty", "/api/v1/contentinfo", ``, "", "empty"},
		{"trailing", "/api/v1/contentinfo", `{"appId":"x"} {}`, "", "after"},
		{"appId a number", "/api/v1/contentinfo", `{"appId": 5, "version": "1"}`, "appId", "appId"},
		{"appId missing", "/api/v1/contentinfo", `{"version": "1", "unknownField": true}`, "appId", "appId"},
		{"mode a string", "/do/v1/array", `{"doFileId":"` + doFile + `","peerId":"p","downloadMode":"1"}`, "downloadMode", "downloadMode"},
		{"bad mode", "/do/v1/array", `{"doFileId":"` + doFile + `","peerId":"p","downloadMode":7}`, "downloadMode", "downloadMode"},
		{"pieces not base64", "/do/v1/array", `{"doFileId":"` + doFile + `","peerId":"p","downloadMode":1,"pieces":"%%%"}`, "", "malformed"},
		{"bad addr", "/do/v1/array", `{"doFileId":"` + doFile + `","peerId":"p","downloadMode":1,"addr":"nohostport"}`, "addr", "addr"},
		{"report state", "/api/v1/reports", `{"reports":[{"appId":"` + app.ID + `","enforcementState":1234}]}`, "reports[0].enforcementState", "enforcementState"},
		{"report state type", "/api/v1/reports", `{"reports":[{"appId":"` + app.ID + `","enforcementState":"ok"}]}`, "reports.enforcementState", "enforcementState"},
		{"report doStatus", "/api/v1/reports", `{"reports":[{"appId":"` + app.ID + `","enforcementState":1000,"doStatus":[1]}]}`, "reports[0].doStatus", "doStatus"},
		{"report unknown app", "/api/v1/reports", `{"reports":[{"appId":"nope","enforcementState":1000}]}`, "reports[0].appId", "appId"},
		{"enroll key", "/api/v1/enroll", `{"deviceName":"x","enrollmentSecret":"` + e.secret + `","publicKey":"AAAA"}`, "publicKey", "publicKey"},
		{"enroll groups type", "/api/v1/enroll", `{"deviceName":"x","groups":"g"}`, "groups", "groups"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Authorization", "Bearer "+c.Token)
			code, body := e.do(t, req)
			var eb imeapi.ErrorBody
			if code != http.StatusBadRequest || json.Unmarshal(body, &eb) != nil {
				t.Fatalf("HTTP %d %s, want 400 with a JSON error", code, body)
			}
			if eb.Field != tc.field || !strings.Contains(eb.Error, tc.msg) {
				t.Fatalf("error %+v, want field %q and a message with %q", eb, tc.field, tc.msg)
			}
		})
	}
}

// TestNoKeyLeak runs every endpoint over every fixture and asserts that no
// key material (base64 as in Detection.xml, hex, or raw bytes) appears in
// any response, header, log line, or file under the data folder.
func TestNoKeyLeak(t *testing.T) {
	e := newEnv(t, recordBodies)
	ctx := context.Background()
	c, priv := e.enroll(t, "pc")
	pol, err := c.Policies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pol.Policies {
		ci, err := c.ContentInfo(ctx, p.AppID, p.Version)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.OpenDecryptInfo(priv, ci.DecryptInfo); err != nil {
			t.Fatal(err)
		}
		download(t, e, ci.ContentInfo.UploadLocation, ci.ContentInfo.Size)
		if _, err := c.PieceHashes(ctx, ci.ContentInfo.PieceHashesURL); err != nil {
			t.Fatal(err)
		}
		e.get(t, "/blobs/"+BlobName(p.AppID, p.Version)+"?se=1&sig=AAAA", "")
		if _, err := c.Array(ctx, imeapi.ArrayRequest{DoFileID: ci.ContentInfo.DoFileID, PeerID: "p", Addr: ":7000", DownloadMode: imeapi.ModeLAN, Complete: true}); err != nil {
			t.Fatal(err)
		}
		if err := c.Report(ctx, imeapi.Report{AppID: p.AppID, Version: p.Version, EnforcementState: imeapi.EnforcementSuccess, ComplianceState: imeapi.ComplianceInstalled, DOStatus: json.RawMessage(`{"BytesFromHttp":10}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.adminClient(t).Status(ctx); err != nil {
		t.Fatal(err)
	}
	var disk bytes.Buffer
	filepath.WalkDir(e.cfg.DataDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".intunewin.bin") {
			b, _ := os.ReadFile(p)
			disk.Write(b)
		}
		return nil
	})
	e.mu.Lock()
	responses := e.bodies.Bytes()
	e.mu.Unlock()
	logs := e.logs.String()
	if !strings.Contains(logs, "device enrolled") || !strings.Contains(logs, "blob refused") {
		t.Fatalf("logs do not show the flow; the test would prove nothing:\n%s", logs)
	}
	checked := 0
	for _, f := range fixtureFiles(t) {
		pkg, fh, err := decrypt.OpenFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fh.Close()
		enc := pkg.Info.Encryption
		for name, v := range map[string]string{"EncryptionKey": enc.EncryptionKey, "MacKey": enc.MacKey,
			"InitializationVector": enc.InitializationVector, "Mac": enc.Mac, "FileDigest": enc.FileDigest} {
			raw, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				t.Fatal(err)
			}
			forms := map[string][]byte{"base64": []byte(v), "hex": []byte(hex.EncodeToString(raw)),
				"base64url": []byte(base64.RawURLEncoding.EncodeToString(raw))}
			if name == "EncryptionKey" || name == "MacKey" {
				forms["raw"] = raw // IV and Mac are, by design, the first bytes of the blob
			}
			for form, b := range forms {
				for where, hay := range map[string][]byte{"responses": responses, "logs": []byte(logs), "data folder": disk.Bytes()} {
					if bytes.Contains(hay, b) {
						t.Errorf("%s: %s (%s) found in %s", filepath.Base(f), name, form, where)
					}
					checked++
				}
			}
		}
	}
	if checked == 0 || len(responses) < 1000 {
		t.Fatalf("checked %d forms over %d response bytes", checked, len(responses))
	}
}
