package orchestrate

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/imepipe/imepipe/imeapi"
)

// A download mode given is stored, HTTP only (0) included; one not given
// (nil, as CLI commands on the root pass) keeps the stored one.
func TestDownloadModeZeroAfterLANIsStored(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	open := func(mode *imeapi.DownloadMode) (imeapi.DownloadMode, string) {
		t.Helper()
		a, err := Open(Config{Root: root, DownloadMode: mode})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		st, err := a.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return *a.cfg.DownloadMode, st.Settings["DownloadMode"]
	}
	steps := []struct {
		give   *imeapi.DownloadMode
		want   imeapi.DownloadMode
		stored string
	}{
		{new(imeapi.ModeLAN), imeapi.ModeLAN, "1"},
		{nil, imeapi.ModeLAN, "1"},
		{new(imeapi.ModeHTTPOnly), imeapi.ModeHTTPOnly, "0"},
		{nil, imeapi.ModeHTTPOnly, "0"},
		{new(imeapi.ModeBypass), imeapi.ModeBypass, "100"},
	}
	for i, s := range steps {
		if got, stored := open(s.give); got != s.want || stored != s.stored {
			t.Fatalf("step %d: mode %v, stored %q; want %v, %q", i, got, stored, s.want, s.stored)
		}
	}
	bad := imeapi.DownloadMode(7)
	if _, err := Open(Config{Root: root, DownloadMode: &bad}); !errors.Is(err, imeapi.ErrCode) {
		t.Fatalf("mode 7: %v, want ErrCode", err)
	}
	if got, stored := open(nil); got != imeapi.ModeBypass || stored != "100" {
		t.Fatalf("after a refused mode: %v, %q; want the stored 100", got, stored)
	}
}
