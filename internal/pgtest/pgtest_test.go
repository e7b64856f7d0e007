package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The cluster answers queries, databases are separate, and Stop ends it.
func TestStart(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	a, b := s.NewDatabase(t), s.NewDatabase(t)
	if a == b {
		t.Fatalf("two databases share the URL %s", a)
	}
	c, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := c.QueryRow(ctx, "SELECT 40 + 2").Scan(&n); err != nil || n != 42 {
		t.Fatalf("SELECT 40 + 2 = %d, %v", n, err)
	}
	c.Close(ctx)
	if s.External() {
		return // EnvAddr's cluster outlives the test
	}
	s.Stop()
	if _, err := pgx.Connect(ctx, a); err == nil {
		t.Fatal("connected after Stop")
	}
}
