package fleet

import (
	"math"
	"sort"
)

// summarize fills the report's fleet figures from its PerAgent records.
func (rep *Report) summarize() {
	var done []float64
	var ups, rss []int64
	var fromPeers, total int64
	t := &rep.Telemetry
	for _, r := range rep.PerAgent {
		done = append(done, r.CompletionS)
		ups = append(ups, r.BytesToLanPeers+r.BytesToGroupPeers+r.BytesToInternetPeers)
		rss = append(rss, r.PeakRSS)
		fromPeers += r.BytesFromPeers
		total += r.TotalBytesDownloaded
		c := r.Counted
		if r.NumPeers != c.NumPeers {
			t.NumPeersMismatch++
		}
		for _, d := range []struct {
			do, counted int64
			n           *int
		}{{r.BytesFromHttp, c.FromHttp, &t.FromHttpMismatch}, {r.BytesFromLanPeers, c.FromLanPeers, &t.FromLanPeersMismatch},
			{r.BytesToLanPeers, c.ToLanPeers, &t.ToLanPeersMismatch}} {
			if d.do != d.counted {
				*d.n++
				t.MaxDiffBytes = max(t.MaxDiffBytes, abs(d.do-d.counted))
			}
		}
	}
	rep.P50S, rep.P95S = quantile(done, 0.5), quantile(done, 0.95)
	if total > 0 {
		rep.PercentPeerCaching = float64(fromPeers) * 100 / float64(total)
	}
	sort.Slice(ups, func(i, j int) bool { return ups[i] < ups[j] })
	if n := len(ups); n > 0 {
		rep.UploadMaxBytes, rep.UploadMedianBytes = ups[n-1], ups[n/2]
	}
	sort.Slice(rss, func(i, j int) bool { return rss[i] < rss[j] })
	if n := len(rss); n > 0 {
		rep.AgentPeakRSSMax, rep.AgentPeakRSSMedian = rss[n-1], rss[n/2]
	}
}

// quantile is the q-quantile of xs (nearest rank); 0 for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
