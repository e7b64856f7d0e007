package peer

import (
	"fmt"

	"github.com/imepipe/imepipe/fetch"
)

// Delivery Optimization download modes.
const (
	ModeHTTPOnly = 0   // HTTP with cloud metadata, no peers
	ModeLAN      = 1   // peers on the same LAN (the default)
	ModeGroup    = 2   // LAN and peers with the same GroupID
	ModeInternet = 3   // LAN, Group and Internet peers
	ModeSimple   = 99  // HTTP only, no cloud service at all
	ModeBypass   = 100 // plain download: no peers, no cache host
)

// CheckMode returns an error wrapping ErrMode for anything but 0, 1, 2,
// 3, 99 and 100.
func CheckMode(mode int) error {
	switch mode {
	case ModeHTTPOnly, ModeLAN, ModeGroup, ModeInternet, ModeSimple, ModeBypass:
		return nil
	}
	return fmt.Errorf("%w: %d (want 0, 1, 2, 3, 99 or 100)", ErrMode, mode)
}

// PeerKinds are the peer source kinds a mode may use, in the order they
// are tried: none for 0, 99 and 100; LAN for 1; LAN and Group for 2;
// all three for 3. The service's Array types peers the same way; the
// client enforces it again.
func PeerKinds(mode int) []fetch.SourceKind {
	switch mode {
	case ModeLAN:
		return []fetch.SourceKind{fetch.LanPeer}
	case ModeGroup:
		return []fetch.SourceKind{fetch.LanPeer, fetch.GroupPeer}
	case ModeInternet:
		return []fetch.SourceKind{fetch.LanPeer, fetch.GroupPeer, fetch.InternetPeer}
	}
	return nil
}

// UsesCacheHost reports whether a mode may use a Connected Cache host
// (every mode but Bypass).
func UsesCacheHost(mode int) bool { return mode != ModeBypass }

// usesArray reports whether a mode talks to the DO cloud service's Array.
func usesArray(mode int) bool { return len(PeerKinds(mode)) > 0 }

// kindOf maps an Array peer type to a source kind.
func kindOf(typ string) (fetch.SourceKind, bool) {
	switch typ {
	case "LAN":
		return fetch.LanPeer, true
	case "Group":
		return fetch.GroupPeer, true
	case "Internet":
		return fetch.InternetPeer, true
	}
	return 0, false
}

// typeName is the wire name of a peer kind (the X-Do-Peer-Type header).
func typeName(k fetch.SourceKind) string {
	switch k {
	case fetch.GroupPeer:
		return "Group"
	case fetch.InternetPeer:
		return "Internet"
	}
	return "LAN"
}
