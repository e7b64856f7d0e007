package reap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// errGone: the process does not exist or is a zombie.
var errGone = errors.New("process is gone")

// procStat is what the agent reads of /proc/PID/stat.
type procStat struct {
	state byte
	ppid  int
	pgrp  int
	start uint64 // field 22, starttime
}

// readStat parses /proc/PID/stat. The command name (field 2) may hold
// spaces and parentheses: the fields after it follow the last ')'.
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(data))
}

func parseStat(s string) (procStat, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed stat")
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); starttime is field 22, f[19].
	if len(f) < 20 || len(f[0]) != 1 {
		return procStat{}, errors.New("malformed stat")
	}
	var st procStat
	var err1, err2, err3 error
	st.state = f[0][0]
	st.ppid, err1 = strconv.Atoi(f[1])
	st.pgrp, err2 = strconv.Atoi(f[2])
	st.start, err3 = strconv.ParseUint(f[19], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return procStat{}, errors.New("malformed stat")
	}
	return st, nil
}

// startTime is pid's starttime; errGone for a zombie (a reaper whose new
// parent, init, has not reaped it yet has finished all the same).
func startTime(pid int) (uint64, error) {
	st, err := readStat(pid)
	if err != nil {
		return 0, err
	}
	if st.state == 'Z' || st.state == 'X' {
		return 0, errGone
	}
	return st.start, nil
}

// Find looks for a running reaper started for resultPath (Spec.ResultPath,
// made absolute) among this user's processes, by the EnvResult variable
// of its initial environment: for a caller that recorded the run before
// the reaper's process id was known.
func Find(resultPath string) (Handle, bool) {
	abs, err := filepath.Abs(resultPath)
	if err != nil {
		return Handle{}, false
	}
	want := []byte(EnvResult + "=" + abs)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.Equal(kv, want) {
				if h, err := Identify(pid); err == nil {
					return h, true
				}
			}
		}
	}
	return Handle{}, false
}

// Stop asks the reaper h names to kill its tree (SIGTERM, as Run does on
// a timeout); the reaper then writes its Result (Killed) and exits. It
// does nothing when h is not alive.
func (h Handle) Stop() error {
	if !h.Alive() {
		return nil
	}
	return syscall.Kill(h.PID, syscall.SIGTERM)
}

// Kill sends SIGKILL to what is left of h's tree without the reaper's
// help: its descendants (found through /proc) while it lives, every
// process of its process group (the reaper leads one, Setpgid) started
// no earlier than it (a later group with the same id would need the id
// reused while a member of the old one lives; with no start time known,
// h.Start 0, the group is left alone), then the reaper. It does not wait.
func (h Handle) Kill() {
	if h.PID <= 0 {
		return
	}
	alive := h.Alive()
	for pass := 0; pass < killPasses; pass++ {
		var victims []int
		if alive {
			victims = descendants(h.PID)
		}
		if h.Start > 0 {
			victims = append(victims, groupMembers(h.PID, h.Start)...)
		}
		if len(victims) == 0 {
			break
		}
		for _, pid := range victims {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if alive && h.Alive() {
		_ = syscall.Kill(h.PID, syscall.SIGKILL)
	}
}

// groupMembers lists live processes of process group pgrp, but its
// leader, that started at or after start.
func groupMembers(pgrp int, start uint64) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == pgrp {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.pgrp != pgrp || st.start < start || st.state == 'Z' {
			continue
		}
		out = append(out, pid)
	}
	return out
}

// Running reports whether anything of h's tree is left: the reaper, or
// a process of its group started no earlier than it (after the reaper
// died; Kill ends those).
func (h Handle) Running() bool {
	return h.Alive() || (h.PID > 0 && h.Start > 0 && len(groupMembers(h.PID, h.Start)) > 0)
}
