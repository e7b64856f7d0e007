package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/internal/clocktest"
	"github.com/imepipe/imepipe/peer"
)

// doRoot is an agent root (state.db) whose DOCache holds two records
// without content and the policy an agent writes.
func doRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "state.db"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	clk := clocktest.New(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	c, err := peer.OpenCache(filepath.Join(root, "DOCache"), peer.CacheOptions{Clock: clk, MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, s := range []fetch.Status{
		{FileId: "aaaa", FileSize: 1520, TotalBytesDownloaded: 1520, BytesFromPeers: 1275, BytesFromLanPeers: 1275, BytesFromHttp: 245,
			PercentPeerCaching: 1275 * 100 / 1520.0, Status: imeapi.DOComplete, Priority: "Foreground", DownloadMode: imeapi.ModeLAN,
			DownloadDuration: fetch.TimeSpan(90*time.Second + 500*time.Millisecond), SourceURL: "https://h/blobs/a.bin?se=1&sig=s3cret",
			HttpConnectionCount: 2, PredefinedCallerApplication: "Intune Management Extension"},
		{FileId: "bbbb", FileSize: 7, BytesFromHttp: 7, TotalBytesDownloaded: 7, Status: imeapi.DOComplete, Priority: "Background", DownloadMode: imeapi.ModeBypass},
	} {
		if err := c.Record(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WritePolicy(); err != nil {
		t.Fatal(err)
	}
	return root
}

// TestDOStatusFormatList: do status prints each record's 28 fields as
// Format-List does (a blank line first and after each record, names
// padded to the longest, " : "), with Windows' value formats, then the
// cache policy.
func TestDOStatusFormatList(t *testing.T) {
	root := doRoot(t)
	code, out, stderr := runCLI(t, "do", "status", "--root", root)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	blocks := strings.Split(strings.TrimPrefix(out, "\n"), "\n\n")
	if !strings.HasPrefix(out, "\nFileId ") || len(blocks) < 3 {
		t.Fatalf("output:\n%s", out)
	}
	for _, b := range blocks[:2] {
		lines := strings.Split(b, "\n")
		if len(lines) != 28 {
			t.Fatalf("a record of %d lines, want 28:\n%s", len(lines), b)
		}
		for _, l := range lines {
			if l[len("PredefinedCallerApplication"):][:3] != " : " {
				t.Fatalf("name not padded to PredefinedCallerApplication's width: %q", l)
			}
		}
	}
	for _, want := range []string{
		"PercentPeerCaching          : 83.8815789473684\n",
		"DownloadDuration            : 00:01:30.5000000\n",
		"DownloadMode                : 1\n",
		"SourceURL                   : https://h/blobs/a.bin\n",
		"ExpireOn                    : 3/4/2026 8:00:00 AM\n",
		"IsPinned                    : False\n",
		"DownloadMode                : 100\n",
		"\nDOMaxCacheAge          : 259200\n",
		"DOAbsoluteMaxCacheSize : 1073741824\n",
		"MaxCacheSizeBytes      : 1073741824\n",
		"Files                  : 2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Error("the SAS signature is printed")
	}
}

// TestDOStatusTable: --table prints Format-Table's layout: headers, a
// dash line as long as each header, numbers right-aligned under their
// right-aligned header, one space between columns.
func TestDOStatusTable(t *testing.T) {
	root := doRoot(t)
	code, out, stderr := runCLI(t, "do", "status", "--root", root, "--table")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(out, "\n")
	if lines[0] != "" || len(lines) < 5 {
		t.Fatalf("output:\n%s", out)
	}
	head, dash, row := lines[1], lines[2], lines[3]
	if strings.Join(strings.Fields(head), " ") != strings.Join(tableColumns, " ") {
		t.Fatalf("headers %q", head)
	}
	for i, f := range strings.Fields(dash) {
		if f != strings.Repeat("-", len(tableColumns[i])) {
			t.Fatalf("dashes %q under %s", f, tableColumns[i])
		}
	}
	// FileSize (numeric) ends where its header ends; FileId starts at 0.
	end := strings.Index(head, "FileSize") + len("FileSize")
	if !strings.HasPrefix(row, "aaaa ") || len(row) < end || !strings.HasSuffix(row[:end], " 1520") {
		t.Fatalf("row %q under %q: FileSize not right-aligned", row, head)
	}
	if !strings.Contains(row, " Complete ") || !strings.Contains(out, "\nbbbb ") {
		t.Fatalf("rows:\n%s", out)
	}
}

// TestDOPin: do pin and do unpin set IsPinned as do status (and another
// process's agent) sees it; an unknown FileId (exit 1) or one that is no
// DoFileId (exit 2) is one error line and creates nothing.
func TestDOPin(t *testing.T) {
	root := doRoot(t)
	if code, _, stderr := runCLI(t, "do", "pin", "--root", root, "aaaa"); code != 0 {
		t.Fatalf("pin: exit %d: %s", code, stderr)
	}
	code, out, _ := runCLI(t, "do", "status", "--root", root, "--json")
	var recs []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &recs) != nil || len(recs) != 2 || len(recs[0]) != 28 {
		t.Fatalf("--json: exit %d, %s", code, out)
	}
	if recs[0]["IsPinned"] != true || recs[1]["IsPinned"] != false {
		t.Fatalf("after pin: %v / %v", recs[0]["IsPinned"], recs[1]["IsPinned"])
	}
	if _, out, _ := runCLI(t, "do", "status", "--root", root); !strings.Contains(out, "PinnedFiles            : 1\n") {
		t.Fatalf("summary after pin:\n%s", out)
	}
	if code, _, stderr := runCLI(t, "do", "unpin", "--root", root, "aaaa"); code != 0 {
		t.Fatalf("unpin: exit %d: %s", code, stderr)
	}
	if _, out, _ := runCLI(t, "do", "status", "--root", root); strings.Contains(out, "IsPinned                    : True") {
		t.Fatalf("still pinned:\n%s", out)
	}
	before, _ := os.ReadDir(filepath.Join(root, "DOCache"))
	for id, want := range map[string]int{"zzzz": 1, "../x": 2, ".hidden": 2} { // not a DoFileId: usage
		code, out, stderr := runCLI(t, "do", "pin", "--root", root, id)
		if code != want || out != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("pin %q: exit %d, stdout %q, stderr %q", id, code, out, stderr)
		}
	}
	after, _ := os.ReadDir(filepath.Join(root, "DOCache"))
	if len(after) != len(before) {
		t.Errorf("a refused pin changed DOCache: %v → %v", before, after)
	}
	if _, err := os.Stat(filepath.Join(root, "x.pin")); err == nil {
		t.Error("a pin file outside DOCache")
	}
}
