package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// scanSync makes a syncState of the devices row's last_sync_at and sync_props.
func scanSync(at *time.Time, props []byte) (syncState, error) {
	var out syncState
	if at != nil {
		out.At = at.UTC()
	}
	if props != nil {
		if err := json.Unmarshal(props, &out.Props); err != nil {
			return syncState{}, err
		}
	}
	return out, nil
}

// putSync is one UPDATE of the device's row that returns the row's sync
// state: one round trip per sync.
func (s *pgStore) putSync(deviceID string, at time.Time, props map[string]string) (syncState, error) {
	var doc *string
	if props != nil {
		b, err := json.Marshal(props)
		if err != nil {
			return syncState{}, fmt.Errorf("store sync of %s: %w", deviceID, err)
		}
		str := string(b)
		doc = &str
	}
	ctx, cancel := pgCtx()
	defer cancel()
	var last *time.Time
	var got []byte
	err := s.pool.QueryRow(ctx, `UPDATE devices SET last_sync_at = $2, sync_props = COALESCE($3::jsonb, sync_props)
		WHERE id = $1 RETURNING last_sync_at, sync_props`, deviceID, at, doc).Scan(&last, &got)
	if errors.Is(err, pgx.ErrNoRows) {
		err = errNoDevice
	}
	var out syncState
	if err == nil {
		out, err = scanSync(last, got)
	}
	if err != nil {
		return syncState{}, fmt.Errorf("store sync of %s: %w", deviceID, err)
	}
	return out, nil
}

func (s *pgStore) syncOf(deviceID string) (syncState, error) {
	ctx, cancel := pgCtx()
	defer cancel()
	var last *time.Time
	var got []byte
	err := s.pool.QueryRow(ctx, `SELECT last_sync_at, sync_props FROM devices WHERE id = $1`, deviceID).Scan(&last, &got)
	if errors.Is(err, pgx.ErrNoRows) {
		return syncState{}, nil
	}
	var out syncState
	if err == nil {
		out, err = scanSync(last, got)
	}
	if err != nil {
		return syncState{}, fmt.Errorf("read sync of %s: %w", deviceID, err)
	}
	return out, nil
}

// putSession sweeps the ended sessions, inserts this one and trims to
// keep (the oldest go), in one transaction.
func (s *pgStore) putSession(hash []byte, expires, now time.Time, keep int) error {
	ctx, cancel := pgCtx()
	defer cancel()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= $1`, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO console_sessions (hash, expires_at) VALUES ($1, $2)
			ON CONFLICT (hash) DO UPDATE SET expires_at = EXCLUDED.expires_at`, hash, expires); err != nil {
			return err
		}
		if keep <= 0 {
			return nil
		}
		_, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE hash IN (
			SELECT hash FROM console_sessions ORDER BY expires_at DESC, hash OFFSET $1)`, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("store session: %w", err)
	}
	return nil
}

func (s *pgStore) sessionExpiry(hash []byte) (time.Time, bool, error) {
	ctx, cancel := pgCtx()
	defer cancel()
	var exp time.Time
	err := s.pool.QueryRow(ctx, `SELECT expires_at FROM console_sessions WHERE hash = $1`, hash).Scan(&exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read session: %w", err)
	}
	return exp.UTC(), true, nil
}

func (s *pgStore) deleteSession(hash []byte) error {
	ctx, cancel := pgCtx()
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
