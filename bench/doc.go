// Package bench measures imepipe against baselines on generated data.
//
// It holds the pieces every benchmark of the pipeline shares: a
// deterministic dataset generator (Generate: the same profile, size and
// seed always give a byte-identical setup folder), a package cache (a
// generated and packed dataset is reused across runs), runners that time
// child processes from their rusage (wall, user and system CPU, peak RSS),
// the medians and ratios of a set of runs, and the report, as JSON or as
// a text table.
//
// Local times the local path (verify, decrypt and extract an .intunewin
// already on disk) for imepipe's unpack and two baselines run side by
// side, interleaved run by run: a sequential standard-library
// implementation (StdlibUnpack, run in a child process through a hidden
// imepipe subcommand) and a shell script of unzip and openssl. Every run's
// output tree is checked against the source folder before its time counts.
//
// The package parses no command line (cmd/imepipe does). It serves what
// the networked runs need on loopback only (ServeLoopback, ServeService,
// a rate-capped origin); those runs themselves, through the service,
// fetch and peers, are its subpackages e2e and fleet.
package bench
