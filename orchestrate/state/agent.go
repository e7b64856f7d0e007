package state

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/imepipe/imepipe/imeapi"
)

// Identity returns the enrolled device; ok is false before enrollment.
func (s *Store) Identity() (id Identity, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAgent).Get(keyIdentity)
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &id)
	})
	if err != nil {
		err = fmt.Errorf("state: identity: %w", err)
	}
	return id, ok, err
}

// SetIdentity stores the enrolled device.
func (s *Store) SetIdentity(id Identity) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketAgent), keyIdentity, id) })
}

// Times returns the named times (LastAppSyncTime, …).
func (s *Store) Times() (map[string]time.Time, error) {
	m := map[string]time.Time{}
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketAgent).Get(keyTimes); v != nil {
			return json.Unmarshal(v, &m)
		}
		return nil
	})
	return m, err
}

// SetTime records a named time.
func (s *Store) SetTime(name string, t time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAgent)
		m := map[string]time.Time{}
		if v := b.Get(keyTimes); v != nil {
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
		}
		m[name] = t.UTC()
		return putJSON(b, keyTimes, m)
	})
}

// SetValue and Value keep small agent settings (peer address, …).
func (s *Store) SetValue(name, value string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketAgent).Put([]byte("setting:"+name), []byte(value)) })
}

// Value returns a setting stored with SetValue ("" if none).
func (s *Store) Value(name string) (string, error) {
	var v string
	err := s.db.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(bucketAgent).Get([]byte("setting:" + name)))
		return nil
	})
	return v, err
}

// SetRequest records a user request for appID (an intent: available
// installs an available app, uninstall removes it); IntentNotTargeted
// removes the request. It is stored as the intent's number.
func (s *Store) SetRequest(appID string, intent imeapi.Intent) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRequests)
		if intent == imeapi.IntentNotTargeted {
			return b.Delete([]byte(appID))
		}
		return b.Put([]byte(appID), []byte(strconv.Itoa(int(intent))))
	})
}

// Requests returns the user requests by app id.
func (s *Store) Requests() (map[string]imeapi.Intent, error) {
	m := map[string]imeapi.Intent{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRequests).ForEach(func(k, v []byte) error {
			var n int
			if _, err := fmt.Sscan(string(v), &n); err != nil {
				return err
			}
			m[string(k)] = imeapi.Intent(n)
			return nil
		})
	})
	return m, err
}

// PutPersisted records content kept for source resiliency.
func (s *Store) PutPersisted(p Persisted) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bucketPersist), []byte(p.Key), p) })
}

// DeletePersisted forgets kept content.
func (s *Store) DeletePersisted(key string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketPersist).Delete([]byte(key)) })
}

// Persisted lists kept content, least recently used first.
func (s *Store) Persisted() ([]Persisted, error) {
	var out []Persisted
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPersist).ForEach(func(_, v []byte) error {
			var p Persisted
			if err := json.Unmarshal(v, &p); err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].LastUsed.Before(out[j].LastUsed) })
	return out, err
}
