package main

import (
	"flag"
	"fmt"
	"math"
	"time"

	"github.com/imepipe/imepipe/peer"
)

// doPolicyFlags adds Delivery Optimization's back-to-source policies as
// flags, in DO's units (seconds, KB/s) and with DO's defaults, and
// returns a function that reads them once the flags are parsed: the
// policy (without its priority) and DOMaxUploadBandwidth in bytes per
// second (0: no cap). Each value must fit a DWORD, as DO's do, so none
// overflows once turned into bytes or a time.Duration.
func doPolicyFlags(fs *flag.FlagSet) func() (peer.Policy, int64, error) {
	bg := fs.Int("do-delay-background-download-from-http", 0,
		"DODelayBackgroundDownloadFromHttp: `SECONDS` a background download waits for peers before it takes a piece no peer has over HTTP (0: not set)")
	fg := fs.Int("do-delay-foreground-download-from-http", 0,
		"DODelayForegroundDownloadFromHttp: `SECONDS` a foreground download waits for peers before HTTP (0: not set)")
	qos := fs.Int("do-min-background-qos", peer.DefaultMinBackgroundQos>>10,
		"DOMinBackgroundQos: `KB/s` below which a background download complements from HTTP")
	up := fs.Int("do-max-upload-bandwidth", 0, "DOMaxUploadBandwidth: `KB/s` this device uploads to peers at most (0: unlimited)")
	return func() (peer.Policy, int64, error) {
		for _, f := range []struct {
			name string
			v    int
		}{{"do-delay-background-download-from-http", *bg}, {"do-delay-foreground-download-from-http", *fg},
			{"do-min-background-qos", *qos}, {"do-max-upload-bandwidth", *up}} {
			if f.v < 0 || int64(f.v) > math.MaxUint32 {
				return peer.Policy{}, 0, badValue(f.name, fmt.Sprint(f.v), "want 0 to 4294967295 (DO's policies are DWORDs)")
			}
		}
		p := peer.Policy{
			DelayBackgroundDownloadFromHttp: time.Duration(*bg) * time.Second,
			DelayForegroundDownloadFromHttp: time.Duration(*fg) * time.Second,
			MinBackgroundQos:                int64(*qos) << 10,
		}
		if *qos == 0 {
			p.MinBackgroundQos = -1 // off
		}
		return p, int64(*up) << 10, nil
	}
}

// doCacheFlags adds DO's cache policies for the agent's DOCache as flags,
// in DO's units and with DO's defaults (DOAbsoluteMaxCacheSize,
// DOMaxCacheSize in percent of the disk, DOMaxCacheAge in seconds); the
// returned function reads them once the flags are parsed.
func doCacheFlags(fs *flag.FlagSet) func() (peer.CacheOptions, error) {
	size := fs.String("do-max-cache-size", "", "DOAbsoluteMaxCacheSize: the DO cache holds at most this `SIZE` (e.g. 10GiB); wins over --do-max-cache-size-percent (unset: the percent applies)")
	pct := fs.Int("do-max-cache-size-percent", peer.DefaultMaxPercent, "DOMaxCacheSize: the DO cache holds at most this `PERCENT` of its disk")
	age := fs.Int64("do-max-cache-age", int64(peer.DefaultMaxAge/time.Second), "DOMaxCacheAge: `SECONDS` a file not used stays in the DO cache (unless pinned)")
	return func() (peer.CacheOptions, error) {
		var o peer.CacheOptions
		if *size != "" {
			n, err := sizeFlag("do-max-cache-size", *size, 1<<20)
			if err != nil {
				return o, err
			}
			o.MaxBytes = n
		}
		if *pct < 1 || *pct > 100 {
			return o, badValue("do-max-cache-size-percent", fmt.Sprint(*pct), "want 1 to 100")
		}
		if *age < 1 || *age > int64(math.MaxInt64/time.Second) {
			return o, badValue("do-max-cache-age", fmt.Sprint(*age), "want a number of seconds of at least 1")
		}
		o.MaxPercent, o.MaxAge = *pct, time.Duration(*age)*time.Second
		return o, nil
	}
}
