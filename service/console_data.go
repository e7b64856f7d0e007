package service

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/service/console"
)

// consoleData is what the console reads of the Server (console.Data):
// the store through its methods, the catalog and the token hashes.
type consoleData struct{ s *Server }

// Fleet is every device's status, by name, as the admin's GET /api/v1/status.
func (c consoleData) Fleet() (imeapi.Status, error) {
	devs, err := c.s.st.devices()
	if err != nil {
		return imeapi.Status{}, err
	}
	out := imeapi.Status{Devices: make([]imeapi.DeviceStatus, 0, len(devs))}
	for _, d := range devs {
		ds, err := c.s.deviceStatus(d)
		if err != nil {
			return imeapi.Status{}, err
		}
		out.Devices = append(out.Devices, ds)
	}
	slices.SortStableFunc(out.Devices, func(a, b imeapi.DeviceStatus) int { return strings.Compare(a.DeviceName, b.DeviceName) })
	return out, nil
}

// Apps lists the served apps.
func (c consoleData) Apps() []console.App {
	out := make([]console.App, 0, len(c.s.cat.apps))
	for _, a := range c.s.cat.apps {
		out = append(out, console.App{ID: a.graph.ID, DisplayName: a.graph.DisplayName, Version: a.graph.Version})
	}
	return out
}

// TokenRole says whether tok is the admin token, a device's token or neither.
func (c consoleData) TokenRole(tok string) (console.Role, error) {
	tok = strings.TrimSpace(tok)
	if tok == "" || len(tok) > 256 {
		return console.RoleNone, nil
	}
	sum := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(sum[:], c.s.adminHash[:]) == 1 {
		return console.RoleAdmin, nil
	}
	d, err := c.s.deviceByHash(sum, false)
	switch {
	case err != nil:
		return console.RoleNone, err
	case d != nil:
		return console.RoleDevice, nil
	}
	return console.RoleNone, nil
}

// newConsole is the console handler of s; its sessions are the store's.
func (s *Server) newConsole() http.Handler {
	return console.New(console.Config{Data: consoleData{s}, Sessions: consoleSessions{s.st}, Now: s.cfg.Now, Logf: s.cfg.Logf, Refresh: s.cfg.ConsoleRefresh})
}

// consoleSessions keeps the console's sessions in the store
// (console.Sessions), so that every serve process on it knows them.
type consoleSessions struct{ st store }

func (c consoleSessions) StartSession(key [32]byte, expires, now time.Time, keep int) error {
	return c.st.putSession(key[:], expires, now, keep)
}

func (c consoleSessions) SessionExpiry(key [32]byte) (time.Time, bool, error) {
	return c.st.sessionExpiry(key[:])
}

func (c consoleSessions) EndSession(key [32]byte) error { return c.st.deleteSession(key[:]) }
