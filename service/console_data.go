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
	d, err := c.s.deviceByHash(sum)
	switch {
	case err != nil:
		return console.RoleNone, err
	case d != nil:
		return console.RoleDevice, nil
	}
	return console.RoleNone, nil
}

// newConsole is the console handler of s.
func (s *Server) newConsole() http.Handler {
	return console.New(console.Config{Data: consoleData{s}, Now: s.cfg.Now, Logf: s.cfg.Logf, Refresh: s.cfg.ConsoleRefresh})
}

// synced records that device id asked for its policies now.
func (s *Server) synced(id string) { s.lastSync.Store(id, s.cfg.Now().UTC()) }

// lastSyncOf is when device id last asked for its policies, nil if not
// since this process started.
func (s *Server) lastSyncOf(id string) *time.Time {
	if v, ok := s.lastSync.Load(id); ok {
		t := v.(time.Time)
		return &t
	}
	return nil
}
