package state

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "state.db"), 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRegistry(t *testing.T) {
	s := open(t)
	for _, c := range []struct{ name, typ, data, want string }{
		{"S", "", "text", "text"},
		{"D", "reg_dword", "0x1F", "31"},
		{"Q", "REG_QWORD", "18446744073709551615", "18446744073709551615"},
		{"M", "REG_MULTI_SZ", `a\0b`, "a\x00b"},
		{"B", "REG_BINARY", "00FF", "00ff"},
	} {
		v, err := ParseValue(c.name, c.typ, c.data)
		if err != nil || v.Data != c.want {
			t.Fatalf("%s: %q %v", c.name, v.Data, err)
		}
		if err := s.RegAdd(`HKLM\SOFTWARE\Test\Sub`, &v); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range [][2]string{{"REG_DWORD", "4294967296"}, {"REG_BINARY", "zz"}, {"REG_WHAT", "x"}} {
		if _, err := ParseValue("x", bad[0], bad[1]); !errors.Is(err, ErrBadKey) {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, err := NormalizeKey(`HKXX\a`); !errors.Is(err, ErrBadKey) {
		t.Fatal(err)
	}
	v, err := s.RegGet(`HKEY_LOCAL_MACHINE\software\test\sub`, "d")
	if err != nil || v.Type != RegDWORD {
		t.Fatalf("%+v %v", v, err)
	}
	if n, _ := v.Uint(); n != 31 {
		t.Fatalf("uint %d", n)
	}
	_, subs, err := s.RegQuery(`HKLM\SOFTWARE\Test`)
	if err != nil || len(subs) != 1 || subs[0] != "Sub" {
		t.Fatalf("parent query: %v %v", subs, err)
	}
	if err := s.RegDeleteValue(`HKLM\SOFTWARE\Test\Sub`, "S", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegGet(`HKLM\SOFTWARE\Test\Sub`, "S"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
	if err := s.RegDeleteKey(`HKLM\SOFTWARE\Test`); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RegQuery(`HKLM\SOFTWARE\Test\Sub`); !errors.Is(err, ErrNotFound) {
		t.Fatal("subkey survived its parent's deletion")
	}
	if err := s.RegDeleteKey(`HKLM`); !errors.Is(err, ErrBadKey) {
		t.Fatal("root key deletable")
	}
}

func TestResetAppAndLock(t *testing.T) {
	s := open(t)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, k := range []string{"app_1", "app_2", "other_1"} {
		if err := s.PutAttempts(DeviceUser, k, Attempts{Count: 3, Last: now}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetGRS(DeviceUser, "app", now); err != nil {
		t.Fatal(err)
	}
	a, err := s.App(DeviceUser, "app_1")
	if err != nil || !a.GRS.Equal(now) || a.Attempts.Count != 3 {
		t.Fatalf("%+v %v", a, err)
	}
	// APPID_REV resets that revision only (its attempts; GRS is per app).
	n, err := s.ResetApp("app_2")
	if err != nil || n != 2 {
		t.Fatalf("reset app_2 removed %d: %v", n, err)
	}
	if a, _ := s.App(DeviceUser, "app_1"); a.Attempts.Count != 3 {
		t.Fatalf("reset app_2 touched app_1: %+v", a.Attempts)
	}
	n, err = s.ResetApp("app")
	if err != nil || n != 1 {
		t.Fatalf("reset removed %d: %v", n, err)
	}
	// The revisions stay listed, with nothing done yet; others keep theirs.
	apps, _ := s.Apps()
	if len(apps) != 3 || apps[0].Attempts.Count != 0 || apps[1].Attempts.Count != 0 || !apps[0].GRS.IsZero() || apps[2].Attempts.Count != 3 {
		t.Fatalf("left %+v", apps)
	}
	for _, id := range []string{"nope", "app_9", "ap"} {
		if _, err := s.ResetApp(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("reset %s: %v, want ErrNotFound", id, err)
		}
	}
	if _, err := Open(filepath.Join(filepath.Dir(s.db.Path()), "state.db"), 50*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
}
