package service

import (
	"bufio"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/nginxtest"
)

// TestBlobThroughputVsNginx downloads the same blob from the service and
// from nginx on loopback and wants the service within 1.2× of nginx's
// time (median of interleaved rounds). A measurement, so it runs only
// with IMEPIPE_SLOW=1 (not in CI); size IMEPIPE_BLOB_MB (default 256).
func TestBlobThroughputVsNginx(t *testing.T) {
	if testing.Short() || os.Getenv("IMEPIPE_SLOW") != "1" {
		t.Skip("throughput comparison: a measurement, set IMEPIPE_SLOW=1")
	}
	bin := nginxtest.Need(t)
	mb := 128
	if os.Getenv("IMEPIPE_SLOW") == "1" {
		mb = 256
	}
	if v := os.Getenv("IMEPIPE_BLOB_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("IMEPIPE_BLOB_MB=%q", v)
		}
		mb = n
	}
	root := t.TempDir()
	setup := filepath.Join(root, "setup")
	os.MkdirAll(setup, 0o755)
	f, err := os.Create(filepath.Join(setup, "payload.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, int64(mb)<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	apps := filepath.Join(root, "apps")
	os.MkdirAll(filepath.Join(apps, "big"), 0o755)
	if _, err := decrypt.Pack(context.Background(), setup, "payload.bin", filepath.Join(apps, "big", "big.intunewin"), decrypt.PackOptions{}); err != nil {
		t.Fatal(err)
	}
	writeAppDir(t, apps, "big", testApp(1, "big", "payload.bin"), nil, "")
	// The service runs in its own process, as nginx does, so that it does
	// not share the test client's scheduler.
	data := filepath.Join(root, "data")
	base := startHelperServer(t, apps, data)
	secret, err := os.ReadFile(filepath.Join(data, "enrollment-secret"))
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := ecdh.X25519().GenerateKey(rand.Reader)
	c := imeapi.NewClient(base, nil)
	if _, err := c.Enroll(context.Background(), "pc", strings.TrimSpace(string(secret)), priv.PublicKey()); err != nil {
		t.Fatal(err)
	}
	pol, err := c.Policies(context.Background())
	if err != nil || len(pol.Policies) != 1 {
		t.Fatalf("policies %+v, %v", pol, err)
	}
	p := pol.Policies[0]
	ci, err := c.ContentInfo(context.Background(), p.AppID, p.Version)
	if err != nil {
		t.Fatal(err)
	}
	a := AppInfo{Size: ci.ContentInfo.Size, BlobName: BlobName(p.AppID, p.Version)}
	nginxURL := nginxtest.Start(t, bin, "sendfile on; tcp_nopush on; access_log off;", "root "+filepath.Join(data, "blobs")+";").URL + "/" + a.BlobName
	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	buf := make([]byte, 1<<20)
	get := func(url string) time.Duration {
		t0 := time.Now()
		resp, err := hc.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		// A 1 MiB buffer (io.Discard alone reads 8 KiB at a time): the client
		// should cost little next to the server it measures.
		n, err := io.CopyBuffer(struct{ io.Writer }{io.Discard}, resp.Body, buf)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || n != a.Size {
			t.Fatalf("GET %s: HTTP %d, %d bytes, %v", url, resp.StatusCode, n, err)
		}
		return time.Since(t0)
	}
	rounds := 9
	times := map[string][]time.Duration{}
	for range rounds { // interleaved so that both see the same machine load
		for _, name := range []string{"nginx", "imepipe"} {
			url := nginxURL
			if name == "imepipe" {
				url = ci.ContentInfo.UploadLocation
			}
			times[name] = append(times[name], get(url))
		}
	}
	// The median of interleaved rounds: a fair figure on a shared machine.
	med := map[string]time.Duration{}
	for name, ts := range times {
		slices.Sort(ts)
		med[name] = ts[len(ts)/2]
	}
	rate := func(d time.Duration) float64 { return float64(a.Size) / d.Seconds() / (1 << 20) }
	t.Logf("blob %d MiB, %d rounds: nginx median %v (%.0f MiB/s, best %.0f), imepipe serve median %v (%.0f MiB/s, best %.0f), ratio %.2f",
		mb, rounds, med["nginx"], rate(med["nginx"]), rate(times["nginx"][0]), med["imepipe"], rate(med["imepipe"]), rate(times["imepipe"][0]),
		med["imepipe"].Seconds()/med["nginx"].Seconds())
	if med["imepipe"].Seconds() > 1.2*med["nginx"].Seconds() {
		t.Fatalf("imepipe serve took %v (median), more than 1.2 × nginx's %v", med["imepipe"], med["nginx"])
	}
}

// startHelperServer runs this test binary as a service process over apps
// and data (TestHelperServer) and returns its URL. The child exits when
// its stdin closes, which the cleanup does.
func startHelperServer(t *testing.T, apps, data string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperServer$")
	cmd.Env = append(os.Environ(), "IMEPIPE_HELPER_SERVER=1", "IMEPIPE_HELPER_APPS="+apps, "IMEPIPE_HELPER_DATA="+data)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		t.Fatalf("helper server: %q, %v", line, err)
	}
	return strings.TrimSpace(line)
}

// TestHelperServer is the service process of startHelperServer; it does
// nothing in a normal run.
func TestHelperServer(t *testing.T) {
	if os.Getenv("IMEPIPE_HELPER_SERVER") != "1" {
		t.Skip("helper process for TestBlobThroughputVsNginx")
	}
	srv, err := NewContext(context.Background(), Config{AppsDir: os.Getenv("IMEPIPE_HELPER_APPS"), DataDir: os.Getenv("IMEPIPE_HELPER_DATA")})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv}
	go hs.Serve(ln)
	fmt.Printf("http://%s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin) // until the parent closes stdin
	hs.Close()
}
