package stage

import (
	"archive/zip"
	"cmp"
	"io/fs"
	"path"
	"slices"
	"time"
)

const (
	bigFile                     = 1 << 20 // files this big are extracted largest first
	defaultFileMode fs.FileMode = 0o644
	defaultDirMode  fs.FileMode = 0o755
	creatorUnix                 = 3
	flagEncrypted               = 0x1
)

// fileEntry is one regular file to extract.
type fileEntry struct {
	f      *zip.File
	name   string // checked, slash-separated
	perm   fs.FileMode
	mtime  time.Time
	size   uint64
	parent int // index in plan.dirs, -1 for the top
}

// dirEntry is one directory to create: explicit (an entry of its own) or
// implied by the names below it.
type dirEntry struct {
	name     string
	perm     fs.FileMode
	mtime    time.Time
	explicit bool
	parent   int // index in plan.dirs, -1 for the top
}

// plan is everything Extract will create, checked before anything is
// written: files largest first, so that the long ones start early and the
// workers finish together (and, as a side effect, workers seldom create
// files in the same directory at once, which the file system serializes);
// directories sorted by name (parents first); each entry knowing its parent
// directory.
type plan struct {
	files []fileEntry
	dirs  []dirEntry
	bytes uint64
}

// newPlan checks every entry of zr and returns what to create. Names are
// checked by cleanName and admitted by the admission core (admit.go):
// duplicates, files that are also directories and names differing only in
// letter case are refused.
func newPlan(zr *zip.Reader) (*plan, error) {
	p := &plan{}
	names := newAdmission(len(zr.File))
	for _, f := range zr.File {
		name, isDir, err := cleanName(f.Name, f.Flags&flagUTF8 != 0)
		if err != nil {
			return nil, err
		}
		mode := f.Mode()
		if err := checkKind(f.Name, mode); err != nil {
			return nil, err
		}
		if err := checkMethod(f.Name, f.Flags, f.Method); err != nil {
			return nil, err
		}
		isDir = isDir || mode.IsDir()
		if isDir {
			if err := checkDirData(f.Name, f.UncompressedSize64); err != nil {
				return nil, err
			}
		}
		if err := names.admit(f.Name, name, isDir); err != nil {
			return nil, err
		}
		perm := permOf(f, isDir)
		if isDir {
			p.dirs = append(p.dirs, dirEntry{name: name, perm: perm, mtime: f.Modified, explicit: true})
			continue
		}
		p.files = append(p.files, fileEntry{f: f, name: name, perm: perm, mtime: f.Modified, size: f.UncompressedSize64})
		p.bytes += f.UncompressedSize64
	}
	for name := range names.implied {
		if _, explicit := names.kind[name]; !explicit {
			p.dirs = append(p.dirs, dirEntry{name: name, perm: defaultDirMode})
		}
	}
	slices.SortFunc(p.dirs, func(a, b dirEntry) int { return cmp.Compare(a.name, b.name) })
	// Big files first, largest first; then the rest in archive order, which
	// keeps files of one directory together (the file system allocates
	// their inodes side by side) and reads the archive front to back.
	big := func(f fileEntry) uint64 {
		if f.size < bigFile {
			return 0
		}
		return f.size
	}
	slices.SortStableFunc(p.files, func(a, b fileEntry) int { return cmp.Compare(big(b), big(a)) })
	index := make(map[string]int, len(p.dirs))
	for i, d := range p.dirs {
		index[d.name] = i
	}
	parentOf := func(name string) int {
		if i, ok := index[path.Dir(name)]; ok {
			return i
		}
		return -1
	}
	for i := range p.dirs {
		p.dirs[i].parent = parentOf(p.dirs[i].name)
	}
	for i := range p.files {
		p.files[i].parent = parentOf(p.files[i].name)
	}
	return p, nil
}

// maxBatch caps a batch of one directory's files, so that a big
// directory still spreads over the workers.
const maxBatch = 64

// batches splits the files into what one worker extracts in a row: each
// big file alone, then runs of at most maxBatch files with the same parent.
func (p *plan) batches() [][]fileEntry {
	var out [][]fileEntry
	start := 0
	for i := 1; i <= len(p.files); i++ {
		if i < len(p.files) && p.files[i].size < bigFile && p.files[i-1].size < bigFile &&
			p.files[i].parent == p.files[start].parent && i-start < maxBatch {
			continue
		}
		out = append(out, p.files[start:i])
		start = i
	}
	return out
}

// permOf returns the permission bits to create an entry with: those of a
// Unix-made archive (setuid, setgid and sticky bits dropped; an owner that
// cannot read or write its own file gets u+rw), else 0644 for files and
// 0755 for directories. The process umask applies on top.
func permOf(f *zip.File, isDir bool) fs.FileMode {
	def := defaultFileMode
	if isDir {
		def = defaultDirMode
	}
	if f.CreatorVersion>>8 != creatorUnix {
		return def
	}
	if perm := unixPerm(f.Mode(), isDir); perm != 0 {
		return perm
	}
	return def
}
