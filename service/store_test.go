package service

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
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
	t.Run("syncs", func(t *testing.T) {
		s := open(t)
		defer s.close()
		if st, err := s.syncOf("dev-b"); err != nil || !st.At.IsZero() || st.Props != nil {
			t.Fatalf("before any sync: %+v, %v; want zero", st, err)
		}
		props := map[string]string{"model": "Latitude", "osVersion": "10.0.22631"}
		st, err := s.putSync("dev-b", at, props)
		if err != nil || !st.At.Equal(at) || !reflect.DeepEqual(st.Props, props) {
			t.Fatalf("putSync with properties: %+v, %v", st, err)
		}
		// A sync without properties (GET policies) moves the time and
		// keeps them; an empty set replaces them.
		later := at.Add(time.Hour)
		if st, err = s.putSync("dev-b", later, nil); err != nil || !st.At.Equal(later) || !reflect.DeepEqual(st.Props, props) {
			t.Fatalf("putSync without properties: %+v, %v; want %v kept", st, err, props)
		}
		if st, err = s.putSync("dev-a", at, map[string]string{}); err != nil || st.Props == nil || len(st.Props) != 0 {
			t.Fatalf("putSync with none: %+v, %v; want an empty, non-nil set", st, err)
		}
		if _, err := s.putSync("dev-nobody", at, props); !errors.Is(err, errNoDevice) {
			t.Fatalf("putSync of an unknown device: %v; want errNoDevice", err)
		}
		if st, err := s.syncOf("dev-b"); err != nil || !st.At.Equal(later) || !reflect.DeepEqual(st.Props, props) {
			t.Fatalf("syncOf(dev-b) = %+v, %v", st, err)
		}
		all, err := s.devices()
		if err != nil || len(all) != 2 || !all[1].Sync.At.Equal(later) || !reflect.DeepEqual(all[1].Sync.Props, props) || all[0].Sync.Props == nil {
			t.Fatalf("devices() syncs: %+v, %v", all, err)
		}
		d, err := s.deviceByToken(hash("tok-dev-b"))
		if err != nil || d == nil || !d.Sync.At.Equal(later) || !reflect.DeepEqual(d.Properties, devs[0].Properties) {
			t.Fatalf("deviceByToken after syncs: %+v, %v; want the sync and the enrollment properties apart", d, err)
		}
	})
	t.Run("sessions", func(t *testing.T) {
		s := open(t)
		defer s.close()
		key := func(i int) []byte { return hash(fmt.Sprint("session-", i)) }
		ttl := 8 * time.Hour
		if _, ok, err := s.sessionExpiry(key(0)); err != nil || ok {
			t.Fatalf("unknown session: ok %v, %v", ok, err)
		}
		for i := range 3 {
			if err := s.putSession(key(i), at.Add(ttl+time.Duration(i)*time.Second), at, 3); err != nil {
				t.Fatal(err)
			}
		}
		if exp, ok, err := s.sessionExpiry(key(1)); err != nil || !ok || !exp.Equal(at.Add(ttl+time.Second)) {
			t.Fatalf("session 1 ends %v (%v, %v)", exp, ok, err)
		}
		// A fourth past keep=3 drops the oldest (session 0).
		if err := s.putSession(key(3), at.Add(ttl+3*time.Second), at, 3); err != nil {
			t.Fatal(err)
		}
		for i, want := range []bool{false, true, true, true} {
			if _, ok, err := s.sessionExpiry(key(i)); err != nil || ok != want {
				t.Fatalf("after the fourth, session %d: ok %v (%v); want %v", i, ok, err, want)
			}
		}
		if err := s.deleteSession(key(2)); err != nil {
			t.Fatal(err)
		}
		if err := s.deleteSession(key(99)); err != nil {
			t.Fatalf("deleting an unknown session: %v", err)
		}
		if _, ok, _ := s.sessionExpiry(key(2)); ok {
			t.Fatal("session 2 survives its deletion")
		}
		// Once 1 and 3 have ended, the next start sweeps them.
		end := at.Add(ttl + 3*time.Second)
		if err := s.putSession(key(4), end.Add(ttl), end, 3); err != nil {
			t.Fatal(err)
		}
		for i, want := range map[int]bool{1: false, 3: false, 4: true} {
			if _, ok, err := s.sessionExpiry(key(i)); err != nil || ok != want {
				t.Fatalf("after the sweep, session %d: ok %v (%v); want %v", i, ok, err, want)
			}
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
		// A restart keeps the syncs and the sessions.
		if st, err := s.syncOf("dev-b"); err != nil || !st.At.Equal(at.Add(time.Hour)) || st.Props["model"] != "Latitude" {
			t.Fatalf("after reopening, sync %+v, %v", st, err)
		}
		if _, ok, err := s.sessionExpiry(hash("session-4")); err != nil || !ok {
			t.Fatalf("after reopening, session: ok %v, %v", ok, err)
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
// PostgreSQL URL, a URL pgx cannot parse, or an unreachable database, is
// one line that names the store once, without its password, and says why
// in a few words.
func TestOpenStoreRefuses(t *testing.T) {
	if _, err := openStore("mysql://u:hunter2@h/db", t.TempDir()); err == nil || !errors.Is(err, ErrStore) ||
		err.Error() != `unknown store "mysql://u:xxxxx@h/db" (want bbolt or a postgres:// URL)` {
		t.Fatalf("mysql URL: %v; want ErrStore without the password", err)
	}
	if _, err := openStore("postgres://u:hunter2@%zz/db", t.TempDir()); err == nil || err.Error() != "store postgres://u:xxxxx@%zz/db: not a valid PostgreSQL URL" {
		t.Fatalf("unparsable URL: %v", err)
	}
	// A port nothing listens on: bind one, then close it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = openStore("postgres://u:hunter2@"+addr+"/db?connect_timeout=5", t.TempDir())
	if want := "store postgres://u:xxxxx@" + addr + "/db?connect_timeout=5: cannot connect to " + addr + ": connection refused (is PostgreSQL listening there?)"; err == nil || err.Error() != want {
		t.Fatalf("unreachable database: %v\nwant %s", err, want)
	}
	for spec, want := range map[string]string{
		"postgres://u:pw@h:5432/db":                       "postgres://u:xxxxx@h:5432/db",
		"postgres://u@h/db":                               "postgres://u@h/db", // no password to hide
		"postgresql://h/db?sslmode=disable&password=s3cr": "postgresql://h/db?sslmode=disable&password=xxxxx",
		"postgres://u:p@w@h/db?Password=x":                "postgres://u:xxxxx@h/db?Password=xxxxx",
	} {
		if got := redactStore(spec); got != want {
			t.Errorf("redactStore(%s) = %s, want %s", spec, got, want)
		}
	}
}
