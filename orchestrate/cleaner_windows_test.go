package orchestrate

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/imepipe/imepipe/imeapi"
)

// envChain is the loopback address a chained installer's second process
// (this test binary, chainChildMain) calls the test at.
const envChain = "IMEPIPE_ORCHESTRATE_TEST_CHAIN"

// chainedCmd is a chained installer: it starts a second process and
// exits at once, as bootstrappers do; the second process does the work.
const chainedCmd = "@echo off\r\nstart \"\" /b \"%" + envTestExe + "%\"\r\nexit /b 0"

// chainChildMain is the second process when envChain is set: it calls the
// test, waits for its byte, waits for its parent (the .cmd) to have
// exited, copies payload.txt from its working folder (the app's IMECache
// folder) to %ProgramFiles%\Chain\app.txt (what detection looks for),
// answers and exits. If IMECache were cleaned when the .cmd exited, as the
// IME does, the copy would fail and the app would not be detected.
func chainChildMain() {
	addr := os.Getenv(envChain)
	if addr == "" {
		return
	}
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		os.Exit(2)
	}
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		os.Exit(3)
	}
	if err := waitParent(); err != nil {
		os.Exit(4)
	}
	data, err := os.ReadFile("payload.txt")
	if err != nil {
		c.Write([]byte{'G'}) // gone: IMECache was cleaned under us
		os.Exit(5)
	}
	dst := filepath.Join(os.Getenv("ProgramFiles"), "Chain")
	if os.MkdirAll(dst, 0o755) != nil || os.WriteFile(filepath.Join(dst, "app.txt"), data, 0o644) != nil {
		os.Exit(6)
	}
	c.Write([]byte{'K'})
	os.Exit(0)
}

// waitParent waits until this process's parent has exited (a parent
// already gone returns at once).
func waitParent() error {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(snap)
	self := windows.GetCurrentProcessId()
	e := windows.ProcessEntry32{Size: uint32(unsafe.Sizeof(windows.ProcessEntry32{}))}
	for err = windows.Process32First(snap, &e); err == nil; err = windows.Process32Next(snap, &e) {
		if e.ProcessID != self {
			continue
		}
		h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, e.ParentProcessID)
		if err != nil {
			return nil // gone already
		}
		defer windows.CloseHandle(h)
		_, err = windows.WaitForSingleObject(h, windows.INFINITE)
		return err
	}
	return err
}

// TestChainedCmdKeepsIMECache (issue #15, acceptance 3, at the agent's
// level): a .cmd installer that starts a second process and exits leaves
// the agent waiting (the Job Object holds the tree); the second process,
// after the .cmd has exited, still finds the content in IMECache; the
// agent detects only after it ends, and then cleans IMECache.
func TestChainedCmdKeepsIMECache(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	t.Setenv(envChain, ln.Addr().String()) // the installer's environment is the agent's
	app := fileApp("Chain", "required").installs("", chainedCmd).script("payload.txt", "setup payload")
	h := newHarness(t, []testApp{app}, nil)
	synced := make(chan struct{})
	go func() {
		defer close(synced)
		h.sync()
	}()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(time.Minute))
	conn, err := ln.Accept()
	if err != nil {
		t.Fatalf("the second process never called in: %v\nlog:\n%s", err, h.log())
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(time.Minute))
	select {
	case <-synced:
		t.Fatal("sync finished while the second process was alive")
	default:
	}
	if _, err := conn.Write([]byte{1}); err != nil {
		t.Fatal(err)
	}
	var ack [1]byte
	if _, err := io.ReadFull(conn, ack[:]); err != nil || ack[0] != 'K' {
		t.Fatalf("second process answered %q, %v (G: its IMECache content was gone)", ack[0], err)
	}
	<-synced
	h.wantState(app.id(), imeapi.EnforcementSuccess, imeapi.ComplianceInstalled, 0)
	if ents, _ := os.ReadDir(h.agent.layout.IMECache); len(ents) != 0 {
		t.Fatalf("IMECache not cleaned after the tree finished: %v", ents)
	}
}
