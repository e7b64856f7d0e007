package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dustin/go-humanize"
)

// The setup folder looks like much more than the app when it holds over
// bigRatio times the setup file and over bigFolder bytes, or installers
// besides the setup file the way a Downloads folder does.
const (
	bigRatio  = 10
	bigFolder = 100 << 20
)

// installerExts are the file types counted as other installers.
var installerExts = map[string]bool{".exe": true, ".msi": true, ".msix": true, ".appx": true, ".msixbundle": true}

// downloadsLike names the folders where one stray installer is enough.
var downloadsLike = map[string]bool{"downloads": true, "desktop": true, "documents": true}

// packWarning is the one line pack prints (unless -q) before packing a
// setup folder that looks like far more than the app: the "my 4 MB
// installer became a 15 GB package" case. folderBytes is the folder's
// total; setupRel the setup file, relative to folder. "" when all looks
// right. It never stops the pack.
func packWarning(folder, setupRel string, folderBytes int64) string {
	var why []string
	if st, err := os.Stat(filepath.Join(folder, setupRel)); err == nil {
		if s := st.Size(); folderBytes > bigFolder && folderBytes > bigRatio*s {
			why = append(why, fmt.Sprintf("%s for a %s setup file", humanize.IBytes(uint64(folderBytes)), humanize.IBytes(uint64(s))))
		}
	}
	others := otherInstallers(folder, setupRel)
	base := strings.ToLower(filepath.Base(filepath.Clean(folder)))
	if home, err := os.UserHomeDir(); err == nil && sameDir(home, folder) {
		base = "downloads" // the home folder itself: as bad
	}
	if len(others) >= 2 || (len(others) == 1 && downloadsLike[base]) {
		list := others
		if len(list) > 3 {
			list = append(list[:3:3], "…")
		}
		why = append(why, fmt.Sprintf("%s (%s)", plural(len(others), "other installer"), strings.Join(list, ", ")))
	}
	if len(why) == 0 {
		return ""
	}
	return fmt.Sprintf("warning: %s holds %s; all of it is packed: give -c a folder with only the app's files (-q silences this)", folder, strings.Join(why, " and "))
}

// otherInstallers lists the installers directly in folder besides the
// setup file (subfolders are the app's own business: prerequisites).
func otherInstallers(folder, setupRel string) []string {
	ents, err := os.ReadDir(folder)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && installerExts[strings.ToLower(filepath.Ext(n))] && !strings.EqualFold(n, filepath.ToSlash(setupRel)) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// sameDir reports whether a and b name the same folder.
func sameDir(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
