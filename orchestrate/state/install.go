package state

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

var bucketInstalls = []byte("Installs")

// Install records an installer run in progress, written before the
// installer starts and deleted once its attempt is finished (state
// messages written), so that an agent started after this one was killed
// finds the run and re-adopts it instead of starting a second installer.
// It lives in its own bucket, Installs/<appId>_<rev>, which ResetApp does
// not touch: resetting an app must not forget a running installer.
type Install struct {
	User    string `json:"User"`
	Key     string `json:"Key"` // <appId>_<rev>
	AppID   string `json:"AppId"`
	Version string `json:"Version"`
	Mode    string `json:"Mode"` // DetectInstall or DetectUninstall
	// ReaperPID and ReaperStart name the reaper process (0 until it has
	// started; ReaperStart is its start time, so that a reused process id
	// is not taken for it). ReaperJob is its Windows Job Object's name.
	ReaperPID   int    `json:"ReaperPid"`
	ReaperStart uint64 `json:"ReaperStart"`
	ReaperJob   string `json:"ReaperJob,omitempty"`
	Dir         string `json:"Dir"`        // the content folder the installer runs in
	ResultPath  string `json:"ResultPath"` // where the reaper writes its Result
	CodeFile    string `json:"CodeFile"`   // the installer's IMEPIPE_EXIT_CODE_FILE
	// Attempt is the number this attempt has: a failure is counted only
	// while the stored count is below it (counted once, whoever finishes).
	Attempt  int       `json:"Attempt"`
	Started  time.Time `json:"Started"`
	Deadline time.Time `json:"Deadline"` // past it the tree is killed
	// Policy is the service's policy the run was started for (JSON), so
	// that its attempt can be finished (return codes, detection) even
	// when the service has moved on to another revision.
	Policy json.RawMessage `json:"Policy"`
}

// PutInstall writes (or replaces) the record of key's run.
func (s *Store) PutInstall(in Install) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketInstalls)
		if err != nil {
			return err
		}
		return putJSON(b, []byte(in.Key), in)
	})
	if err != nil {
		return fmt.Errorf("state: install %s: %w", in.Key, err)
	}
	return nil
}

// BeginInstall writes the record of a run about to start and counts the
// start in the app's Attempts.Runs, in one transaction.
func (s *Store) BeginInstall(in Install) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketInstalls)
		if err != nil {
			return err
		}
		if err := putJSON(b, []byte(in.Key), in); err != nil {
			return err
		}
		app, err := sub(tx, in.User, in.Key, true)
		if err != nil {
			return err
		}
		var att Attempts
		if v := app.Get(keyAttempts); v != nil {
			if err := json.Unmarshal(v, &att); err != nil {
				return err
			}
		}
		att.Runs++
		return putJSON(app, keyAttempts, att)
	})
	if err != nil {
		return fmt.Errorf("state: install %s: %w", in.Key, err)
	}
	return nil
}

// DeleteInstall forgets key's run (no error when there is none).
func (s *Store) DeleteInstall(key string) error {
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInstalls)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("state: install %s: %w", key, err)
	}
	return nil
}

// Installs lists the recorded runs, sorted by key.
func (s *Store) Installs() ([]Install, error) {
	var out []Install
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInstalls)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var in Install
			if err := json.Unmarshal(v, &in); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			out = append(out, in)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("state: installs: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
