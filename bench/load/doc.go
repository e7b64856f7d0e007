// Package load is the service load benchmark (imepipe bench service): N
// simulated agents on loopback HTTP, each enrolled once, then asking for
// its policies, one app's content info and sending reports, a bounded
// number of requests in flight at a time. Per request kind it reports
// requests per second and the 50th and 99th latency percentiles, with
// the service on the embedded bbolt store or on PostgreSQL, with one
// serve process or two on one database (an agent enrolled through one
// asks the other).
//
// The agents here only make the API requests; they download, install
// and peer nothing (bench fleet and the agent do). It is a benchmark,
// not a test: its figures depend on the machine and its load.
package load
