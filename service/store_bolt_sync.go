package service

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltSyncOf fills d.Sync from the syncs bucket.
func boltSyncOf(tx *bolt.Tx, d *device) error {
	d.Sync = syncState{}
	if v := tx.Bucket(bucketSyncs).Get([]byte(d.ID)); v != nil {
		return json.Unmarshal(v, &d.Sync)
	}
	return nil
}

// putSync records a sync of the device; props nil keeps those of an
// earlier sync. Concurrent syncs share a transaction (bbolt's Batch: one
// file sync for many devices rather than one each); the function may run
// twice, and writes the same either time.
func (s *boltStore) putSync(deviceID string, at time.Time, props map[string]string) (syncState, error) {
	var out syncState
	err := s.db.Batch(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketDevices).Get([]byte(deviceID)) == nil {
			return errNoDevice
		}
		d := device{ID: deviceID}
		if err := boltSyncOf(tx, &d); err != nil {
			return err
		}
		out = syncState{At: at, Props: d.Sync.Props}
		if props != nil {
			out.Props = props
		}
		data, err := json.Marshal(out)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketSyncs).Put([]byte(deviceID), data)
	})
	if err != nil {
		return syncState{}, fmt.Errorf("store sync of %s: %w", deviceID, err)
	}
	return out, nil
}

// syncOf returns the device's sync state; zero if it never synced.
func (s *boltStore) syncOf(deviceID string) (syncState, error) {
	d := device{ID: deviceID}
	if err := s.db.View(func(tx *bolt.Tx) error { return boltSyncOf(tx, &d) }); err != nil {
		return syncState{}, fmt.Errorf("read sync of %s: %w", deviceID, err)
	}
	return d.Sync, nil
}

func sessionValue(t time.Time) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(t.UnixNano()))
}

func sessionTime(v []byte) time.Time {
	if len(v) != 8 {
		return time.Time{} // ended long ago: swept at the next putSession
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()
}

// putSession records a session, sweeping the ended ones and, past keep,
// the oldest, in one transaction.
func (s *boltStore) putSession(hash []byte, expires, now time.Time, keep int) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSessions)
		type live struct {
			key []byte
			exp time.Time
		}
		var keys [][]byte
		var alive []live
		err := b.ForEach(func(k, v []byte) error {
			k = bytes.Clone(k)
			if exp := sessionTime(v); now.Before(exp) {
				alive = append(alive, live{k, exp})
			} else {
				keys = append(keys, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if extra := len(alive) + 1 - keep; keep > 0 && extra > 0 {
			sort.Slice(alive, func(i, j int) bool { return alive[i].exp.Before(alive[j].exp) })
			for _, l := range alive[:extra] {
				keys = append(keys, l.key)
			}
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return b.Put(hash, sessionValue(expires))
	})
	if err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	return nil
}

// sessionExpiry is when the session ends; ok false if unknown.
func (s *boltStore) sessionExpiry(hash []byte) (time.Time, bool, error) {
	var exp time.Time
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSessions).Get(hash); v != nil {
			exp, ok = sessionTime(v), true
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read session: %w", err)
	}
	return exp, ok, nil
}

// deleteSession removes a session; an unknown one is no error.
func (s *boltStore) deleteSession(hash []byte) error {
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Delete(hash) }); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
