package service

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/imepipe/imepipe/imeapi"
)

// ErrLocked means another process holds the data folder's database.
var ErrLocked = errors.New("data folder in use by another process")

// errNoDevice means a sync names a device the store does not have.
var errNoDevice = errors.New("no such device")

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
	// assignment filters; a later sync's values are Sync.Props.
	Properties map[string]string `json:"properties,omitempty"`
	// Sync is what the device's last sync left in the store, kept apart
	// from the enrollment record (not part of its JSON): the store fills
	// it in devices and deviceByToken, putSync and syncOf return it.
	Sync syncState `json:"-"`
}

// syncState is what a device's last sync left: when it asked for its
// policies, and the properties it last reported in a sync. Props nil
// means none reported since enrollment (device.Properties apply); an
// empty map is a sync that reported none, which replaces them.
type syncState struct {
	At    time.Time         `json:"at"` // zero: never synced
	Props map[string]string `json:"props"`
}

// storedReport is the last report of one app on one device.
type storedReport struct {
	Report     imeapi.Report `json:"report"`
	ReceivedAt time.Time     `json:"receivedAt"`
}

// store is the service's persistent state: devices, token hashes (never
// tokens), each device's last sync and reported properties, reports,
// console sessions (hashed ids) and the service's own secrets. boltStore keeps them in one file
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
	// putSync records a sync of the device at at, with the properties
	// it reported (nil keeps those of an earlier sync), in one write, and
	// returns the device's sync state after it.
	putSync(deviceID string, at time.Time, props map[string]string) (syncState, error)
	// syncOf returns the device's sync state; zero if it never synced.
	syncOf(deviceID string) (syncState, error)

	// putSession records a console session (the SHA-256 of its id, never
	// the id) that ends at expires. In the same transaction it removes the
	// sessions ended by now and, past keep sessions, the oldest.
	putSession(hash []byte, expires, now time.Time, keep int) error
	// sessionExpiry is when the session ends; ok false if unknown.
	sessionExpiry(hash []byte) (expires time.Time, ok bool, err error)
	// deleteSession removes a session; an unknown one is no error.
	deleteSession(hash []byte) error

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
		st, err := openPG(spec)
		if err != nil {
			return nil, &wordedError{msg: "store " + redactStore(spec) + ": " + pgReason(err), err: err}
		}
		return st, nil
	}
	return nil, fmt.Errorf("%w %q (want bbolt or a postgres:// URL)", ErrStore, redactStore(spec))
}

// redactStore hides a password in a store URL, for messages: the one in
// its user info and a password= query parameter (libpq's form).
func redactStore(spec string) string {
	base, query, hasQuery := strings.Cut(spec, "?")
	if scheme, rest, ok := strings.Cut(base, "://"); ok {
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if user, _, hasPassword := strings.Cut(rest[:at], ":"); hasPassword {
				base = scheme + "://" + user + ":xxxxx" + rest[at:]
			}
		}
	}
	if !hasQuery {
		return base
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		if k, _, ok := strings.Cut(p, "="); ok && strings.EqualFold(k, "password") {
			params[i] = k + "=xxxxx"
		}
	}
	return base + "?" + strings.Join(params, "&")
}

// wsaeconnrefused is Winsock's "connection refused", which Go's
// syscall.ECONNREFUSED on Windows is not.
const wsaeconnrefused = syscall.Errno(10061)

// pgReason words why PostgreSQL could not be opened, for a line that
// names the store: a failed connection as "cannot connect to HOST:PORT:"
// and its cause in a few words (the server's own message, "connection
// refused", "no such host", "timed out"); other errors (a bad URL, a
// migration) keep their text on one line.
func pgReason(err error) string {
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		return oneLine(err.Error())
	}
	to := "cannot connect"
	if ce.Config != nil {
		to += " to " + net.JoinHostPort(ce.Config.Host, fmt.Sprint(ce.Config.Port))
	}
	var pgErr *pgconn.PgError
	var dnsErr *net.DNSError
	var errno syscall.Errno
	switch {
	case errors.As(err, &pgErr):
		return to + ": " + pgErr.Message
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return to + ": no such host"
	case errors.As(err, &errno) && (errno == syscall.ECONNREFUSED || errno == wsaeconnrefused):
		return to + ": connection refused (is PostgreSQL listening there?)"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT):
		return to + ": timed out"
	}
	if inner := errors.Unwrap(ce); inner != nil {
		return to + ": " + oneLine(inner.Error())
	}
	return to
}

// oneLine joins the lines of a multi-line message (pgx's per-host
// errors) with "; ".
func oneLine(s string) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' })
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "; ")
}
