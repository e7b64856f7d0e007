package delivery

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/peer"
)

const (
	testApp     = "00000001-0000-4000-8000-000000000000"
	testVersion = "1"
	testPiece   = 4096
)

// fakeService serves one packed app: its content info, its DecryptInfo
// (in the clear: OpenDecryptInfo returns it) and its piece hash file.
type fakeService struct {
	info   imeapi.ContentInfo
	di     imeapi.DecryptInfo
	pieces imeapi.PieceHashes
}

func (s *fakeService) ContentInfo(context.Context, string, string) (imeapi.ContentInfoResponse, error) {
	return imeapi.ContentInfoResponse{ContentInfo: s.info}, nil
}

func (s *fakeService) OpenDecryptInfo(*ecdh.PrivateKey, imeapi.Envelope) (imeapi.DecryptInfo, error) {
	return s.di, nil
}

func (s *fakeService) PieceHashes(context.Context, string) (imeapi.PieceHashes, error) {
	return s.pieces, nil
}

// origin is a plain HTTP download strategy (what orchestrate's
// FetchDownloader does without a cache host), asking for piece hashes
// when pieces is set.
type origin struct{ pieces bool }

func (o origin) Start(ctx context.Context, req Request) (*Transfer, error) {
	if o.pieces {
		if _, err := req.PieceHashes(ctx); err != nil {
			return nil, err
		}
	}
	src, err := fetch.NewHTTP(req.Info.UploadLocation, nil)
	if err != nil {
		return nil, err
	}
	job, err := fetch.New(req.Path, []fetch.Source{src}, fetch.Options{FileID: req.Info.DoFileID})
	if err != nil {
		return nil, err
	}
	return JobTransfer(ctx, job), nil
}

// newService packs a setup folder, serves its encrypted content over
// loopback HTTP (tamper, when set, changes the bytes served) and returns
// the service describing it.
func newService(t *testing.T, tamper func([]byte)) *fakeService {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("delivery payload\n"), 2000)
	if err := os.WriteFile(filepath.Join(src, "install.sh"), payload, 0o644); err != nil {
		t.Fatal(err)
	}
	pkgPath := filepath.Join(dir, "app.intunewin")
	if _, err := decrypt.Pack(context.Background(), src, "install.sh", pkgPath, decrypt.PackOptions{}); err != nil {
		t.Fatal(err)
	}
	pkg, f, err := decrypt.OpenFile(pkgPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rc, err := pkg.OpenContent()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	ph := imeapi.PieceHashes{DoFileID: imeapi.DoFileID(testApp, testVersion), Size: int64(len(bin)), PieceSize: testPiece}
	for off := 0; off < len(bin); off += testPiece {
		sum := sha256.Sum256(bin[off:min(off+testPiece, len(bin))])
		ph.Pieces = append(ph.Pieces, hex.EncodeToString(sum[:]))
	}
	served := bytes.Clone(bin)
	if tamper != nil {
		tamper(served)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(served))
	}))
	t.Cleanup(hs.Close)
	e := pkg.Info.Encryption
	return &fakeService{
		info: imeapi.ContentInfo{UploadLocation: hs.URL + "/blob", DoFileID: ph.DoFileID, Size: int64(len(bin)),
			UnencryptedContentSize: pkg.Info.UnencryptedContentSize, PieceSize: testPiece, PieceHashesURL: "/phf/x"},
		di: imeapi.DecryptInfo{EncryptionKey: e.EncryptionKey, MacKey: e.MacKey, IV: e.InitializationVector, Mac: e.Mac,
			ProfileIdentifier: e.ProfileIdentifier, FileDigest: e.FileDigest, FileDigestAlgorithm: e.FileDigestAlgorithm},
		pieces: ph,
	}
}

// TestStartUnpacksWhileDownloading: Start hands back the running Job,
// and Wait reports the content verified and extracted into Dir by the
// unpack that followed it.
func TestStartUnpacksWhileDownloading(t *testing.T) {
	svc := newService(t, nil)
	ctx := context.Background()
	c, err := Resolve(ctx, svc, nil, testApp, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "IMECache", "app")
	d, err := Start(ctx, c, origin{pieces: true}, Target{Bin: filepath.Join(root, "app.bin"), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d.Job == nil {
		t.Fatal("Start gave no Job")
	}
	res, err := d.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if !res.Unpacked || res.UnpackErr != nil {
		t.Fatalf("Unpacked %v, UnpackErr %v", res.Unpacked, res.UnpackErr)
	}
	if res.Status.Status != imeapi.DOComplete || res.Status.FileSize != svc.info.Size {
		t.Fatalf("status %+v", res.Status)
	}
	got, err := os.ReadFile(filepath.Join(dir, "install.sh"))
	if err != nil || !strings.HasPrefix(string(got), "delivery payload\n") {
		t.Fatalf("extracted install.sh: %q, %v", got[:min(len(got), 40)], err)
	}
}

// TestStartVerifiesOnly: with no Dir the content is verified and its
// plaintext discarded; nothing but the .bin is written.
func TestStartVerifiesOnly(t *testing.T) {
	svc := newService(t, nil)
	ctx := context.Background()
	c, err := Resolve(ctx, svc, nil, testApp, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	d, err := Start(ctx, c, origin{}, Target{Bin: filepath.Join(root, "app.bin")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Wait()
	if err != nil || !res.Unpacked {
		t.Fatalf("Unpacked %v, %v, %v", res.Unpacked, res.UnpackErr, err)
	}
	ents, _ := os.ReadDir(root)
	if len(ents) != 1 || ents[0].Name() != "app.bin" {
		t.Fatalf("root holds %v, want app.bin alone", ents)
	}
}

// TestStartTamperedContent: content that does not verify completes its
// download but is not Unpacked, and UnpackErr says why (the HMAC); the
// caller's check of the finished file decides.
func TestStartTamperedContent(t *testing.T) {
	svc := newService(t, func(b []byte) { b[len(b)/2] ^= 0x5a })
	ctx := context.Background()
	c, err := Resolve(ctx, svc, nil, testApp, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	d, err := Start(ctx, c, origin{}, Target{Bin: filepath.Join(root, "app.bin"), Dir: filepath.Join(root, "out")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Unpacked || !errors.Is(res.UnpackErr, decrypt.ErrMAC) {
		t.Fatalf("Unpacked %v, UnpackErr %v; want the HMAC's error", res.Unpacked, res.UnpackErr)
	}
}

// TestPieceHashesMustMatch: a piece hash file for another DoFileId, size
// or piece size is refused before anything downloads (bench fleet did
// not check this before it used delivery).
func TestPieceHashesMustMatch(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*imeapi.PieceHashes)
	}{
		{"DoFileId", func(p *imeapi.PieceHashes) { p.DoFileID = imeapi.DoFileID(testApp, "2") }},
		{"size", func(p *imeapi.PieceHashes) { p.Size-- }},
		{"piece size", func(p *imeapi.PieceHashes) {
			p.PieceSize *= 2
			p.Pieces = p.Pieces[:(p.Size+p.PieceSize-1)/p.PieceSize]
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(t, nil)
			tc.edit(&svc.pieces)
			c, err := Resolve(context.Background(), svc, nil, testApp, testVersion)
			if err != nil {
				t.Fatal(err)
			}
			bin := filepath.Join(t.TempDir(), "app.bin")
			_, err = Start(context.Background(), c, origin{pieces: true}, Target{Bin: bin})
			if !errors.Is(err, ErrPieces) {
				t.Fatalf("err %v, want ErrPieces", err)
			}
			if _, err := os.Stat(bin); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("%s written (%v)", bin, err)
			}
		})
	}
}

// TestResolveRefusesBadDoFileID: a DoFileId that could not name a file
// fails the "content info" step with peer's error, said once.
func TestResolveRefusesBadDoFileID(t *testing.T) {
	svc := newService(t, nil)
	svc.info.DoFileID = "../escape"
	_, err := Resolve(context.Background(), svc, nil, testApp, testVersion)
	var se *StepError
	if !errors.As(err, &se) || se.Step != "content info" || !errors.Is(err, peer.ErrBadID) {
		t.Fatalf("err %v, want a content info StepError wrapping peer.ErrBadID", err)
	}
	if strings.Count(err.Error(), "peer:") != 1 {
		t.Fatalf("error %q repeats its prefix", err)
	}
}

// tracking is a download strategy with piece hashes and no peers: peer's
// Transfer hashes every piece the origin sends (what the peer modes do).
type tracking struct{}

func (tracking) Start(ctx context.Context, req Request) (*Transfer, error) {
	ph, err := req.PieceHashes(ctx)
	if err != nil {
		return nil, err
	}
	tr, err := peer.Start(ctx, peer.DownloadConfig{Info: req.Info, Hashes: ph, Path: req.Path, Mode: imeapi.ModeHTTPOnly})
	if err != nil {
		return nil, err
	}
	return PeerTransfer(tr, nil), nil
}

// TestPieceChecksStandInForHMAC: with piece hashes the download's own
// check of every piece replaces the HMAC pass: a DecryptInfo whose MAC key
// is wrong still unpacks (over plain HTTP it does not), and a piece list
// one piece of which the content does not match refuses the unpack and
// extracts nothing.
func TestPieceChecksStandInForHMAC(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, nil)
	svc.di.MacKey = strings.Repeat("A", len(svc.di.MacKey)-1) + "="
	c, err := Resolve(ctx, svc, nil, testApp, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		dl       Downloader
		unpacked bool
	}{{"plain HTTP", origin{}, false}, {"piece hashes", tracking{}, true}} {
		root := t.TempDir()
		d, err := Start(ctx, c, tc.dl, Target{Bin: filepath.Join(root, "app.bin"), Dir: filepath.Join(root, "out")})
		if err != nil {
			t.Fatal(err)
		}
		res, err := d.Wait()
		if err != nil || res.Unpacked != tc.unpacked {
			t.Errorf("%s, wrong MAC key: Unpacked %v (%v), want %v; %v", tc.name, res.Unpacked, res.UnpackErr, tc.unpacked, err)
		}
	}

	svc = newService(t, nil)
	svc.pieces.Pieces[len(svc.pieces.Pieces)-1] = strings.Repeat("0", 64)
	c, err = Resolve(ctx, svc, nil, testApp, testVersion)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	out := filepath.Join(root, "out")
	d, err := Start(ctx, c, tracking{}, Target{Bin: filepath.Join(root, "app.bin"), Dir: out})
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.Wait()
	if res.Unpacked || !(errors.Is(res.UnpackErr, decrypt.ErrPieces) || errors.Is(res.UnpackErr, context.Canceled)) {
		t.Fatalf("a piece off its hash: Unpacked %v, UnpackErr %v", res.Unpacked, res.UnpackErr)
	}
	if !errors.Is(err, peer.ErrCorrupt) {
		t.Errorf("a piece off its hash: download %v, want peer.ErrCorrupt", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (%v): nothing should be extracted", out, err)
	}
}
