package service

import (
	"os"
	"sync"
	"testing"

	"github.com/imepipe/imepipe/internal/pgtest"
)

// The package's PostgreSQL tests share one cluster (initdb costs about a
// CPU-second); each takes a fresh database of it.
var (
	pgOnce    sync.Once
	pgCluster *pgtest.Server
	pgErr     error
)

// newPGDatabase returns the URL of an empty database on the shared
// cluster, started on first use; it skips or fails as pgtest.Need does.
func newPGDatabase(t *testing.T) string {
	t.Helper()
	bin := pgtest.Need(t)
	pgOnce.Do(func() { pgCluster, pgErr = pgtest.Launch(bin) })
	if pgErr != nil {
		t.Fatal(pgErr)
	}
	return pgCluster.NewDatabase(t)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pgCluster != nil {
		pgCluster.Stop()
	}
	os.Exit(code)
}
