package main

import (
	"flag"
	"fmt"

	"github.com/imepipe/imepipe/orchestrate"
)

// persistFlags adds the bounds of kept content (persistContent, agent-wide
// with --persist-content or per app in app.json) to the agent's flags;
// the returned apply checks them after parsing and sets them in cfg.
func persistFlags(fs *flag.FlagSet) (apply func(cfg *orchestrate.Config) error) {
	maxSize := fs.String("persist-max-size", "10GiB", "kept content (persistContent) is bounded by this `SIZE` in all; least recently used evicted first")
	maxApps := fs.Int("persist-max-apps", 20, "kept content (persistContent) is bounded to this many `APPS`; least recently used evicted first")
	return func(cfg *orchestrate.Config) error {
		n, err := sizeFlag("persist-max-size", *maxSize, 1<<20)
		if err != nil {
			return err
		}
		if *maxApps < 1 {
			return badValue("persist-max-apps", fmt.Sprint(*maxApps), "want at least 1")
		}
		cfg.PersistMaxBytes, cfg.PersistMaxApps = n, *maxApps
		return nil
	}
}
