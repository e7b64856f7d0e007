package service

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgTimeout bounds each store call's round trips to PostgreSQL.
const pgTimeout = 15 * time.Second

// pgStore keeps the service's state in PostgreSQL, so that several
// serve processes on one database serve the same fleet: devices, token
// hashes, syncs, reports, console sessions and secrets here, and the Array's registrations
// (pgPeers) on the same pool. It migrates the schema when opened.
type pgStore struct {
	pool *pgxpool.Pool
}

func openPG(url string) (*pgStore, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may quote the URL; say only which part is wrong.
		return nil, errors.New("not a valid PostgreSQL URL")
	}
	if cfg.MaxConns < 16 {
		cfg.MaxConns = 16
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	steps, err := loadMigrations(migrations)
	if err == nil {
		_, err = migrate(ctx, pool, steps)
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &pgStore{pool: pool}, nil
}

func (s *pgStore) close() error { s.pool.Close(); return nil }

func pgCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), pgTimeout)
}

func (s *pgStore) addDevice(d device, tokenHash []byte) error {
	doc, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode device: %w", err)
	}
	ctx, cancel := pgCtx()
	defer cancel()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO devices (id, name, enrolled_at, doc) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, enrolled_at = EXCLUDED.enrolled_at, doc = EXCLUDED.doc`,
			d.ID, d.Name, d.EnrolledAt, doc); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO tokens (hash, device_id) VALUES ($1, $2)
			ON CONFLICT (hash) DO UPDATE SET device_id = EXCLUDED.device_id`, tokenHash, d.ID)
		return err
	})
	if err != nil {
		return fmt.Errorf("store device: %w", err)
	}
	return nil
}

func (s *pgStore) deviceByToken(tokenHash []byte) (*device, error) {
	ctx, cancel := pgCtx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT d.doc, d.last_sync_at, d.sync_props FROM tokens t JOIN devices d ON d.id = t.device_id WHERE t.hash = $1`, tokenHash)
	if err != nil {
		return nil, fmt.Errorf("read device: %w", err)
	}
	devs, err := collectDevices(rows)
	if err != nil || len(devs) == 0 {
		return nil, err
	}
	return &devs[0], nil
}

// collectDevices decodes rows of (doc, last_sync_at, sync_props).
func collectDevices(rows pgx.Rows) ([]device, error) {
	var out []device
	var doc, props []byte
	var last *time.Time
	_, err := pgx.ForEachRow(rows, []any{&doc, &last, &props}, func() error {
		var d device
		if err := json.Unmarshal(doc, &d); err != nil {
			return err
		}
		var err error
		if d.Sync, err = scanSync(last, props); err != nil {
			return err
		}
		out = append(out, d)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read devices: %w", err)
	}
	return out, nil
}

func (s *pgStore) devices() ([]device, error) {
	ctx, cancel := pgCtx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT doc, last_sync_at, sync_props FROM devices ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list devices: %w", err)
	}
	return collectDevices(rows)
}

// putReports upserts the reports in one statement (one round trip); of
// two reports of one app in reps the later wins, as in boltStore.
func (s *pgStore) putReports(deviceID string, reps []storedReport) error {
	if len(reps) == 0 {
		return nil
	}
	last := map[string]int{}
	for i, r := range reps {
		last[r.Report.AppID] = i
	}
	var apps, docs []string
	var times []time.Time
	for i, r := range reps {
		if last[r.Report.AppID] != i {
			continue
		}
		doc, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("store reports: %w", err)
		}
		apps, times, docs = append(apps, r.Report.AppID), append(times, r.ReceivedAt), append(docs, string(doc))
	}
	ctx, cancel := pgCtx()
	defer cancel()
	_, err := s.pool.Exec(ctx, `INSERT INTO reports (device_id, app_id, received_at, doc)
		SELECT $1, a, t, d::jsonb FROM unnest($2::text[], $3::timestamptz[], $4::text[]) AS x(a, t, d)
		ON CONFLICT (device_id, app_id) DO UPDATE SET received_at = EXCLUDED.received_at, doc = EXCLUDED.doc`,
		deviceID, apps, times, docs)
	if err != nil {
		return fmt.Errorf("store reports: %w", err)
	}
	return nil
}

func (s *pgStore) reports(deviceID string) (map[string]storedReport, error) {
	ctx, cancel := pgCtx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT doc FROM reports WHERE device_id = $1`, deviceID)
	if err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("read reports: %w", err)
	}
	out := map[string]storedReport{}
	for _, doc := range docs {
		var r storedReport
		if err := json.Unmarshal(doc, &r); err != nil {
			return nil, fmt.Errorf("read reports: %w", err)
		}
		out[r.Report.AppID] = r
	}
	return out, nil
}

// secret inserts a new random value unless the row exists and reads the
// row back: the first process to write wins and every other reads it.
func (s *pgStore) secret(name string, n int) ([]byte, error) {
	fresh := make([]byte, n)
	rand.Read(fresh)
	ctx, cancel := pgCtx()
	defer cancel()
	var out []byte
	err := s.pool.QueryRow(ctx, `WITH ins AS (
		INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING RETURNING value)
		SELECT value FROM ins UNION ALL SELECT value FROM secrets WHERE name = $1 LIMIT 1`, name, fresh).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
		// Another process inserted it after this statement's snapshot.
		err = s.pool.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&out)
	}
	if err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	if len(out) != n {
		return nil, fmt.Errorf("secret %s is %d bytes in the database, want %d", name, len(out), n)
	}
	return out, nil
}
