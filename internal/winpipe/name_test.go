package winpipe

import (
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	a := Name("imepipe", `C:\ProgramData\imepipe\agent.sock`)
	if !strings.HasPrefix(a, `\\.\pipe\imepipe-`) || len(a) != len(`\\.\pipe\imepipe-`)+16 {
		t.Fatalf("Name = %q", a)
	}
	if b := Name("imepipe", `c:\programdata\IMEPIPE\agent.sock`); b != a {
		t.Errorf("case changed the name: %q vs %q", b, a)
	}
	if c := Name("imepipe", `C:\other\agent.sock`); c == a {
		t.Errorf("two roots share %q", c)
	}
}
