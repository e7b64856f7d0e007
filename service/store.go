package service

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/imepipe/imepipe/imeapi"
)

// ErrLocked means another process holds the data folder's database.
var ErrLocked = errors.New("data folder in use by another process")

// ErrStore means the --store value names no backend this service has.
var ErrStore = errors.New("unknown store")

// device is an enrolled device as the store keeps it.
type device struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	PublicKey  []byte    `json:"publicKey"` // X25519, 32 bytes
	Groups     []string  `json:"groups,omitempty"`
	EnrolledAt time.Time `json:"enrolledAt"`
	// Properties are the device.* values reported at enrollment, for
	// assignment filters; later syncs' values are Server.props.
	Properties map[string]string `json:"properties,omitempty"`
}

// storedReport is the last report of one app on one device.
type storedReport struct {
	Report     imeapi.Report `json:"report"`
	ReceivedAt time.Time     `json:"receivedAt"`
}

// store is the service's persistent state: devices, token hashes (never
// tokens), reports and its own secrets. boltStore keeps them in one file
// for one process; pgStore in PostgreSQL, shared by several.
type store interface {
	// addDevice records a device and the hash of its token at once.
	addDevice(d device, tokenHash []byte) error
	// deviceByToken finds the device whose token hashes to tokenHash; nil if none.
	deviceByToken(tokenHash []byte) (*device, error)
	// devices lists every enrolled device, by id.
	devices() ([]device, error)
	// putReports stores the reports of one device, replacing earlier ones of the same apps.
	putReports(deviceID string, reps []storedReport) error
	// reports returns the last report per app of one device.
	reports(deviceID string) (map[string]storedReport, error)
	// secret returns the server secret called name, creating n random
	// bytes the first time; of several processes the first writer wins.
	secret(name string, n int) ([]byte, error)
	close() error
}

// openStore opens the store that spec names: "" or "bbolt" is
// <dataDir>/service.db; a postgres:// or postgresql:// URL is PostgreSQL
// (migrated on open).
func openStore(spec, dataDir string) (store, error) {
	switch {
	case spec == "" || spec == "bbolt":
		return openBolt(filepath.Join(dataDir, "service.db"))
	case strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://"):
		return openPG(spec)
	}
	return nil, fmt.Errorf("service: store %q: %w (want bbolt or a postgres:// URL)", redactStore(spec), ErrStore)
}

// redactStore hides a password in a store URL, for messages.
func redactStore(spec string) string {
	scheme, rest, ok := strings.Cut(spec, "://")
	if !ok {
		return spec
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return spec
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
