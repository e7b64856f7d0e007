package fetch

import (
	"hash"
	"hash/crc32"
)

// pieces is the completion state of the file: which fixed-size pieces are
// written, with the checksum of each (pieceSum). Not safe for concurrent
// use; the Job guards it with its mutex.
type pieces struct {
	size, pieceSize int64
	done            []bool
	sums            []uint64
	ndone           int
	first           int // first piece not done: the prefix ends there
	// legacy: sums are xxhash64 (a journal of format 1), until rehash
	// has checked them and recorded pieceSum instead.
	legacy bool
}

// pieceSum is the checksum a journal records per piece: CRC-32 (IEEE),
// which catches a torn or damaged write at several times xxhash64's speed
// (carry-less multiply on amd64, the CRC instructions on arm64). It is
// not a defence against tampering: the HMAC or the piece hashes are.
func pieceSum(b []byte) uint64 { return uint64(crc32.ChecksumIEEE(b)) }

// newPieceHash is pieceSum as a streaming hash (its Sum32), for pieces
// read back in bounded buffers.
func newPieceHash() hash.Hash32 { return crc32.NewIEEE() }

func newPieces(size, pieceSize int64) *pieces {
	n := int((size + pieceSize - 1) / pieceSize)
	return &pieces{size: size, pieceSize: pieceSize, done: make([]bool, n), sums: make([]uint64, n)}
}

func (p *pieces) count() int { return len(p.done) }

// bounds returns the byte range of piece i.
func (p *pieces) bounds(i int) (off, n int64) {
	off = int64(i) * p.pieceSize
	return off, min(p.pieceSize, p.size-off)
}

func (p *pieces) set(i int, sum uint64) {
	if !p.done[i] {
		p.done[i] = true
		p.ndone++
	}
	p.sums[i] = sum
	for p.first < len(p.done) && p.done[p.first] {
		p.first++
	}
}

func (p *pieces) clear(i int) {
	if p.done[i] {
		p.done[i] = false
		p.ndone--
	}
	p.sums[i] = 0
	p.first = min(p.first, i)
}

// prefix is the length of the completed run of bytes from offset 0.
func (p *pieces) prefix() int64 {
	if p.first == len(p.done) {
		return p.size
	}
	return int64(p.first) * p.pieceSize
}

// completeBytes is how many bytes of the file are in completed pieces.
func (p *pieces) completeBytes() int64 {
	b := int64(p.ndone) * p.pieceSize
	if n := len(p.done); n > 0 && p.done[n-1] {
		_, last := p.bounds(n - 1)
		b -= p.pieceSize - last
	}
	return b
}

// missing returns the runs of pieces not done, as [first, end) pairs.
func (p *pieces) missing() []span {
	var out []span
	for i := 0; i < len(p.done); {
		if p.done[i] {
			i++
			continue
		}
		j := i
		for j < len(p.done) && !p.done[j] {
			j++
		}
		out = append(out, span{first: i, end: j})
		i = j
	}
	return out
}
