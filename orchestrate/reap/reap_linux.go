package reap

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
)

const prSetChildSubreaper = 36 // PR_SET_CHILD_SUBREAPER

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// serve is the reaper: become a subreaper, start argv, reap every
// descendant until none is left.
// c.line (a Windows command line) is never set here: run refuses it.
func serve(c command) (Result, error) {
	var res Result
	argv := c.argv
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		return res, fmt.Errorf("prctl(PR_SET_CHILD_SUBREAPER): %w", e)
	}
	path := argv[0]
	if !strings.Contains(path, "/") {
		if p, err := lookPath(path); err == nil {
			path = p
		}
	}
	var killed atomic.Bool
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	attr := &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}}
	if c.cred != nil { // no Dir: the installer inherits the reaper's working directory
		attr.Sys = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: c.cred.UID, Gid: c.cred.GID, Groups: c.cred.Groups}}
	}
	p, err := os.StartProcess(path, argv, attr)
	if err != nil {
		return res, fmt.Errorf("start %s: %w", argv[0], err)
	}
	res.PID = p.Pid
	c.launch.started(res.PID)
	go func() {
		<-sig
		killed.Store(true)
		killDescendants()
	}()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if errors.Is(err, syscall.ECHILD) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("wait4: %w", err)
		}
		if pid != res.PID {
			res.Reaped++
			continue
		}
		switch {
		case ws.Exited():
			res.ExitCode = ws.ExitStatus()
		case ws.Signaled():
			res.ExitCode, res.Signal = -1, int(ws.Signal())
		}
	}
	res.Killed = killed.Load()
	return res, nil
}

func lookPath(name string) (string, error) {
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", os.ErrNotExist
}

// killDescendants sends SIGKILL to every descendant of this process, a
// few passes to catch processes forked meanwhile.
func killDescendants() {
	self := os.Getpid()
	for pass := 0; pass < 10; pass++ {
		kids := descendants(self)
		if len(kids) == 0 {
			return
		}
		for _, pid := range kids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// descendants walks /proc for the process tree under root.
func descendants(root int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		s := string(data)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], pid)
	}
	var out []int
	queue := []int{root}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}
