package decrypt

import (
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A Detection.xml that fails to read (its CRC is wrong) gives one chain
// that names decrypt once: "decrypt: read detection.xml: zip: checksum
// error" after the path, not "decrypt: decrypt: …".
func TestReadPackageNamesDecryptOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "badcrc.intunewin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	o := newOuter(f, time.Now())
	if _, err := o.begin(ContentsPath); err != nil {
		t.Fatal(err)
	}
	if err := o.finish(0, 0); err != nil {
		t.Fatal(err)
	}
	k, _ := NewKeys()
	xml := k.Info("x", "x").Marshal()
	if err := o.add(DetectionPath, xml, crc32.ChecksumIEEE(xml)+1); err != nil {
		t.Fatal(err)
	}
	if err := o.close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, pf, err := OpenFile(path)
	if err == nil {
		pf.Close()
		t.Fatal("a Detection.xml with a wrong CRC opened")
	}
	if msg := err.Error(); strings.Count(msg, "decrypt:") != 1 || !strings.HasSuffix(msg, ": decrypt: read detection.xml: zip: checksum error") {
		t.Fatalf("error %q: want \"<path>: decrypt: read detection.xml: zip: checksum error\"", msg)
	}
}
