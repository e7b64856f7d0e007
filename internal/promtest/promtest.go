// Package promtest scrapes a /metrics endpoint in tests and parses it with
// the Prometheus text parser (prometheus/common/expfmt), so that tests
// assert on metric families, types, labels and values rather than on
// substrings. It is for tests only: it fails the test on any error and
// does nothing else.
package promtest

import (
	"io"
	"mime"
	"net/http"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Families are parsed metric families by name.
type Families map[string]*dto.MetricFamily

// Scrape GETs url (a /metrics endpoint), checks that the answer is the
// text exposition format and parses it.
func Scrape(t testing.TB, url string) Families {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape %s: %s: %s", url, resp.Status, body)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/plain" {
		t.Fatalf("scrape %s: Content-Type %q, want the text format", url, resp.Header.Get("Content-Type"))
	}
	return Parse(t, resp.Body)
}

// Parse parses the text exposition format from r.
func Parse(t testing.TB, r io.Reader) Families {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parse metrics: %v", err)
	}
	return fams
}

// Family returns the family name, checking that it exists and has type typ.
func (f Families) Family(t testing.TB, name string, typ dto.MetricType) *dto.MetricFamily {
	t.Helper()
	fam, ok := f[name]
	if !ok {
		t.Fatalf("no metric family %s (have %v)", name, f.names())
	}
	if fam.GetType() != typ {
		t.Fatalf("%s is a %v, want a %v", name, fam.GetType(), typ)
	}
	return fam
}

// Metric returns the one series of family name whose labels are exactly
// labels ("k=v" pairs), failing the test when there is none.
func (f Families) Metric(t testing.TB, name string, typ dto.MetricType, labels ...string) *dto.Metric {
	t.Helper()
	fam := f.Family(t, name, typ)
	want := strings.Join(sorted(labels), ",")
	var have []string
	for _, m := range fam.GetMetric() {
		got := labelsOf(m)
		if got == want {
			return m
		}
		have = append(have, "{"+got+"}")
	}
	t.Fatalf("%s has no series {%s}; it has %v", name, want, have)
	return nil
}

// Value is the value of a counter or gauge series of family name (see Metric).
func (f Families) Value(t testing.TB, name string, typ dto.MetricType, labels ...string) float64 {
	t.Helper()
	m := f.Metric(t, name, typ, labels...)
	switch typ {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue()
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("Value of a %v: use Metric", typ)
	return 0
}

// LabelNames lists, sorted, the label names of every series of family name.
func (f Families) LabelNames(t testing.TB, name string) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, m := range f[name].GetMetric() {
		for _, l := range m.GetLabel() {
			seen[l.GetName()] = true
		}
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (f Families) names() []string {
	var out []string
	for k := range f {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func labelsOf(m *dto.Metric) string {
	var ls []string
	for _, l := range m.GetLabel() {
		ls = append(ls, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(sorted(ls), ",")
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}
