package reap

import "testing"

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		status uint32
		want   int
	}{
		{0, 0},
		{1, 1},
		{1641, 1641}, // hard reboot
		{1707, 1707},
		{3010, 3010}, // soft reboot
		{259, 259},   // STILL_ACTIVE as a code is just a code
		{0x87D1041C, -2016345060},
		{0x80070005, -2147024891}, // E_ACCESSDENIED
		{0x7FFFFFFF, 2147483647},
		{0x80000000, -2147483648},
		{killedStatus, -1},
	} {
		if got := exitCode(tc.status); got != tc.want {
			t.Errorf("exitCode(%#x) = %d, want %d", tc.status, got, tc.want)
		}
		// What the orchestrator logs as hex must give the status back.
		if back := uint32(int64(exitCode(tc.status))); back != tc.status {
			t.Errorf("exitCode(%#x) does not round-trip: %#x", tc.status, back)
		}
	}
}
