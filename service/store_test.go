package service

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// storeOpener opens the same store again each call (after the previous
// one is closed).
type storeOpener func(t *testing.T) store

// TestStore runs one suite against both backends: the embedded bbolt
// file and PostgreSQL (a private cluster; skipped when absent, failed
// under CI=true).
func TestStore(t *testing.T) {
	t.Run("bbolt", func(t *testing.T) {
		dir := t.TempDir()
		storeSuite(t, func(t *testing.T) store {
			s, err := openStore("", dir)
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := newPGDatabase(t)
		storeSuite(t, func(t *testing.T) store {
			s, err := openStore(url, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

func storeSuite(t *testing.T, open storeOpener) {
	at := time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC)
	hash := func(tok string) []byte { h := sha256.Sum256([]byte(tok)); return h[:] }
	devs := []device{
		{ID: "dev-b", Name: "pc-b <script>", PublicKey: bytes.Repeat([]byte{2}, 32), Groups: []string{"g1", "g2"}, EnrolledAt: at,
			Properties: map[string]string{"model": "Surface"}},
		{ID: "dev-a", Name: "pc-a", PublicKey: bytes.Repeat([]byte{1}, 32), EnrolledAt: at.Add(time.Second)},
	}
	var key []byte
	t.Run("devices", func(t *testing.T) {
		s := open(t)
		defer s.close()
		for _, d := range devs {
			if err := s.addDevice(d, hash("tok-"+d.ID)); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range devs {
			got, err := s.deviceByToken(hash("tok-" + d.ID))
			if err != nil || got == nil || !reflect.DeepEqual(*got, d) {
				t.Fatalf("deviceByToken(%s) = %+v, %v; want %+v", d.ID, got, err, d)
			}
		}
		if got, err := s.deviceByToken(hash("tok-nobody")); err != nil || got != nil {
			t.Fatalf("unknown token: %+v, %v; want nil", got, err)
		}
		all, err := s.devices()
		if err != nil || len(all) != 2 || all[0].ID != "dev-a" || all[1].ID != "dev-b" {
			t.Fatalf("devices() = %+v, %v; want dev-a, dev-b", all, err)
		}
	})
	t.Run("reports", func(t *testing.T) {
		s := open(t)
		defer s.close()
		rep := func(app string, code imeapi.EnforcementState, when time.Time) storedReport {
			return storedReport{Report: imeapi.Report{AppID: app, EnforcementState: code}, ReceivedAt: when}
		}
		if err := s.putReports("dev-a", []storedReport{rep("app1", imeapi.EnforcementInProgress, at), rep("app2", imeapi.EnforcementSuccess, at)}); err != nil {
			t.Fatal(err)
		}
		if err := s.putReports("dev-b", []storedReport{rep("app1", imeapi.EnforcementError, at)}); err != nil {
			t.Fatal(err)
		}
		// A later report of app1 replaces the earlier one; app2 stays. Of
		// two reports of one app in one call, the later wins.
		later := at.Add(time.Hour)
		if err := s.putReports("dev-a", []storedReport{rep("app1", imeapi.EnforcementError, later), rep("app1", imeapi.EnforcementSuccess, later)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.reports("dev-a")
		want := map[string]storedReport{"app1": rep("app1", imeapi.EnforcementSuccess, later), "app2": rep("app2", imeapi.EnforcementSuccess, at)}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("reports(dev-a) = %+v, %v; want %+v", got, err, want)
		}
		if got, err := s.reports("dev-b"); err != nil || len(got) != 1 || got["app1"].Report.EnforcementState != imeapi.EnforcementError {
			t.Fatalf("reports(dev-b) = %+v, %v", got, err)
		}
		if got, err := s.reports("dev-nobody"); err != nil || len(got) != 0 {
			t.Fatalf("reports(dev-nobody) = %+v, %v; want none", got, err)
		}
	})
	t.Run("secret", func(t *testing.T) {
		s := open(t)
		var err error
		if key, err = s.secret("blob-signing-key", 32); err != nil || len(key) != 32 {
			t.Fatalf("secret: %x, %v", key, err)
		}
		again, err := s.secret("blob-signing-key", 32)
		if err != nil || !bytes.Equal(again, key) {
			t.Fatalf("second read %x, %v; want %x", again, err, key)
		}
		other, err := s.secret("other", 32)
		if err != nil || bytes.Equal(other, key) {
			t.Fatalf("another name gave %x, %v", other, err)
		}
		s.close()
	})
	t.Run("reopen", func(t *testing.T) {
		s := open(t)
		defer s.close()
		if got, err := s.secret("blob-signing-key", 32); err != nil || !bytes.Equal(got, key) {
			t.Fatalf("after reopening, secret %x, %v; want %x", got, err, key)
		}
		if got, err := s.deviceByToken(hash("tok-dev-b")); err != nil || got == nil || got.Name != devs[0].Name {
			t.Fatalf("after reopening, device %+v, %v", got, err)
		}
		if got, err := s.reports("dev-a"); err != nil || len(got) != 2 {
			t.Fatalf("after reopening, reports %+v, %v", got, err)
		}
	})
}

// TestStorePostgresShared: two stores on one database (two serve
// processes) opened at once migrate once, see each other's devices and
// reports, and agree on secrets however many ask at once.
func TestStorePostgresShared(t *testing.T) {
	url := newPGDatabase(t)
	const n = 4
	stores := make([]store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = openStore(url, t.TempDir()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("store %d: %v", i, err)
		}
		defer stores[i].close()
	}
	pool := stores[0].(*pgStore).pool
	var applied int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	steps, err := loadMigrations(migrations)
	if err != nil || applied != len(steps) || len(steps) == 0 {
		t.Fatalf("schema_migrations has %d rows; %d steps (%v)", applied, len(steps), err)
	}
	if n, err := migrate(t.Context(), pool, steps); err != nil || n != 0 {
		t.Fatalf("migrating again applied %d (%v); want 0", n, err)
	}

	keys := make([][]byte, n)
	for i := range n {
		wg.Go(func() { keys[i], errs[i] = stores[i].secret("blob-signing-key", 32) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("store %d's key %x (%v); store 0's %x", i, keys[i], errs[i], keys[0])
		}
	}

	h := sha256.Sum256([]byte("tok"))
	if err := stores[0].addDevice(device{ID: "d1", Name: "pc", EnrolledAt: time.Now()}, h[:]); err != nil {
		t.Fatal(err)
	}
	if err := stores[1].putReports("d1", []storedReport{{Report: imeapi.Report{AppID: "a1"}}}); err != nil {
		t.Fatal(err)
	}
	if d, err := stores[1].deviceByToken(h[:]); err != nil || d == nil || d.ID != "d1" {
		t.Fatalf("store 1 finds %+v, %v; want d1 enrolled through store 0", d, err)
	}
	if r, err := stores[0].reports("d1"); err != nil || len(r) != 1 {
		t.Fatalf("store 0 reads %+v, %v; want store 1's report", r, err)
	}
}

// TestOpenStoreRefuses: a store spec that is neither bbolt nor a
// PostgreSQL URL, or an unreachable database, is one error that names no
// password.
func TestOpenStoreRefuses(t *testing.T) {
	if _, err := openStore("mysql://u:hunter2@h/db", t.TempDir()); err == nil || !errors.Is(err, ErrStore) || bytes.Contains([]byte(err.Error()), []byte("hunter2")) {
		t.Fatalf("mysql URL: %v; want ErrStore without the password", err)
	}
	_, err := openStore("postgres://u:hunter2@127.0.0.1:1/db?connect_timeout=2", t.TempDir())
	if err == nil || bytes.Contains([]byte(err.Error()), []byte("hunter2")) {
		t.Fatalf("unreachable database: %v; want an error without the password", err)
	}
	if got := redactStore("postgres://u:pw@h:5432/db"); got != "postgres://u:xxxxx@h:5432/db" {
		t.Fatalf("redactStore = %s", got)
	}
}
