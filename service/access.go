package service

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"

	"github.com/imepipe/imepipe/imeapi"
)

// What a device may name: only the apps assigned to it (targeted by the
// same rules as its policies, intentFor), and as its piece server only an
// address it could plausibly have.

// targets reports whether a is assigned to d (any intent, uninstall
// too), or is a dependency or superseded app of one that is (relatedOf):
// the agent needs its content to install or uninstall it.
func (s *Server) targets(a *app, d *device) bool { return s.targetsWith(a, d, nil) }

// targetsWith is targets for a request that checks many apps of one
// device: relatedOf(d), a walk of the whole catalog, is computed at most
// once into *rel (when rel is not nil).
func (s *Server) targetsWith(a *app, d *device, rel *map[*app][]string) bool {
	if intent, _ := s.intentOf(a, d); intent != imeapi.IntentNotTargeted {
		return true
	}
	if rel == nil {
		rel = new(map[*app][]string)
	}
	if *rel == nil {
		*rel = s.relatedOf(d)
	}
	return len((*rel)[a]) > 0
}

// forbidUnassigned answers 403 for an app that is served but not assigned to d.
func forbidUnassigned(w http.ResponseWriter, field string, a *app) {
	writeError(w, http.StatusForbidden, field, "app %s is not assigned to this device", a.graph.ID)
}

// errPeerAddr is an addr a device may not register.
var errPeerAddr = errors.New("not an address of this device")

// checkPeerAddr returns the host:port a device registers as its piece
// server, or why it may not. remote is the request's source address
// (r.RemoteAddr); self lists the service's own addresses (the
// connection's local address, BaseURL's host). The rule:
//
//   - host:port with a port 1-65535 and an IP literal host (no names: a
//     name resolves to whatever its owner likes); an empty or unspecified
//     host means remote's IP.
//   - never unspecified, multicast, link-local (169.254/16, fe80::/10),
//     0.0.0.0/8 or the limited broadcast 255.255.255.255;
//   - loopback only when the caller is on loopback itself (the service
//     and the device share a host, as in tests and the demo); a loopback
//     caller may register only loopback addresses;
//   - otherwise the caller's own IP or one in its LAN as the service sees
//     it: the same /24 (IPv4) or /64 (IPv6) as remote, the prefix of the
//     default LAN id. A LanID the device reports is a free label and
//     widens nothing;
//   - never one of the service's own addresses (self), port included.
func checkPeerAddr(addr, remote string, self []netip.AddrPort) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%w: %q is not host:port", imeapi.ErrInvalid, addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%w: %q: port must be 1 to 65535", imeapi.ErrInvalid, addr)
	}
	src, err := netip.ParseAddrPort(remote)
	if err != nil {
		return "", fmt.Errorf("%w: the request's source address %q is not an IP", errPeerAddr, remote)
	}
	from := src.Addr().Unmap()
	var ip netip.Addr
	if host == "" {
		ip = from
	} else if ip, err = netip.ParseAddr(host); err != nil || ip.Zone() != "" {
		return "", fmt.Errorf("%w: %q: the host must be an IP address", imeapi.ErrInvalid, addr)
	}
	ip = ip.Unmap()
	if ip.IsUnspecified() {
		ip = from
	}
	switch {
	case ip.IsMulticast(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return "", fmt.Errorf("%w: %s is multicast or link-local", errPeerAddr, ip)
	case ip.Is4() && (ip.As4()[0] == 0 || ip == netip.AddrFrom4([4]byte{255, 255, 255, 255})):
		return "", fmt.Errorf("%w: %s is not a unicast host", errPeerAddr, ip)
	case ip.IsLoopback() != from.IsLoopback():
		if ip.IsLoopback() {
			return "", fmt.Errorf("%w: %s is loopback, and the request came from %s", errPeerAddr, ip, from)
		}
		return "", fmt.Errorf("%w: %s is not loopback, and the request came from loopback", errPeerAddr, ip)
	case !ip.IsLoopback() && !sameLAN(ip, from):
		return "", fmt.Errorf("%w: %s is outside the LAN of %s, where the request came from", errPeerAddr, ip, from)
	}
	ap := netip.AddrPortFrom(ip, uint16(n))
	for _, s := range self {
		if s.Port() == ap.Port() && (s.Addr().Unmap() == ip || s.Addr().IsUnspecified() ||
			(s.Addr().IsLoopback() && ip.IsLoopback())) {
			return "", fmt.Errorf("%w: %s is the service's own address", errPeerAddr, ap)
		}
	}
	return ap.String(), nil
}

// sameLAN reports whether a and b share the /24 (IPv4) or /64 (IPv6) of lanOf.
func sameLAN(a, b netip.Addr) bool {
	if a.Is4() != b.Is4() {
		return false
	}
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, err := b.Prefix(bits)
	return err == nil && p.Contains(a)
}

// selfAddrs lists the service's own addresses as a request sees them: the
// local end of its connection and BaseURL's host when it is an IP:port.
func (s *Server) selfAddrs(r *http.Request) []netip.AddrPort {
	var out []netip.AddrPort
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ap, err := netip.ParseAddrPort(la.String()); err == nil {
			out = append(out, ap)
		}
	}
	if u, err := url.Parse(s.cfg.BaseURL); err == nil && u.Host != "" {
		if ap, err := netip.ParseAddrPort(u.Host); err == nil {
			out = append(out, ap)
		}
	}
	return out
}
