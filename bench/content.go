package bench

import (
	"encoding/binary"
	"math/rand/v2"
	"strconv"
)

// source fills buffers with a file's content, deterministically from the
// file's seed. Successive Fill calls continue the same stream.
type source interface {
	Fill(b []byte)
}

func newSource(k kind, seed uint64, d *dictionary) source {
	pcg := rand.NewPCG(seed, 0x9e3779b97f4a7c15)
	switch k {
	case text:
		return &textSource{pcg: pcg, dict: d}
	case repetitive:
		return newRepeatSource(pcg, d)
	default:
		return &randomSource{pcg: pcg}
	}
}

// randomSource is incompressible: PCG output, 8 bytes per step.
type randomSource struct {
	pcg *rand.PCG
}

func (s *randomSource) Fill(b []byte) {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], s.pcg.Uint64())
	}
	if i < len(b) {
		var tail [8]byte
		binary.LittleEndian.PutUint64(tail[:], s.pcg.Uint64())
		copy(b[i:], tail[:])
	}
}

// dictionary is the word list of text-like content, made from the
// dataset seed. Each word is stored twice, followed by a space and by a
// CRLF, padded to 16 bytes so that it is copied with one store.
type dictionary struct {
	words [1024][2]word
}

type word struct {
	b [16]byte
	n int
}

func newDictionary(seed uint64) *dictionary {
	rng := rand.New(rand.NewPCG(seed, 0x776f726473)) // "words"
	d := &dictionary{}
	for i := range d.words {
		n := 2 + rng.IntN(5) + rng.IntN(5) // 2..10 letters, mostly 5-7
		var w [16]byte
		for j := range n {
			w[j] = 'a' + byte(rng.IntN(26))
		}
		d.words[i][0], d.words[i][1] = word{w, n + 1}, word{w, n + 2}
		d.words[i][0].b[n] = ' '
		d.words[i][1].b[n], d.words[i][1].b[n+1] = '\r', '\n'
	}
	return d
}

// textSource writes words from the dictionary separated by spaces, with a
// line break about every ten words (CRLF, as Windows text files).
type textSource struct {
	pcg   *rand.PCG
	dict  *dictionary
	r     uint64 // random bits not used yet
	left  int    // words left in r
	carry []byte // the part of the last word that did not fit
	last  word
}

func (s *textSource) Fill(b []byte) {
	n := copy(b, s.carry)
	s.carry = s.carry[n:]
	for n < len(b) {
		if s.left == 0 {
			s.r, s.left = s.pcg.Uint64(), 5 // 5 words × 12 bits
		}
		brk := 0
		if s.r>>10&3 == 0 && s.left&1 == 0 {
			brk = 1
		}
		w := &s.dict.words[s.r&1023][brk]
		s.r >>= 12
		s.left--
		if len(b)-n >= len(w.b) { // one 16-byte store; the padding is overwritten next
			*(*[16]byte)(b[n:]) = w.b
			n += w.n
			continue
		}
		s.last = *w
		c := copy(b[n:], s.last.b[:w.n])
		n += c
		s.carry = s.last.b[c:w.n]
	}
}

// repeatSource repeats one block of text, each copy led by a line with its
// number, like a log or an XML list of similar records.
type repeatSource struct {
	block []byte // the current copy: counter line + body
	body  []byte
	off   int
	count int
}

func newRepeatSource(pcg *rand.PCG, d *dictionary) *repeatSource {
	body := make([]byte, 4096)
	(&textSource{pcg: pcg, dict: d}).Fill(body)
	return &repeatSource{body: body}
}

func (s *repeatSource) next() {
	s.count++
	s.block = append(s.block[:0], "<Record Id=\""...)
	s.block = strconv.AppendInt(s.block, int64(s.count), 10)
	s.block = append(s.block, "\">\r\n"...)
	s.block = append(s.block, s.body...)
	s.off = 0
}

func (s *repeatSource) Fill(b []byte) {
	for n := 0; n < len(b); {
		if s.off == len(s.block) {
			s.next()
		}
		c := copy(b[n:], s.block[s.off:])
		n += c
		s.off += c
	}
}
