package msi

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the fuzz seeds in testdata/seeds")

// seeds are the committed fuzz seeds: name → builder. "valid-" seeds
// must read; the others must fail with ErrFormat.
func seeds() map[string][]byte {
	valid, l := msiWith(nil, registryTable("Registry", int32(2)), keyTable("Directory", "TARGETDIR")).build()
	out := map[string][]byte{
		"valid-v3.msi":         valid,
		"truncated-header.msi": valid[:300],
	}
	fatLoop := bytes.Clone(valid)
	setFAT(fatLoop, l, l.dirStart, l.dirStart)
	out["fat-loop.msi"] = fatLoop
	cycle := bytes.Clone(valid)
	le.PutUint32(cycle[l.dirOff(3)+72:], 1)
	out["dir-cycle.msi"] = cycle
	huge := bytes.Clone(valid)
	le.PutUint32(huge[l.dirOff(2)+120:], 0xFFFFFFF0)
	out["huge-size.msi"] = huge
	m := msiWith(nil)
	m.longRefs = true
	out["valid-longrefs.msi"], _ = m.build()
	return out
}

func TestSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "seeds")
	for name, data := range seeds() {
		path := filepath.Join(dir, name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./msi -run TestSeeds -update)", err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s is stale (run go test ./msi -run TestSeeds -update)", path)
		}
		_, err = ReadInfo(bytes.NewReader(got), int64(len(got)))
		if valid := name[:6] == "valid-"; valid != (err == nil) || (!valid && !errors.Is(err, ErrFormat)) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// FuzzReadInfo: any input gives Info or an error, never a panic or a
// hang; errors other than the reader's are ErrFormat or ErrProperty.
func FuzzReadInfo(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "seeds", "*.msi"))
	if len(files) == 0 {
		f.Fatal("no seeds in testdata/seeds")
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := ReadInfo(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrProperty) {
				t.Fatalf("error %v wraps neither ErrFormat nor ErrProperty", err)
			}
			return
		}
		if in.Context != ContextSystem && in.Context != ContextUser && in.Context != ContextAny {
			t.Fatalf("context %q", in.Context)
		}
		if in.MachineInstall == in.UserInstall {
			t.Fatal("machine and user install agree")
		}
	})
}
