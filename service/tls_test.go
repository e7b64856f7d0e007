package service

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// readTLSFiles returns the bytes of every generated file.
func readTLSFiles(t *testing.T, f TLSFiles) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, p := range []string{f.CA, f.CAKey, f.Cert, f.Key} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(p)] = b
	}
	return out
}

func leafOf(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func verifyFor(t *testing.T, files TLSFiles, host string) error {
	t.Helper()
	ca := leafOf(t, files.CA)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	_, err := leafOf(t, files.Cert).Verify(x509.VerifyOptions{DNSName: host, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

// TestServerTLSGenerateOnce: the first start writes a CA and a server
// certificate (ECDSA P-256, keys 0600) that verifies for the loopback
// names; the second start reuses every file byte for byte.
func TestServerTLSGenerateOnce(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	conf, files, err := ServerTLS(dir, "127.0.0.1:0", now)
	if err != nil {
		t.Fatal(err)
	}
	if conf.MinVersion != tls.VersionTLS12 || len(conf.Certificates) != 1 {
		t.Fatalf("config: min version %x, %d certificates", conf.MinVersion, len(conf.Certificates))
	}
	if files.CA != filepath.Join(dir, "ca.pem") {
		t.Fatalf("CA at %s", files.CA)
	}
	if runtime.GOOS != "windows" {
		for _, k := range []string{files.CAKey, files.Key} {
			fi, err := os.Stat(k)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s: %v %v, want mode 0600", k, fi.Mode(), err)
			}
		}
	}
	for _, h := range []string{"127.0.0.1", "::1", "localhost"} {
		if err := verifyFor(t, files, h); err != nil {
			t.Errorf("certificate for %s: %v", h, err)
		}
	}
	if err := verifyFor(t, files, "192.0.2.7"); err == nil {
		t.Error("certificate verifies for an address it was not made for")
	}
	leaf := leafOf(t, files.Cert)
	if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("server key %T, want ECDSA P-256", leaf.PublicKey)
	}
	if ca := leafOf(t, files.CA); !ca.IsCA || !ca.MaxPathLenZero {
		t.Fatalf("CA: IsCA %v MaxPathLenZero %v", ca.IsCA, ca.MaxPathLenZero)
	}
	first := readTLSFiles(t, files)
	if _, _, err := ServerTLS(dir, "127.0.0.1:0", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for name, b := range readTLSFiles(t, files) {
		if !bytes.Equal(b, first[name]) {
			t.Errorf("second start rewrote %s", name)
		}
	}
}

// TestServerTLSReissue: a new listen address, or a certificate near its
// end, gets a new server certificate from the same CA.
func TestServerTLSReissue(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	_, files, err := ServerTLS(dir, "127.0.0.1:8443", now)
	if err != nil {
		t.Fatal(err)
	}
	first := readTLSFiles(t, files)
	if _, _, err := ServerTLS(dir, "10.1.2.3:8443", now); err != nil {
		t.Fatal(err)
	}
	second := readTLSFiles(t, files)
	if !bytes.Equal(first[CAFile], second[CAFile]) || !bytes.Equal(first[CAKeyFile], second[CAKeyFile]) {
		t.Fatal("the CA changed")
	}
	if bytes.Equal(first[ServerCert], second[ServerCert]) {
		t.Fatal("the certificate was not issued again for 10.1.2.3")
	}
	if err := verifyFor(t, files, "10.1.2.3"); err != nil {
		t.Fatal(err)
	}
	late := now.Add(certLifetime - certRenewBefore/2)
	if _, _, err := ServerTLS(dir, "10.1.2.3:8443", late); err != nil {
		t.Fatal(err)
	}
	if leaf := leafOf(t, files.Cert); !leaf.NotAfter.After(late.Add(certRenewBefore)) {
		t.Fatalf("certificate near its end (%v) was kept", leaf.NotAfter)
	}
}

// TestServerTLSHalfCA: a ca.pem without its key is an error that names
// both and says what to do, without the sentinel's text, and the
// certificate is left as the user put it.
func TestServerTLSHalfCA(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, CAFile)
	os.WriteFile(ca, []byte("not mine to replace\n"), 0o644)
	_, _, err := ServerTLS(dir, "127.0.0.1:0", time.Now())
	want := "TLS CA key " + filepath.Join(dir, CAKeyFile) + ": no such file, but its CA " + ca +
		" is there: restore it, or remove both to generate a new CA (which agents must then trust)"
	if !errors.Is(err, imeapi.ErrTLS) || err.Error() != want {
		t.Fatalf("err %v, want ErrTLS and\n%s", err, want)
	}
	if b, _ := os.ReadFile(ca); string(b) != "not mine to replace\n" {
		t.Fatalf("ca.pem rewritten: %q", b)
	}
}

// TestClientTLSBadCAFile: a file with no certificate is refused.
func TestClientTLSBadCAFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(p, []byte("hello\n"), 0o644)
	if _, err := imeapi.ClientTLS(p); !errors.Is(err, imeapi.ErrTLS) {
		t.Fatalf("err %v", err)
	}
	if _, err := imeapi.ClientTLS(p + ".missing"); !errors.Is(err, imeapi.ErrTLS) {
		t.Fatalf("err %v", err)
	}
}

// startTLS serves e's server over HTTPS with the generated certificate.
func startTLS(t *testing.T, e *env) (string, TLSFiles) {
	t.Helper()
	conf, files, err := ServerTLS(e.cfg.DataDir, "127.0.0.1:0", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(e.srv)
	ts.TLS = conf
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts.URL, files
}

func clientFor(t *testing.T, url, caFile string) *imeapi.Client {
	t.Helper()
	conf, err := imeapi.ClientTLS(caFile)
	if err != nil {
		t.Fatal(err)
	}
	return imeapi.NewClient(url, &http.Client{Transport: &http.Transport{TLSClientConfig: conf}})
}

// TestTLSEndToEnd: with the right CA a device enrolls, reads policies and
// content info whose blob and piece-hash URLs are https, downloads the
// blob and its piece hashes, and reports.
func TestTLSEndToEnd(t *testing.T) {
	e := newEnv(t)
	url, files := startTLS(t, e)
	if !strings.HasPrefix(url, "https://127.0.0.1:") {
		t.Fatalf("url %s", url)
	}
	ctx := context.Background()
	c := clientFor(t, url, files.CA)
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	if _, err := c.Enroll(ctx, "pc-tls", e.secret, priv.PublicKey()); err != nil {
		t.Fatal(err)
	}
	pol, err := c.Policies(ctx)
	if err != nil || len(pol.Policies) == 0 {
		t.Fatalf("policies %v, %v", pol, err)
	}
	p := pol.Policies[0]
	ci, err := c.ContentInfo(ctx, p.AppID, p.Version)
	if err != nil {
		t.Fatal(err)
	}
	info := ci.ContentInfo
	for _, u := range []string{info.UploadLocation, info.PieceHashesURL} {
		if !strings.HasPrefix(u, url+"/") {
			t.Fatalf("URL %s does not follow the service's scheme and host %s", u, url)
		}
	}
	if _, err := c.OpenDecryptInfo(priv, ci.DecryptInfo); err != nil {
		t.Fatal(err)
	}
	phf, err := c.PieceHashes(ctx, info.PieceHashesURL)
	if err != nil || phf.SHA256 != info.SHA256 {
		t.Fatalf("piece hashes %v, %v", phf.SHA256, err)
	}
	resp, err := c.HTTP.Get(info.UploadLocation)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || n != info.Size {
		t.Fatalf("blob: %s, %d bytes, want %d", resp.Status, n, info.Size)
	}
	if err := c.Report(ctx, imeapi.Report{AppID: p.AppID, Version: p.Version, EnforcementState: imeapi.EnforcementSuccess, ComplianceState: imeapi.ComplianceInstalled}); err != nil {
		t.Fatal(err)
	}
}

// TestTLSUntrusted: without the CA the client refuses the service with a
// *TrustError naming it; a stranger's certificate (another CA) is refused
// even with our CA given; plain HTTP to the TLS port is not answered as
// if it were the service.
func TestTLSUntrusted(t *testing.T) {
	e := newEnv(t)
	url, files := startTLS(t, e)
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	ctx := context.Background()
	_, err := clientFor(t, url, "").Enroll(ctx, "pc", e.secret, priv.PublicKey())
	var te *imeapi.TrustError
	if !errors.As(err, &te) || !te.UnknownAuthority() {
		t.Fatalf("err %v, want a *TrustError for an unknown authority", err)
	}
	if want := "service " + url + ": certificate signed by unknown authority"; err.Error() != want {
		t.Fatalf("err %q, want %q", err, want)
	}

	stranger := httptest.NewTLSServer(e.srv)
	defer stranger.Close()
	_, err = clientFor(t, stranger.URL, files.CA).Enroll(ctx, "pc", e.secret, priv.PublicKey())
	if !errors.As(err, &te) || !te.UnknownAuthority() || te.URL != stranger.URL {
		t.Fatalf("stranger: err %v, want a *TrustError for %s", err, stranger.URL)
	}

	// Our CA and certificate, but the wrong name.
	conf, _ := imeapi.ClientTLS(files.CA)
	conf.ServerName = "imepipe.invalid"
	c := imeapi.NewClient(url, &http.Client{Transport: &http.Transport{TLSClientConfig: conf}})
	if _, err = c.Enroll(ctx, "pc", e.secret, priv.PublicKey()); !errors.As(err, &te) || te.UnknownAuthority() {
		t.Fatalf("wrong name: err %v, want a hostname *TrustError", err)
	}

	if _, err := imeapi.NewClient("http://"+strings.TrimPrefix(url, "https://"), nil).Enroll(ctx, "pc", e.secret, priv.PublicKey()); err == nil {
		t.Fatal("plain HTTP to the TLS port enrolled")
	}
}
