package main

import (
	"flag"
	"fmt"

	"github.com/imepipe/imepipe/orchestrate"
)

// The IME's log rotation defaults (HKLM\SOFTWARE\Microsoft\IntuneWindowsAgent\Logging:
// LogMaxSize 2 MB in bytes, LogMaxHistory 1 rotated file).
const (
	defaultLogMaxSize  = "2MiB"
	defaultLogMaxFiles = 1
)

// logFlags adds the rotation of IntuneManagementExtension.log and
// AgentExecutor.log to the agent's flags (the IME's LogMaxSize and
// LogMaxHistory); the returned apply checks them after parsing and sets
// them in cfg.
func logFlags(fs *flag.FlagSet) (apply func(cfg *orchestrate.Config) error) {
	maxSize := fs.String("log-max-size", defaultLogMaxSize, "rotate each log before it passes `SIZE` (the IME's LogMaxSize) into NAME-YYYYMMDD-HHMMSS.log")
	maxFiles := fs.Int("log-max-files", defaultLogMaxFiles, "rotated logs kept per log (the IME's LogMaxHistory); older ones are deleted")
	return func(cfg *orchestrate.Config) error {
		n, err := sizeFlag("log-max-size", *maxSize, 4<<10)
		if err != nil {
			return err
		}
		if *maxFiles < 1 {
			return badValue("log-max-files", fmt.Sprint(*maxFiles), "want at least 1")
		}
		cfg.LogMaxSize, cfg.LogKeep = n, *maxFiles
		return nil
	}
}
