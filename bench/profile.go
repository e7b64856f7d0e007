package bench

import (
	"fmt"
	"math/rand/v2"
	"path"
)

// Profile names the shape of a generated setup folder.
type Profile string

// The dataset profiles.
const (
	// Installer is a typical application installer: a few large
	// incompressible files (60% of the bytes), compressible text-like and
	// repetitive files (25%), and thousands of small files (15%, about
	// 32 KiB each) in nested folders.
	Installer Profile = "installer"
	// ManySmall is tens of thousands of small files (about 16 KiB each),
	// mixed incompressible, text-like and repetitive.
	ManySmall Profile = "many-small"
	// SingleLarge is one big incompressible file.
	SingleLarge Profile = "single-large"
)

// SetupFile is the setup file of every generated folder, at its root.
const SetupFile = "setup.exe"

// MinSize is the smallest dataset Generate makes.
const MinSize = 64 << 10

// Profiles lists the known profiles.
func Profiles() []Profile { return []Profile{Installer, ManySmall, SingleLarge} }

// ParseProfile returns the profile called name.
func ParseProfile(name string) (Profile, error) {
	for _, p := range Profiles() {
		if string(p) == name {
			return p, nil
		}
	}
	return "", fmt.Errorf("bench: %w %q (want installer, many-small or single-large)", ErrProfile, name)
}

// kind is the content of a generated file.
type kind uint8

const (
	random     kind = iota // incompressible
	text                   // words and lines, compresses a few times
	repetitive             // a repeated block with a counter, compresses well
)

// fileSpec is one file of a plan: its slash-separated path, size, content
// kind and the seed of its content.
type fileSpec struct {
	path string
	size int64
	kind kind
	seed uint64
}

// plan lays out the files of profile p totalling exactly size bytes. It is
// a pure function of its arguments.
func plan(p Profile, size int64, seed uint64) ([]fileSpec, error) {
	if size < MinSize {
		return nil, fmt.Errorf("bench: %w: %d bytes, want at least %d", ErrSize, size, MinSize)
	}
	rng := rand.New(rand.NewPCG(seed, 0x696d6570697065)) // "imepipe"
	var files []fileSpec
	add := func(name string, n int64, k kind) {
		files = append(files, fileSpec{path: name, size: n, kind: k, seed: rng.Uint64()})
	}
	switch p {
	case Installer:
		large := size * 60 / 100
		comp := size * 25 / 100
		small := size - large - comp
		setup := min(small/4, 2<<20)
		add(SetupFile, setup, random)
		for i, n := range split(large, 4, rng) {
			add(fmt.Sprintf("Packages/Data%02d.cab", i+1), n, random)
		}
		nComp := int(min(max(comp/(8<<20), 4), 24))
		for i, n := range split(comp, nComp, rng) {
			if i%2 == 0 {
				add(fmt.Sprintf("Docs/Manual%02d.txt", i/2+1), n, text)
			} else {
				add(fmt.Sprintf("Config/Settings%02d.xml", i/2+1), n, repetitive)
			}
		}
		for i, n := range smallSizes(small-setup, 32<<10, rng) {
			dir := fmt.Sprintf("Program Files/App/Module%02d/Part%02d", i/1000, i/100%10)
			k, ext := smallKind(rng, 50, 30)
			add(path.Join(dir, fmt.Sprintf("file%05d%s", i, ext)), n, k)
		}
	case ManySmall:
		sizes := smallSizes(size, 16<<10, rng)
		add(SetupFile, sizes[0], random)
		for i, n := range sizes[1:] {
			k, ext := smallKind(rng, 40, 40)
			add(fmt.Sprintf("files/d%03d/f%05d%s", i/200, i, ext), n, k)
		}
	case SingleLarge:
		add(SetupFile, size, random)
	default:
		return nil, fmt.Errorf("bench: %w %q", ErrProfile, p)
	}
	return files, nil
}

// smallKind picks a small file's content: pRandom% incompressible,
// pText% text, the rest repetitive.
func smallKind(rng *rand.Rand, pRandom, pText int) (kind, string) {
	switch r := rng.IntN(100); {
	case r < pRandom:
		return random, ".dll"
	case r < pRandom+pText:
		return text, ".txt"
	default:
		return repetitive, ".xml"
	}
}

// split divides total into n parts of roughly equal size (±25%) that add
// up to total exactly.
func split(total int64, n int, rng *rand.Rand) []int64 {
	w := make([]float64, n)
	var sum float64
	for i := range w {
		w[i] = 0.75 + rng.Float64()/2
		sum += w[i]
	}
	out := make([]int64, n)
	left := total
	for i := range out[:n-1] {
		out[i] = int64(float64(total) * w[i] / sum)
		left -= out[i]
	}
	out[n-1] = left
	return out
}

// smallSizes draws file sizes averaging avg (uniform in [avg/8, 2avg-avg/8))
// until they add up to total exactly; the last file takes the remainder.
func smallSizes(total, avg int64, rng *rand.Rand) []int64 {
	lo := avg / 8
	var out []int64
	for left := total; left > 0; {
		n := lo + rng.Int64N(2*avg-2*lo)
		if left-n < lo {
			n = left
		}
		out = append(out, n)
		left -= n
	}
	return out
}
