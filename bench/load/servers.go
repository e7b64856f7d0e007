package load

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/imepipe/imepipe/bench"
	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service"
)

// appID is the benchmark app's id.
const appID = "6c6f6164-0000-4000-8000-000000000001"

// fleet is the running servers the agents talk to.
type fleet struct {
	urls   []string
	secret string
	app    imeapi.Win32LobApp
	stops  []func()
}

func (f *fleet) stop() {
	for i := len(f.stops) - 1; i >= 0; i-- {
		f.stops[i]()
	}
}

// startFleet lays out the apps folder (one small packed app) and the
// shared secret files, and starts cfg.Servers servers on them.
func startFleet(ctx context.Context, cfg Config) (*fleet, error) {
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	run, err := os.MkdirTemp(cfg.Dir, "run-")
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	f := &fleet{stops: []func(){func() { os.RemoveAll(run) }}}
	pkg, err := packApp(ctx, run)
	if err != nil {
		f.stop()
		return nil, err
	}
	f.app = imeapi.Win32LobApp{
		ODataType: imeapi.TypeWin32LobApp, ID: appID, Version: "1",
		DisplayName: "imepipe load app", SetupFilePath: "install.cmd",
		InstallCommandLine: "install.cmd", UninstallCommandLine: "uninstall.cmd",
		Rules: []imeapi.Rule{{ODataType: imeapi.TypeFileSystemRule, RuleType: "detection", Path: `%ProgramFiles%\ImepipeLoad`,
			FileOrFolderName: "installed.txt", OperationType: "exists"}},
		Assignments: []imeapi.Assignment{{Intent: "required", Target: imeapi.AssignmentTarget{ODataType: imeapi.TypeAllDevices}}},
	}
	apps := filepath.Join(run, "apps")
	if err := bench.WriteApp(apps, "load-app", f.app, pkg); err != nil {
		f.stop()
		return nil, err
	}
	secretFile, secret, err := writeSecret(run, "enrollment-secret")
	if err != nil {
		f.stop()
		return nil, err
	}
	adminFile, _, err := writeSecret(run, "admin-token")
	if err != nil {
		f.stop()
		return nil, err
	}
	f.secret = secret
	for i := range cfg.Servers {
		data := filepath.Join(run, fmt.Sprintf("data%d", i+1))
		var url string
		var stop func()
		if cfg.Exe != "" {
			url, stop, err = startChild(ctx, cfg.Exe, apps, data, cfg.Store, secretFile, adminFile)
		} else {
			url, stop, err = startInProcess(ctx, service.Config{AppsDir: apps, DataDir: data, Store: cfg.Store,
				EnrollmentSecretFile: secretFile, AdminTokenFile: adminFile})
		}
		if err != nil {
			f.stop()
			return nil, err
		}
		f.urls = append(f.urls, url)
		f.stops = append(f.stops, stop)
	}
	return f, nil
}

// packApp packs a small setup folder (64 KiB of data and two scripts)
// into dir/load.intunewin.
func packApp(ctx context.Context, dir string) (string, error) {
	setup := filepath.Join(dir, "setup")
	if err := os.MkdirAll(setup, 0o755); err != nil {
		return "", fmt.Errorf("load: %w", err)
	}
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for name, body := range map[string][]byte{"install.cmd": []byte("echo installed\r\n"), "uninstall.cmd": []byte("echo removed\r\n"), "payload.bin": data} {
		if err := os.WriteFile(filepath.Join(setup, name), body, 0o644); err != nil {
			return "", fmt.Errorf("load: %w", err)
		}
	}
	out := filepath.Join(dir, "load.intunewin")
	if _, err := decrypt.Pack(ctx, setup, "install.cmd", out, decrypt.PackOptions{}); err != nil {
		return "", err
	}
	return out, nil
}

func startInProcess(ctx context.Context, cfg service.Config) (string, func(), error) {
	srv, err := service.NewContext(ctx, cfg)
	if err != nil {
		return "", nil, err
	}
	hs, addr, err := bench.ServeLoopback(srv)
	if err != nil {
		srv.Close()
		return "", nil, err
	}
	return "http://" + addr, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		srv.Close()
	}, nil
}

var listening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)

// startChild runs `exe serve` on a free loopback port and returns its URL
// once it listens (within 60 s) and answers.
func startChild(ctx context.Context, exe, apps, data, store, secretFile, adminFile string) (string, func(), error) {
	args := []string{"serve", "-q", "--apps", apps, "--data", data, "--addr", "127.0.0.1:0",
		"--enrollment-secret-file", secretFile, "--admin-token-file", adminFile}
	if store != "" {
		args = append(args, "--store", store)
	}
	cmd := exec.Command(exe, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return "", nil, fmt.Errorf("load: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("load: start serve: %w", err)
	}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	found := make(chan string, 1)
	var tail strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		sent := false
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil && !sent {
				found <- m[1]
				sent = true
			} else if tail.Len() < 4096 && !sent {
				tail.WriteString(sc.Text() + "\n")
			}
		}
		if !sent {
			close(found)
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case url, ok := <-found:
		if !ok {
			stop()
			return "", nil, fmt.Errorf("load: serve exited before listening: %s", strings.TrimSpace(tail.String()))
		}
		resp, err := http.Get(url + "/api/v1/status")
		if err == nil {
			resp.Body.Close()
		}
		if err != nil {
			stop()
			return "", nil, fmt.Errorf("load: serve at %s: %w", url, err)
		}
		return url, stop, nil
	case <-time.After(60 * time.Second):
		stop()
		return "", nil, errors.New("load: serve did not listen within 60 s")
	case <-ctx.Done():
		stop()
		return "", nil, fmt.Errorf("load: %w", ctx.Err())
	}
}
