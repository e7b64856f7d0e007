package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/imepipe/imepipe/imeapi"
)

// pgPeers is the Array with its registrations and origin leases in
// PostgreSQL, so that a peer registered through one serve process is
// returned by another. Each query runs match over the file's live rows
// in one transaction that holds an advisory lock on the file, so two
// processes answering for one file take turns as one process's mutex
// makes its requests do. Registrations carry their expiry (expires_at,
// from the service's clock): reads skip expired rows, a query deletes
// its file's, and once per ttl a sweep deletes everyone's.
//
// What it does not do: it does not notify other processes; a peer learns
// of new holders at its next query, as with the in-memory Array.
type pgPeers struct {
	pool  *pgxpool.Pool
	ttl   time.Duration
	lease time.Duration
	now   func() time.Time
	logf  func(string, ...any)

	mu        sync.Mutex
	lastSweep time.Time
}

func newPGPeers(pool *pgxpool.Pool, ttl time.Duration, now func() time.Time, logf func(string, ...any)) *pgPeers {
	return &pgPeers{pool: pool, ttl: ttl, lease: DefaultLease, now: now, logf: logf}
}

// fileLock is the advisory lock space of Array files ("do" in ASCII).
const fileLock = 0x646f

func (p *pgPeers) ask(r registration, holds bool, limit int) (imeapi.ArrayResponse, error) {
	now := p.now()
	ctx, cancel := pgCtx()
	defer cancel()
	var resp imeapi.ArrayResponse
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(fileLock), r.fileID); err != nil {
			return err
		}
		f, err := loadFile(ctx, tx, r.fileID, now)
		if err != nil {
			return err
		}
		resp = match(f, r, holds, limit, now, p.ttl, p.lease)
		return saveFile(ctx, tx, r.fileID, r.deviceID, f)
	})
	if err != nil {
		return imeapi.ArrayResponse{}, fmt.Errorf("array %s: %w", r.fileID, err)
	}
	p.sweep(now)
	return resp, nil
}

// loadFile reads a file's live registrations and its leases, deleting
// the expired registrations.
func loadFile(ctx context.Context, tx pgx.Tx, fileID string, now time.Time) (*fileState, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM peer_registrations WHERE file_id = $1 AND expires_at <= $2`, fileID, now); err != nil {
		return nil, err
	}
	f := newFileState()
	rows, err := tx.Query(ctx, `SELECT device_id, peer_id, addr, lan_id, group_id, mode, complete, pieces, holds,
		npieces, want, max_origin, avoid, expires_at FROM peer_registrations WHERE file_id = $1 AND expires_at > $2`, fileID, now)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		x := &registration{fileID: fileID}
		var mode, npieces, maxOrig int32
		var want []int32
		if err := rows.Scan(&x.deviceID, &x.peerID, &x.addr, &x.lanID, &x.groupID, &mode, &x.complete, &x.pieces, &x.holds,
			&npieces, &want, &maxOrig, &x.avoid, &x.expires); err != nil {
			rows.Close()
			return nil, err
		}
		x.mode, x.npieces, x.maxOrig = imeapi.DownloadMode(mode), int(npieces), int(maxOrig)
		for _, i := range want {
			x.want = append(x.want, int(i))
		}
		f.regs[x.deviceID] = x
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = tx.Query(ctx, `SELECT scope, piece, device_id, until FROM peer_leases WHERE file_id = $1`, fileID)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var scope string
		var piece int32
		var l lease
		if err := rows.Scan(&scope, &piece, &l.device, &l.until); err != nil {
			rows.Close()
			return nil, err
		}
		if f.leases[scope] == nil {
			f.leases[scope] = map[int]lease{}
		}
		f.leases[scope][int(piece)] = l
	}
	return f, rows.Err()
}

// saveFile writes back what match may have changed: the asking device's
// registration (or its removal) and the file's leases.
func saveFile(ctx context.Context, tx pgx.Tx, fileID, deviceID string, f *fileState) error {
	var b pgx.Batch
	if x := f.regs[deviceID]; x != nil {
		want := make([]int32, len(x.want))
		for i, v := range x.want {
			want[i] = int32(v)
		}
		avoid := x.avoid
		if avoid == nil {
			avoid = []string{}
		}
		b.Queue(`INSERT INTO peer_registrations (file_id, device_id, peer_id, addr, lan_id, group_id, mode, complete, pieces,
			holds, npieces, want, max_origin, avoid, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			ON CONFLICT (file_id, device_id) DO UPDATE SET peer_id = EXCLUDED.peer_id, addr = EXCLUDED.addr, lan_id = EXCLUDED.lan_id,
			group_id = EXCLUDED.group_id, mode = EXCLUDED.mode, complete = EXCLUDED.complete, pieces = EXCLUDED.pieces,
			holds = EXCLUDED.holds, npieces = EXCLUDED.npieces, want = EXCLUDED.want, max_origin = EXCLUDED.max_origin,
			avoid = EXCLUDED.avoid, expires_at = EXCLUDED.expires_at`,
			fileID, deviceID, x.peerID, x.addr, x.lanID, x.groupID, int32(x.mode), x.complete, x.pieces,
			x.holds, int32(x.npieces), want, int32(x.maxOrig), avoid, x.expires)
	} else {
		b.Queue(`DELETE FROM peer_registrations WHERE file_id = $1 AND device_id = $2`, fileID, deviceID)
	}
	b.Queue(`DELETE FROM peer_leases WHERE file_id = $1`, fileID)
	var scopes, devices []string
	var pieces []int32
	var until []time.Time
	for scope, ls := range f.leases {
		for i, l := range ls {
			scopes, pieces, devices, until = append(scopes, scope), append(pieces, int32(i)), append(devices, l.device), append(until, l.until)
		}
	}
	if len(scopes) > 0 {
		b.Queue(`INSERT INTO peer_leases (file_id, scope, piece, device_id, until)
			SELECT $1, s, p, d, u FROM unnest($2::text[], $3::integer[], $4::text[], $5::timestamptz[]) AS t(s, p, d, u)`,
			fileID, scopes, pieces, devices, until)
	}
	return tx.SendBatch(ctx, &b).Close()
}

// leaveAll removes every registration of a device and counts the live ones.
func (p *pgPeers) leaveAll(deviceID string) (int, error) {
	ctx, cancel := pgCtx()
	defer cancel()
	var n int
	err := p.pool.QueryRow(ctx, `WITH gone AS (DELETE FROM peer_registrations WHERE device_id = $1 RETURNING expires_at)
		SELECT count(*) FROM gone WHERE expires_at > $2`, deviceID, p.now()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("array leave: %w", err)
	}
	return n, nil
}

// sweep deletes every expired registration, and the leases of files
// nobody is registered for, at most once per ttl; failures are logged
// (the next sweep retries).
func (p *pgPeers) sweep(now time.Time) {
	p.mu.Lock()
	if now.Sub(p.lastSweep) < p.ttl {
		p.mu.Unlock()
		return
	}
	p.lastSweep = now
	p.mu.Unlock()
	if _, err := p.cleanup(now); err != nil {
		p.logf("array cleanup: %v", err)
	}
}

// cleanup deletes the registrations expired at now, and the leases of
// files without a registration; it returns how many registrations went.
func (p *pgPeers) cleanup(now time.Time) (int64, error) {
	ctx, cancel := pgCtx()
	defer cancel()
	// SKIP LOCKED: rows a query is working on are its to delete; the
	// sweep never waits on them, so it cannot deadlock with a query.
	tag, err := p.pool.Exec(ctx, `DELETE FROM peer_registrations WHERE (file_id, device_id) IN (
		SELECT file_id, device_id FROM peer_registrations WHERE expires_at <= $1 FOR UPDATE SKIP LOCKED)`, now)
	if err != nil {
		return 0, err
	}
	if _, err := p.pool.Exec(ctx, `DELETE FROM peer_leases WHERE (file_id, scope, piece) IN (
		SELECT file_id, scope, piece FROM peer_leases l WHERE NOT EXISTS (
			SELECT 1 FROM peer_registrations r WHERE r.file_id = l.file_id) FOR UPDATE SKIP LOCKED)`); err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
