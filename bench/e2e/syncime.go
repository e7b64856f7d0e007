package e2e

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/imeapi"
)

// imeOrder is the IME's own order of a sync, as the e2e benchmark's
// ime-sequential run models it for one app, applied to every required
// app in turn: the content info and keys, one HTTP stream into
// Content/Incoming, then the IME's passes over the file (HMAC, decrypt,
// SHA-256, unzip: bench.StdlibUnpackRaw), then the install command
// (sh -c, in the app's IMECache folder, %ProgramFiles% at the root's
// emulated drive as the agent sets it), then the next app. It does not
// evaluate detection or requirement rules before an app (the bench's
// apps have none that hold before their install); syncOnce's check
// afterwards is the same as for the agent's runs. own is the bench's
// apps by id: a policy for any other app is refused, and the names of
// paths and the install command are own's, never the service's.
func imeOrder(ctx context.Context, cfg SyncConfig, own map[string]imeapi.Win32LobApp, svcURL, secret, root string) (float64, error) {
	priv, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return 0, fmt.Errorf("e2e: %w", err)
	}
	c := imeapi.NewClient(svcURL, nil)
	if _, err := c.Enroll(ctx, "SYNC-"+filepath.Base(root), secret, priv.PublicKey()); err != nil {
		return 0, err
	}
	incoming := filepath.Join(root, "Content", "Incoming")
	programFiles := filepath.Join(root, "Drive", "C", "Program Files")
	for _, d := range []string{incoming, programFiles, filepath.Join(root, "IMECache")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return 0, fmt.Errorf("e2e: %w", err)
		}
	}
	start := time.Now()
	pol, err := c.Policies(ctx)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, p := range pol.Policies {
		if p.Intent != imeapi.IntentRequired {
			continue
		}
		app, ok := own[p.AppID]
		if !ok || p.Version != app.Version {
			return 0, fmt.Errorf("%w: %s: the service offered %s_%s, not one of the bench's apps", ErrSync, NameSyncIME, p.AppID, p.Version)
		}
		if err := imeOrderApp(ctx, c, priv, app, root, incoming, programFiles); err != nil {
			return 0, fmt.Errorf("%w: %s: app %s: %w", ErrSync, NameSyncIME, p.AppID, err)
		}
		done++
	}
	took := time.Since(start).Seconds()
	if done != cfg.Apps {
		return 0, fmt.Errorf("%w: %s: %d of %d apps required", ErrSync, NameSyncIME, done, cfg.Apps)
	}
	if err := checkInstalledOnce(cfg, root); err != nil {
		return 0, err
	}
	return took, dropRun(cfg, root)
}

// imeOrderApp is one app of imeOrder: download, the IME's passes, install.
func imeOrderApp(ctx context.Context, c *imeapi.Client, priv *ecdh.PrivateKey, app imeapi.Win32LobApp, root, incoming, programFiles string) error {
	ci, keys, err := contentKeys(ctx, c, priv, app.ID, app.Version)
	if err != nil {
		return err
	}
	bin := filepath.Join(incoming, app.ID+"_"+app.Version+".bin")
	if _, err := download(ctx, ci.ContentInfo.UploadLocation, bin); err != nil {
		return err
	}
	cache := filepath.Join(root, "IMECache", app.ID+"_"+app.Version)
	if _, err := bench.StdlibUnpackRaw(ctx, bin, keys, cache, nil); err != nil {
		return err
	}
	if err := os.Remove(bin); err != nil { // the IME keeps no .bin once extracted
		return fmt.Errorf("e2e: %w", err)
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", app.InstallCommandLine)
	cmd.Dir = cache
	cmd.Env = append(os.Environ(), "ProgramFiles="+programFiles)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("e2e: install command: %w: %s", err, out)
	}
	return nil
}
