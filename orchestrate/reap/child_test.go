package reap

import (
	"io"
	"net"
	"os"
	"time"
)

// A test's second process: this test binary started with envChild set (by
// an installer under test, never by the reaper, which Main has already
// taken) dials the test on loopback, waits for one byte, writes envLate,
// and exits. The test holds it alive, without a sleep on real time, for as
// long as it wants; when the process is killed the test's read ends.
const (
	envChild = "IMEPIPE_REAP_TEST_CHILD" // loopback address of the test's listener
	envLate  = "IMEPIPE_REAP_TEST_LATE"  // file the child writes after the byte
)

// childLifetime bounds a child the test forgot: it exits by itself.
const childLifetime = 2 * time.Minute

// testChild runs the second process's part and exits when envChild is set;
// it returns at once otherwise.
func testChild() {
	addr := os.Getenv(envChild)
	if addr == "" {
		return
	}
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		os.Exit(2)
	}
	c.SetDeadline(time.Now().Add(childLifetime))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		os.Exit(3)
	}
	if p := os.Getenv(envLate); p != "" {
		if err := os.WriteFile(p, []byte("late\n"), 0o644); err != nil {
			os.Exit(4)
		}
	}
	c.Write(b[:]) // tell the test the file is written
	os.Exit(0)
}
