package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrLocked: another process holds state.db (a running agent).
	ErrLocked = errors.New("state.db is in use by another process")
	// ErrNotFound: no such app, key or value.
	ErrNotFound = errors.New("not found")
)

var (
	bucketApps     = []byte("Win32Apps")
	bucketAgent    = []byte("Agent")
	bucketRequests = []byte("Requests")
	bucketPersist  = []byte("Persist")
	bucketRegistry = []byte("Registry")

	subGRS       = "GRS"
	subReporting = "Reporting"

	keyCompliance  = []byte("ComplianceStateMessage")
	keyEnforcement = []byte("EnforcementStateMessage")
	keyAttempts    = []byte("Attempts")
	keyPolicy      = []byte("Policy")
	keyIdentity    = []byte("Identity")
	keyTimes       = []byte("Times")
)

// Store is the agent's state.db. It is safe for concurrent use.
type Store struct {
	db *bolt.DB
}

// Open opens (creating) the state file at path, waiting at most timeout
// for another process to release it (ErrLocked after that).
func Open(path string, timeout time.Duration) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if timeout <= 0 {
		timeout = time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("state: %s: %w", path, ErrLocked)
		}
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketApps, bucketAgent, bucketRequests, bucketPersist, bucketRegistry} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("state: init %s: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close releases the file.
func (s *Store) Close() error { return s.db.Close() }

// userBucket returns Win32Apps/<user>, created when create is set (else nil if absent).
func userBucket(tx *bolt.Tx, user string, create bool) (*bolt.Bucket, error) {
	root := tx.Bucket(bucketApps)
	if create {
		return root.CreateBucketIfNotExists([]byte(user))
	}
	return root.Bucket([]byte(user)), nil
}

// sub returns Win32Apps/<user>/<name>.
func sub(tx *bolt.Tx, user, name string, create bool) (*bolt.Bucket, error) {
	u, err := userBucket(tx, user, create)
	if err != nil || u == nil {
		return nil, err
	}
	if create {
		return u.CreateBucketIfNotExists([]byte(name))
	}
	return u.Bucket([]byte(name)), nil
}

func putJSON(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// putAppValue writes one value of Win32Apps/<user>/<key>.
func (s *Store) putAppValue(user, key string, name []byte, v any) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := sub(tx, user, key, true)
		if err != nil {
			return err
		}
		return putJSON(b, name, v)
	})
	if err != nil {
		return fmt.Errorf("state: %s/%s/%s: %w", user, key, name, err)
	}
	return nil
}

// PutCompliance writes the app's ComplianceStateMessage.
func (s *Store) PutCompliance(user, key string, m ComplianceStateMessage) error {
	return s.putAppValue(user, key, keyCompliance, m)
}

// PutEnforcement writes the app's EnforcementStateMessage.
func (s *Store) PutEnforcement(user, key string, m EnforcementStateMessage) error {
	return s.putAppValue(user, key, keyEnforcement, m)
}

// PutAttempts writes the app's attempt count.
func (s *Store) PutAttempts(user, key string, a Attempts) error {
	return s.putAppValue(user, key, keyAttempts, a)
}

// PutPolicy writes what the agent knows of the app.
func (s *Store) PutPolicy(user, key string, p Policy) error {
	return s.putAppValue(user, key, keyPolicy, p)
}

// App reads one app revision; ErrNotFound if nothing is stored.
func (s *Store) App(user, key string) (App, error) {
	var a App
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		a, err = readApp(tx, user, key)
		return err
	})
	return a, err
}

func readApp(tx *bolt.Tx, user, key string) (App, error) {
	a := App{User: user, Key: key}
	b, _ := sub(tx, user, key, false)
	if b == nil {
		return a, fmt.Errorf("state: %s/%s: %w", user, key, ErrNotFound)
	}
	if v := b.Get(keyPolicy); v != nil {
		a.Policy = new(Policy)
		if err := json.Unmarshal(v, a.Policy); err != nil {
			return a, fmt.Errorf("state: %s/%s policy: %w", user, key, err)
		}
	}
	if v := b.Get(keyCompliance); v != nil {
		a.Compliance = new(ComplianceStateMessage)
		if err := json.Unmarshal(v, a.Compliance); err != nil {
			return a, fmt.Errorf("state: %s/%s compliance: %w", user, key, err)
		}
	}
	if v := b.Get(keyEnforcement); v != nil {
		a.Enforcement = new(EnforcementStateMessage)
		if err := json.Unmarshal(v, a.Enforcement); err != nil {
			return a, fmt.Errorf("state: %s/%s enforcement: %w", user, key, err)
		}
	}
	if v := b.Get(keyAttempts); v != nil {
		if err := json.Unmarshal(v, &a.Attempts); err != nil {
			return a, fmt.Errorf("state: %s/%s attempts: %w", user, key, err)
		}
	}
	appID, _, _ := strings.Cut(key, "_")
	if g, _ := sub(tx, user, subGRS, false); g != nil {
		if v := g.Get([]byte(appID)); v != nil {
			_ = a.GRS.UnmarshalText(v)
		}
	}
	if r, _ := sub(tx, user, subReporting, false); r != nil {
		if v := r.Get([]byte(key)); v != nil {
			a.Report = new(ReportRecord)
			if err := json.Unmarshal(v, a.Report); err != nil {
				return a, fmt.Errorf("state: %s/%s report: %w", user, key, err)
			}
		}
	}
	return a, nil
}

// Apps lists every stored app revision of every user, sorted by user and key.
func (s *Store) Apps() ([]App, error) {
	var out []App
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketApps).ForEachBucket(func(user []byte) error {
			u := tx.Bucket(bucketApps).Bucket(user)
			return u.ForEachBucket(func(k []byte) error {
				if string(k) == subGRS || string(k) == subReporting {
					return nil
				}
				a, err := readApp(tx, string(user), string(k))
				if err != nil {
					return err
				}
				out = append(out, a)
				return nil
			})
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].User != out[j].User {
			return out[i].User < out[j].User
		}
		return out[i].Key < out[j].Key
	})
	return out, err
}

// SetGRS records that appID entered GRS at t.
func (s *Store) SetGRS(user, appID string, t time.Time) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := sub(tx, user, subGRS, true)
		if err != nil {
			return err
		}
		v, _ := t.UTC().MarshalText()
		return b.Put([]byte(appID), v)
	})
	if err != nil {
		return fmt.Errorf("state: GRS %s: %w", appID, err)
	}
	return nil
}

// ResetApp forgets, for every user, what the agent did with an app:
// each revision's compliance, enforcement and attempts, its report and
// the app's GRS entry (what an admin does in the registry to force a new
// attempt). id is an app id (every revision) or APPID_REV (one revision,
// the form status prints). The policy stays, so that the app is still
// listed (waiting for the next sync). It returns how many entries were
// removed; ErrNotFound when no revision of that id is stored.
func (s *Store) ResetApp(id string) (int, error) {
	n, found := 0, false
	err := s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketApps)
		var users [][]byte
		_ = root.ForEachBucket(func(u []byte) error { users = append(users, append([]byte(nil), u...)); return nil })
		for _, user := range users {
			u := root.Bucket(user)
			var matched [][]byte
			_ = u.ForEachBucket(func(k []byte) error {
				if ks := string(k); ks != subGRS && ks != subReporting && (ks == id || strings.HasPrefix(ks, id+"_")) {
					matched = append(matched, append([]byte(nil), k...))
				}
				return nil
			})
			grsIDs := map[string]bool{}
			for _, k := range matched {
				found = true
				appID, _, _ := strings.Cut(string(k), "_")
				grsIDs[appID] = true
				b := u.Bucket(k)
				for _, name := range [][]byte{keyCompliance, keyEnforcement, keyAttempts} {
					if b.Get(name) != nil {
						if err := b.Delete(name); err != nil {
							return err
						}
						n++
					}
				}
				if r := u.Bucket([]byte(subReporting)); r != nil && r.Get(k) != nil {
					if err := r.Delete(k); err != nil {
						return err
					}
					n++
				}
			}
			if !strings.Contains(id, "_") {
				grsIDs[id] = true // a GRS entry may outlive its revisions
			}
			g := u.Bucket([]byte(subGRS))
			for appID := range grsIDs {
				if g != nil && g.Get([]byte(appID)) != nil {
					if err := g.Delete([]byte(appID)); err != nil {
						return err
					}
					found = true
					n++
				}
			}
		}
		return nil
	})
	switch {
	case err != nil:
		return n, fmt.Errorf("state: reset %s: %w", id, err)
	case !found:
		return 0, fmt.Errorf("state: reset %s: %w", id, ErrNotFound)
	}
	return n, nil
}

// ClearGRS removes appID's GRS entry.
func (s *Store) ClearGRS(user, appID string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b, _ := sub(tx, user, subGRS, false)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(appID))
	})
}

// PutReport stores the app revision's last report.
func (s *Store) PutReport(user, key string, r ReportRecord) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := sub(tx, user, subReporting, true)
		if err != nil {
			return err
		}
		return putJSON(b, []byte(key), r)
	})
	if err != nil {
		return fmt.Errorf("state: report %s: %w", key, err)
	}
	return nil
}
