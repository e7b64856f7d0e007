package orchestrate

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/imepipe/imepipe/internal/clocktest"
)

// envTestAgent makes the test binary an agent process: its value is a
// testAgentConfig in JSON; the process syncs once and exits.
const envTestAgent = "IMEPIPE_TEST_AGENT"

// testAgentConfig is what a test agent process is started with.
type testAgentConfig struct {
	Root, ServiceURL, Secret string
	Now                      time.Time // frozen clock
	InstallTimeout           time.Duration
}

// testAgentMain runs one sync as a separate agent process when the test
// binary was started with envTestAgent (crash tests SIGKILL it); it
// returns at once otherwise.
func testAgentMain() {
	v := os.Getenv(envTestAgent)
	if v == "" {
		return
	}
	var c testAgentConfig
	if err := json.Unmarshal([]byte(v), &c); err != nil {
		fmt.Fprintln(os.Stderr, "test agent:", err)
		os.Exit(2)
	}
	a, err := New(Config{Root: c.Root, ServiceURL: c.ServiceURL, EnrollmentSecret: c.Secret, DeviceName: "test-pc",
		Clock: clocktest.Func(func() time.Time { return c.Now }), InstallTimeout: c.InstallTimeout,
		Logf: func(f string, args ...any) { fmt.Fprintf(os.Stderr, f+"\n", args...) }})
	if err != nil {
		fmt.Fprintln(os.Stderr, "test agent:", err)
		os.Exit(2)
	}
	err = a.Sync(context.Background())
	a.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "test agent:", err)
		os.Exit(1)
	}
	os.Exit(0)
}
