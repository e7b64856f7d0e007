package rules

import (
	"context"
	"encoding/base64"
	"os"
	"runtime"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// TestScriptsObserve: Observe hears of each script run once, with what
// ran, its process id, exit code, stdout and stderr, and whether it was a
// detection or a requirement script.
func TestScriptsObserve(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the observed script is a POSIX sh script (its PowerShell run is TestPowershellArgv's)")
	}
	var runs []Run
	env := &Env{Scripts: Scripts{Dir: t.TempDir(), Env: os.Environ(), Observe: func(r Run) { runs = append(runs, r) }}}
	src := base64.StdEncoding.EncodeToString([]byte("echo out; echo oops >&2; exit 3"))
	if _, _, err := env.Eval(context.Background(), imeapi.Rule{ODataType: imeapi.TypeScriptDetection, ScriptContent: src}, true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Eval(context.Background(), imeapi.Rule{ODataType: imeapi.TypeScriptRequirement, ScriptContent: src, DetectionType: "string", Operator: "equal", DetectionValue: "out"}, false); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Fatalf("%d runs observed, want 2", len(runs))
	}
	for i, r := range runs {
		if r.Detection != (i == 0) || r.PID <= 0 || r.ExitCode != 3 || r.Stdout != "out\n" || r.Stderr != "oops\n" || r.Err != nil || len(r.Argv) != 2 {
			t.Errorf("run %d: %+v", i, r)
		}
	}
}
