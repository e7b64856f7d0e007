package e2e

import "github.com/imepipe/imepipe/bench"

// Save writes the report into dir as report.json, report.txt and
// report.svg and returns their paths.
func (r *Report) Save(dir string) ([]string, error) { return bench.SaveReport(dir, r) }
