package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgentLeaveFailureLine: when the Array leave at exit gets no answer
// (the service dropped the connection), the warning is one line naming
// the service and the reason, not net/http's chain with the URL twice
// (`imeapi: DELETE /do/v1/array: Delete "URL": …`).
func TestAgentLeaveFailureLine(t *testing.T) {
	skipAgentsOnWindows(t)
	_, secret, srv := testService(t, false)
	hs := closableService(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete && r.URL.Path == "/do/v1/array" {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		srv.ServeHTTP(w, r)
	}))
	root := filepath.Join(t.TempDir(), "r")
	code, _, stderr := runCLI(t, "agent", "--once", "--root", root, "--service", hs.URL, "--enrollment-secret-file", secret, "--peer-addr", "127.0.0.1:0")
	if code != 0 {
		t.Fatalf("agent --once: exit %d\n%s", code, stderr)
	}
	var line string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "Could not remove this device's peer registrations") {
			line = l
		}
	}
	want := "imepipe agent: [DO] Could not remove this device's peer registrations from the Array: service " + hs.URL + " not reachable ("
	if !strings.HasPrefix(line, want) || strings.Contains(line, "imeapi:") || strings.Contains(line, `Delete "`) {
		t.Errorf("leave failure line %q\nwant it to start %q, without the net/http chain", line, want)
	}
}
