package service

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

var (
	bucketDevices = []byte("devices") // device id → device
	bucketTokens  = []byte("tokens")  // SHA-256 of a token → device id
	bucketReports = []byte("reports") // device id \x00 app id → storedReport
	bucketMeta    = []byte("meta")    // name → server secret
	bucketSyncs   = []byte("syncs")   // device id → syncState
	// bucketSessions maps the SHA-256 of a console session id to its
	// expiry, 8 bytes of big-endian Unix nanoseconds.
	bucketSessions = []byte("sessions")
)

// boltStore is the embedded store: devices, token hashes, syncs, reports,
// console sessions and the server's secrets in one bbolt file, which one process at a time opens.
type boltStore struct {
	db *bolt.DB
}

func openBolt(path string) (*boltStore, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("database %s: %w", path, ErrLocked)
		}
		return nil, pathError("database", path, kindFile, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketDevices, bucketTokens, bucketReports, bucketMeta, bucketSyncs, bucketSessions} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return &boltStore{db: db}, nil
}

func (s *boltStore) close() error { return s.db.Close() }

// addDevice records a device and the hash of its token in one transaction.
func (s *boltStore) addDevice(d device, tokenHash []byte) error {
	data, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode device: %w", err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketDevices).Put([]byte(d.ID), data); err != nil {
			return err
		}
		return tx.Bucket(bucketTokens).Put(tokenHash, []byte(d.ID))
	})
	if err != nil {
		return fmt.Errorf("store device: %w", err)
	}
	return nil
}

// deviceByToken finds the device whose token hashes to tokenHash.
func (s *boltStore) deviceByToken(tokenHash []byte) (*device, error) {
	var d *device
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketTokens).Get(tokenHash)
		if id == nil {
			return nil
		}
		data := tx.Bucket(bucketDevices).Get(id)
		if data == nil {
			return nil
		}
		d = new(device)
		if err := json.Unmarshal(data, d); err != nil {
			return err
		}
		return boltSyncOf(tx, d)
	})
	if err != nil {
		return nil, fmt.Errorf("read device: %w", err)
	}
	return d, nil
}

// devices lists every enrolled device, by id.
func (s *boltStore) devices() ([]device, error) {
	var out []device
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDevices).ForEach(func(_, v []byte) error {
			var d device
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			if err := boltSyncOf(tx, &d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return out, nil
}

func reportKey(deviceID, appID string) []byte { return []byte(deviceID + "\x00" + appID) }

// putReports stores the reports of one device, replacing earlier ones of the same apps.
func (s *boltStore) putReports(deviceID string, reps []storedReport) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReports)
		for _, r := range reps {
			data, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := b.Put(reportKey(deviceID, r.Report.AppID), data); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store reports: %w", err)
	}
	return nil
}

// reports returns the last report per app of one device.
func (s *boltStore) reports(deviceID string) (map[string]storedReport, error) {
	out := map[string]storedReport{}
	prefix := reportKey(deviceID, "")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketReports).Cursor()
		for k, v := c.Seek(prefix); k != nil && len(k) >= len(prefix) && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
			var r storedReport
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out[r.Report.AppID] = r
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	return out, nil
}

// secret returns the server secret called name, creating n random bytes the first time.
func (s *boltStore) secret(name string, n int) ([]byte, error) {
	var out []byte
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if v := b.Get([]byte(name)); len(v) == n {
			out = append([]byte(nil), v...)
			return nil
		}
		out = make([]byte, n)
		rand.Read(out)
		return b.Put([]byte(name), out)
	})
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return out, nil
}
