package stage

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchTree is a setup folder of many small files and a few big ones.
func benchTree(b *testing.B) string {
	b.Helper()
	root := b.TempDir()
	text := bytes.Repeat([]byte("Write-Host 'installing Contoso Widget'\r\n"), 40)
	for i := range 400 {
		p := filepath.Join(root, fmt.Sprintf("d%02d", i%20), fmt.Sprintf("file%03d.ps1", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, text, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	big := bytes.Repeat(text, 16<<20/len(text))
	for i := range 2 {
		if err := os.WriteFile(filepath.Join(root, fmt.Sprintf("big%d.msi", i)), big, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return root
}

func BenchmarkWrite(b *testing.B) {
	root := benchTree(b)
	res, err := Write(context.Background(), io.Discard, root, WriteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(res.Bytes)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Write(context.Background(), io.Discard, root, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkExtract(b *testing.B) {
	root := benchTree(b)
	var buf bytes.Buffer
	res, err := Write(context.Background(), &buf, root, WriteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	z := buf.Bytes()
	out := b.TempDir()
	b.SetBytes(res.Bytes)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		dir := filepath.Join(out, fmt.Sprint(i))
		if _, err := Extract(context.Background(), bytes.NewReader(z), int64(len(z)), dir, Options{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}
