package orchestrate

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
)

// TestChooseSession: the console session wins when it is listed active;
// otherwise the first active session other than 0; a console session
// that is not listed or not active, and an empty list (Wine), are
// ErrNoUserSession, which is also ErrInstallUser.
func TestChooseSession(t *testing.T) {
	const (
		active       = wtsActive
		connected    = 1 // WTSConnected: the logon screen
		disconnected = 4
		listen       = 6
	)
	for _, tc := range []struct {
		name     string
		console  uint32
		sessions []userSession
		want     uint32
		none     bool
	}{
		{"console active", 1, []userSession{{0, disconnected}, {1, active}, {2, active}}, 1, false},
		{"console listed after another", 3, []userSession{{0, disconnected}, {2, active}, {3, active}}, 3, false},
		{"console at logon screen, remote user", 1, []userSession{{0, disconnected}, {1, connected}, {2, active}, {65536, listen}}, 2, false},
		{"console not listed, remote user", 7, []userSession{{0, disconnected}, {4, active}}, 4, false},
		{"session 0 active is services, not a user", 0xFFFFFFFF, []userSession{{0, active}}, 0, true},
		{"console 0 listed active is still services", 0, []userSession{{0, active}}, 0, true},
		{"disconnected user only", 1, []userSession{{0, disconnected}, {1, disconnected}}, 0, true},
		{"no console attached", 0xFFFFFFFF, []userSession{{0, disconnected}, {1, connected}}, 0, true},
		{"nothing listed (Wine)", 1, nil, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := chooseSession(tc.console, tc.sessions)
			if tc.none {
				if !errors.Is(err, ErrNoUserSession) || !errors.Is(err, ErrInstallUser) {
					t.Fatalf("chooseSession = %d, %v; want ErrNoUserSession and ErrInstallUser", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("chooseSession = %d, %v; want %d", got, err, tc.want)
			}
		})
	}
}

// TestServiceAccount: SYSTEM, LOCAL SERVICE and NETWORK SERVICE are
// refused as install users in any case of the SID; a user's SID and the
// Administrators group's are not service accounts.
func TestServiceAccount(t *testing.T) {
	for sid, want := range map[string]string{
		"S-1-5-18": "SYSTEM", "s-1-5-18": "SYSTEM", "S-1-5-19": "LOCAL SERVICE", "S-1-5-20": "NETWORK SERVICE",
		"S-1-5-21-1004336348-1177238915-682003330-1001": "", "S-1-5-32-544": "", "S-1-5-180": "", "": "",
	} {
		if got := serviceAccount(sid); got != want {
			t.Errorf("serviceAccount(%q) = %q, want %q", sid, got, want)
		}
	}
}

// envBlock encodes NUL-separated UTF-8 text as a UTF-16 block.
func envBlock(s string) []uint16 { return utf16.Encode([]rune(s)) }

// TestParseEnvBlock: a block as CreateEnvironmentBlock writes it (the
// testdata one: a drive's hidden "=C:" entry, Path in its Windows case)
// reads entry by entry; it stops at the empty string; a cut block loses
// only its unterminated entry; an entry with no '=' is dropped;
// characters outside the BMP survive the UTF-16 decoding.
func TestParseEnvBlock(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "envblock", "user.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got := parseEnvBlock(envBlock(string(data)))
	want := []string{`ALLUSERSPROFILE=C:\ProgramData`, `APPDATA=C:\Users\alex\AppData\Roaming`, `=C:=C:\Windows\system32`,
		`Path=C:\Windows\system32;C:\Windows`, `USERNAME=alex`, `USERPROFILE=C:\Users\alex`}
	if !slices.Equal(got, want) {
		t.Fatalf("testdata block:\n got %q\nwant %q", got, want)
	}
	for _, tc := range []struct {
		name, block string
		want        []string
	}{
		{"empty block", "\x00", nil},
		{"nothing", "", nil},
		{"stops at the empty string", "A=1\x00\x00B=2\x00\x00", []string{"A=1"}},
		{"cut block", "A=1\x00B=2", []string{"A=1"}},
		{"no equals dropped", "A=1\x00JUNK\x00=\x00B=\x00\x00", []string{"A=1", "B="}},
		{"value with equals", "X=a=b\x00\x00", []string{"X=a=b"}},
		{"outside the BMP", "USERNAME=\U0001F600\x00\x00", []string{"USERNAME=\U0001F600"}},
	} {
		if got := parseEnvBlock(envBlock(tc.block)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// FuzzEnvBlock: parseEnvBlock never panics, and every entry it returns
// has a name and an '=' and no NUL.
func FuzzEnvBlock(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "envblock", "user.txt"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("A=1\x00B"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, kv := range parseEnvBlock(envBlock(string(b))) {
			if len(kv) < 2 || !strings.Contains(kv[1:], "=") || strings.ContainsRune(kv, 0) {
				t.Fatalf("entry %q", kv)
			}
		}
	})
}
