package peer

import (
	"fmt"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
)

// checkMode returns an error wrapping ErrMode (and imeapi.ErrCode) for
// anything but 0, 1, 2, 3, 99 and 100.
func checkMode(mode imeapi.DownloadMode) error {
	if err := mode.Check(); err != nil {
		return fmt.Errorf("%w: %w", ErrMode, err)
	}
	return nil
}

// Kinds are the peer source kinds a mode may use, in the order they
// are tried: none for 0, 99 and 100; LAN for 1; LAN and Group for 2;
// all three for 3. The service's Array types peers the same way; the
// client enforces it again.
func Kinds(mode imeapi.DownloadMode) []fetch.SourceKind {
	switch mode {
	case imeapi.ModeLAN:
		return []fetch.SourceKind{fetch.LanPeer}
	case imeapi.ModeGroup:
		return []fetch.SourceKind{fetch.LanPeer, fetch.GroupPeer}
	case imeapi.ModeInternet:
		return []fetch.SourceKind{fetch.LanPeer, fetch.GroupPeer, fetch.InternetPeer}
	}
	return nil
}

// UsesCacheHost reports whether a mode may use a Connected Cache host
// (every mode but Bypass).
func UsesCacheHost(mode imeapi.DownloadMode) bool { return mode != imeapi.ModeBypass }

// usesArray reports whether a mode talks to the DO cloud service's Array.
func usesArray(mode imeapi.DownloadMode) bool { return len(Kinds(mode)) > 0 }

// kindOf maps an Array peer type to a source kind.
func kindOf(typ string) (fetch.SourceKind, bool) {
	switch typ {
	case imeapi.PeerLAN:
		return fetch.LanPeer, true
	case imeapi.PeerGroup:
		return fetch.GroupPeer, true
	case imeapi.PeerInternet:
		return fetch.InternetPeer, true
	}
	return 0, false
}

// typeName is the wire name of a peer kind (the X-Do-Peer-Type header).
func typeName(k fetch.SourceKind) string {
	switch k {
	case fetch.GroupPeer:
		return imeapi.PeerGroup
	case fetch.InternetPeer:
		return imeapi.PeerInternet
	}
	return imeapi.PeerLAN
}
