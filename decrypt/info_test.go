package decrypt

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseInfoFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/detection/*.xml")
	if len(files) < 5 {
		t.Fatalf("want the 5 fixture Detection.xml files in testdata, found %d", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			info, err := ParseInfo(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("ParseInfo: %v", err)
			}
			if info.FileName != InnerFileName || info.SetupFile == "" || info.UnencryptedContentSize <= 0 {
				t.Errorf("unexpected info %+v", info)
			}
			// Marshal must give back Microsoft's bytes exactly (line ends normalised to CRLF,
			// since some fixtures passed through git's LF conversion).
			want := bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
			if got := info.Marshal(); !bytes.Equal(got, want) {
				t.Errorf("Marshal differs from the original:\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestParseInfoMsi(t *testing.T) {
	f, err := os.Open("testdata/detection/aesetup-msi.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := ParseInfo(f)
	if err != nil {
		t.Fatal(err)
	}
	m := info.Msi
	if m == nil {
		t.Fatal("MsiInfo missing")
	}
	if m.MsiProductCode != "{A39A1B33-CEB9-4875-BA5B-980AD93D91FC}" || !m.MsiIsMachineInstall || m.MsiIsUserInstall ||
		!m.MsiContainsSystemRegistryKeys || m.MsiPublisher != "CyberFOX LLC" || m.MsiExecutionContext != "System" {
		t.Errorf("MsiInfo parsed wrong: %+v", m)
	}
}

func TestParseInfoTolerant(t *testing.T) {
	data, err := os.ReadFile("testdata/detection/chocolatey-tool1.4.xml")
	if err != nil {
		t.Fatal(err)
	}
	variant := append([]byte("\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"), data...)
	variant = bytes.Replace(variant, []byte("<FileName>"), []byte("<SomethingNew>x</SomethingNew><FileName>"), 1)
	info, err := ParseInfo(bytes.NewReader(variant))
	if err != nil {
		t.Fatalf("BOM, declaration and unknown element should be accepted: %v", err)
	}
	if info.ToolVersion != "1.4.0.0" {
		t.Errorf("ToolVersion = %q", info.ToolVersion)
	}
}

func TestParseInfoRejects(t *testing.T) {
	good, err := os.ReadFile("testdata/detection/7zip.xml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(good)
	cases := map[string]string{
		"empty":          "",
		"not xml":        "PK\x03\x04",
		"wrong root":     strings.ReplaceAll(s, "ApplicationInfo", "Other"),
		"no encryption":  s[:strings.Index(s, "<EncryptionInfo>")] + "</ApplicationInfo>",
		"bad base64 key": strings.Replace(s, "<EncryptionKey>/", "<EncryptionKey>!", 1),
		"short key":      strings.Replace(s, "/MmE0ito56q2/+EId2ihAC+0UoyIQY1kp1yy+drieb0=", "AAAA", 1),
		"short iv":       strings.Replace(s, "sZr1VmwzfAxcHK9mmryQyA==", "sZr1VmwzfAxcHK9m", 1),
		"bad size":       strings.Replace(s, "<UnencryptedContentSize>905", "<UnencryptedContentSize>-5", 1),
		"other profile":  strings.Replace(s, ProfileVersion1, "ProfileVersion9", 1),
		"other digest":   strings.Replace(s, "<FileDigestAlgorithm>SHA256", "<FileDigestAlgorithm>MD5", 1),
		"truncated":      s[:len(s)/2],
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseInfo(strings.NewReader(doc))
			if !errors.Is(err, ErrInfo) && !errors.Is(err, ErrKey) {
				t.Fatalf("want ErrInfo, got %v", err)
			}
		})
	}
}

func FuzzParseInfo(f *testing.F) {
	files, _ := filepath.Glob("testdata/detection/*.xml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParseInfo(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever parses must survive a round trip through Marshal unchanged.
		again, err := ParseInfo(bytes.NewReader(info.Marshal()))
		if err != nil {
			t.Fatalf("re-parse of Marshal output failed: %v", err)
		}
		if string(again.Marshal()) != string(info.Marshal()) {
			t.Fatalf("Marshal is not stable")
		}
	})
}
