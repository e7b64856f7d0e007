package load

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/imepipe/imepipe/internal/pgtest"
)

// check asserts a run made every request of every kind without error
// and that its figures are consistent.
func check(t *testing.T, res Result, agents, rounds int) {
	t.Helper()
	if res.Enroll.Requests != agents || res.Enroll.Errors != 0 {
		t.Fatalf("enroll: %+v", res.Enroll)
	}
	want := []string{"policies", "contentinfo", "reports"}
	if len(res.Ops) != len(want) {
		t.Fatalf("ops %+v, want %v", res.Ops, want)
	}
	for i, o := range res.Ops {
		if o.Name != want[i] || o.Requests != agents*rounds || o.Errors != 0 || o.PerSecond <= 0 || o.P50Ms <= 0 || o.P99Ms < o.P50Ms {
			t.Errorf("op %d: %+v", i, o)
		}
	}
}

// TestRunBolt: a small run on bbolt in this process makes every request.
func TestRunBolt(t *testing.T) {
	res, err := Run(context.Background(), Config{Agents: 6, Rounds: 2, Concurrency: 3, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Store != "bbolt" || res.Servers != 1 {
		t.Fatalf("result %+v", res)
	}
	check(t, res, 6, 2)
}

// TestRunTwoPostgres: two servers on one PostgreSQL, agents enrolled on
// one and asking the other, make every request.
func TestRunTwoPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	res, err := Run(context.Background(), Config{Agents: 6, Rounds: 1, Concurrency: 4, Servers: 2, Store: pg.NewDatabase(t), Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res.Store != "postgres" || res.Servers != 2 {
		t.Fatalf("result %+v", res)
	}
	check(t, res, 6, 1)
}

// TestRunRefuses: two servers on bbolt, or no work folder, are refused
// before anything starts.
func TestRunRefuses(t *testing.T) {
	for _, cfg := range []Config{{Servers: 2, Dir: t.TempDir()}, {}, {Servers: 3, Store: "postgres://x/y", Dir: t.TempDir()}} {
		if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", cfg, err)
		}
	}
}

// TestPercentile: nearest rank over sorted samples.
func TestPercentile(t *testing.T) {
	d := make([]time.Duration, 100)
	for i := range d {
		d[i] = time.Duration(100-i) * time.Millisecond
	}
	if p := percentile(d, 0.5); p != 50 {
		t.Errorf("p50 %v, want 50", p)
	}
	if p := percentile(d, 0.99); p != 99 {
		t.Errorf("p99 %v, want 99", p)
	}
	if p := percentile(nil, 0.5); p != 0 {
		t.Errorf("empty: %v", p)
	}
}
