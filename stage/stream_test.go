package stage

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// treeSums maps every regular file under dir to its SHA-256, and every
// directory to "dir".
func treeSums(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "dir"
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(s[:])
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t testing.TB, a, b map[string]string) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("trees differ: %d vs %d entries\n%v\n%v", len(a), len(b), a, b)
	}
	for k, v := range a {
		if b[k] != v {
			t.Fatalf("trees differ at %s", k)
		}
	}
}

// streamZips are well-formed ZIPs of every shape the streamer must take:
// Microsoft's (the fixtures), ours (Write), and archive/zip's data descriptors.
func streamZips(t *testing.T) map[string][]byte {
	t.Helper()
	zips := map[string][]byte{}
	files, _ := filepath.Glob("testdata/*.zip")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		zips[filepath.Base(f)] = b
	}
	var dd bytes.Buffer
	zw := zip.NewWriter(&dd)
	for i, name := range []string{"a.txt", "sub/b.bin", "sub/deeper/c.txt", "empty/"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if name != "empty/" {
			w.Write(bytes.Repeat([]byte{byte(i), 'x'}, 100000*i+1))
		}
	}
	zw.Close()
	zips["archive-zip-descriptors"] = dd.Bytes()
	// Entries over bufferedEntry compressed bytes are streamed by the
	// reading goroutine, the others buffered for a worker.
	big := bytes.Repeat([]byte("0123456789abcdef"), (bufferedEntry+3*wholeMax)/16+7)
	noise := make([]byte, bufferedEntry+12345)
	rand.NewChaCha8([32]byte{5, 6}).Read(noise)
	zips["large entries"] = rawZip(t, []rawEntry{
		{name: "big/store.bin", data: big},
		{name: `big\deflate.bin`, data: big, method: 8},
		{name: "big/noise.bin", data: noise, method: 8},
		{name: "z", data: []byte("z"), method: 8},
	})
	return zips
}

func TestExtractStreamMatchesExtract(t *testing.T) {
	for name, z := range streamZips(t) {
		t.Run(name, func(t *testing.T) {
			a := filepath.Join(t.TempDir(), "a")
			b := filepath.Join(t.TempDir(), "b")
			ra, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), a, Options{})
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			rb, err := ExtractStream(context.Background(), bytes.NewReader(z), b, Options{Workers: 2})
			if err != nil {
				t.Fatalf("ExtractStream: %v", err)
			}
			if ra != rb {
				t.Errorf("results differ: %+v vs %+v", ra, rb)
			}
			sameTree(t, treeSums(t, a), treeSums(t, b))
		})
	}
}

func TestExtractStreamVerifyGates(t *testing.T) {
	z := rawZip(t, []rawEntry{{name: "a", data: []byte("data"), method: 8}})
	parent := t.TempDir()
	boom := errors.New("HMAC mismatch")
	_, err := ExtractStream(context.Background(), bytes.NewReader(z), filepath.Join(parent, "out"), Options{Verify: func() error { return boom }})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the Verify error", err)
	}
	assertNothingLeft(t, parent)
}

// FuzzExtractStream: whatever ExtractStream accepts, Extract accepts
// with the same tree; nothing is ever left behind on failure.
func FuzzExtractStream(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.zip")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(rawZip(f, []rawEntry{{name: "a/b", data: []byte("hi"), method: 8}, {name: "c/"}}))
	f.Fuzz(func(t *testing.T, z []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "s")
		_, err := ExtractStream(context.Background(), io.MultiReader(bytes.NewReader(z)), dir, Options{Workers: 2})
		if err != nil {
			assertNothingLeft(t, parent)
			return
		}
		other := filepath.Join(t.TempDir(), "x")
		if _, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), other, Options{}); err != nil {
			t.Fatalf("stream accepted what Extract refuses: %v", err)
		}
		sameTree(t, treeSums(t, dir), treeSums(t, other))
	})
}

func BenchmarkExtractStreamSmall(b *testing.B) {
	z, err := os.ReadFile("testdata/irfanview-backslash.zip")
	if err != nil {
		b.Fatal(err)
	}
	root := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		if _, err := ExtractStream(context.Background(), bytes.NewReader(z), filepath.Join(root, "o", string(rune('a'+i%26)), hex.EncodeToString([]byte{byte(i), byte(i >> 8)})), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
