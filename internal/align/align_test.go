package align

import "testing"

func TestBuf(t *testing.T) {
	for _, n := range []int{2 * Size, 1 << 20, 3 * Size} {
		b := Buf(n)
		if len(b) != n || cap(b) != n || !OK(b) {
			t.Fatalf("Buf(%d): len %d cap %d aligned %v", n, len(b), cap(b), OK(b))
		}
		if OK(b[1:Size+1]) || OK(b[:Size-1]) {
			t.Fatal("OK accepts an unaligned slice")
		}
	}
}
