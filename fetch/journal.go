package fetch

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cespare/xxhash/v2"
)

// journal is what survives a crash, in <file>.journal:
//
//	"IMEPJRN2" | u32 len | header JSON | u32 pieces | bitmap | u64 pieceSum per set bit | u64 xxhash of all before
//
// Format 1 ("IMEPJRN1") is the same with the xxhash64 of each piece; it
// is still read (resume checks those sums as they are, then records
// pieceSum's).
// It is replaced atomically (temp file, rename), so a reader sees
// the previous or the next version, never a torn one; the trailing hash
// catches any other damage.
type journal struct {
	Size         int64  `json:"size"`
	PieceSize    int64  `json:"piece_size"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	SHA256       string `json:"sha256,omitempty"`
	// Bytes is the cumulative byte count per SourceKind, so a resumed
	// download reports what every run fetched.
	Bytes [numKinds]int64 `json:"bytes_by_kind"`
	// Conns is the connection count per SourceKind of the record over
	// every run so far (counters.connections), so that bytes carried over
	// keep the connections that brought them. A journal written before
	// it existed has none: zeros, which connections reads as "unknown".
	Conns   [numKinds]int `json:"conns_by_kind"`
	Elapsed int64         `json:"elapsed_ns"`
	pieces  *pieces
}

const (
	journalMagic   = "IMEPJRN2"
	journalMagicV1 = "IMEPJRN1" // piece sums are xxhash64
)

// errJournal marks a journal that cannot be used; the Job starts afresh.
var errJournal = errors.New("fetch: unusable journal")

// identity is the URL-independent description of the content: a journal
// made while fetching from a cache host resumes from the origin and back.
func (j *journal) sameContent(o *journal) bool {
	return j.Size == o.Size && j.PieceSize == o.PieceSize && j.ETag == o.ETag &&
		j.LastModified == o.LastModified && j.SHA256 == o.SHA256
}

func (j *journal) encode() ([]byte, error) {
	hdr, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("fetch: journal: %w", err)
	}
	p := j.pieces
	var b bytes.Buffer
	b.WriteString(journalMagic)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(hdr))))
	b.Write(hdr)
	b.Write(binary.LittleEndian.AppendUint32(nil, uint32(p.count())))
	bitmap := make([]byte, (p.count()+7)/8)
	for i, d := range p.done {
		if d {
			bitmap[i/8] |= 1 << (i % 8)
		}
	}
	b.Write(bitmap)
	for i, d := range p.done {
		if d {
			b.Write(binary.LittleEndian.AppendUint64(nil, p.sums[i]))
		}
	}
	b.Write(binary.LittleEndian.AppendUint64(nil, xxhash.Sum64(b.Bytes())))
	return b.Bytes(), nil
}

const maxJournal = 64 << 20

func decodeJournal(data []byte) (*journal, error) {
	bad := func(what string) (*journal, error) { return nil, fmt.Errorf("%w: %s", errJournal, what) }
	if len(data) < len(journalMagic)+4+4+8 {
		return bad("no magic")
	}
	var legacy bool
	switch string(data[:len(journalMagic)]) {
	case journalMagic:
	case journalMagicV1:
		legacy = true
	default:
		return bad("no magic")
	}
	body, tail := data[:len(data)-8], data[len(data)-8:]
	if xxhash.Sum64(body) != binary.LittleEndian.Uint64(tail) {
		return bad("checksum")
	}
	r := body[len(journalMagic):]
	hlen := int(binary.LittleEndian.Uint32(r))
	r = r[4:]
	if hlen > len(r)-4 {
		return bad("header length")
	}
	j := &journal{}
	if err := json.Unmarshal(r[:hlen], j); err != nil {
		return bad("header: " + err.Error())
	}
	r = r[hlen:]
	if j.Size < 0 || j.PieceSize <= 0 || j.PieceSize > 1<<30 || j.Size/j.PieceSize >= 1<<22 {
		return bad("size or piece size")
	}
	n := int(binary.LittleEndian.Uint32(r))
	r = r[4:]
	if int64(n) != (j.Size+j.PieceSize-1)/j.PieceSize || len(r) < (n+7)/8 {
		return bad("piece count")
	}
	p := newPieces(j.Size, j.PieceSize)
	bitmap, r := r[:(n+7)/8], r[(n+7)/8:]
	for i := range n {
		if bitmap[i/8]&(1<<(i%8)) == 0 {
			continue
		}
		if len(r) < 8 {
			return bad("piece sums")
		}
		p.set(i, binary.LittleEndian.Uint64(r))
		r = r[8:]
	}
	if len(r) != 0 {
		return bad("trailing bytes")
	}
	p.legacy = legacy
	j.pieces = p
	return j, nil
}

func journalPath(file string) string { return file + ".journal" }

// loadJournal reads the journal for file; os.ErrNotExist when there is none.
func loadJournal(file string) (*journal, error) {
	f, err := os.Open(journalPath(file))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxJournal+1))
	if err != nil {
		return nil, fmt.Errorf("fetch: journal: %w", err)
	}
	if len(data) > maxJournal {
		return nil, fmt.Errorf("%w: too large", errJournal)
	}
	return decodeJournal(data)
}

// save replaces the journal atomically: temp file, (fsync,) rename. The
// rename alone is atomic against a killed process; durable adds the
// fsync that makes it survive a power cut too. Mid-run flushes skip it:
// on ext4 (data=ordered) an fsync waits for the write-back of every dirty
// page of the download, and the journal then fell hundreds of MiB behind
// (measured); the data itself is not fsynced mid-run either, and resume
// re-hashes every recorded piece, so a stale journal only costs refetching.
func (j *journal) save(file string, data []byte, durable bool) error {
	dst := journalPath(file)
	// One fixed temp name: only one flusher writes, and a run killed
	// mid-write leaves nothing that the next run does not overwrite.
	tmp, err := os.OpenFile(dst+".tmp", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return diskErr(err, "journal")
	}
	_, err = tmp.Write(data)
	if err == nil && durable {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return diskErr(err, "journal")
	}
	return nil
}
