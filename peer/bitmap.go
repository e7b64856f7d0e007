package peer

// Bitmap is a set of piece indexes, laid out as the service's Array
// expects: bit i is in byte i/8, most significant bit first.
type Bitmap []byte

// NewBitmap returns an empty bitmap for n pieces.
func NewBitmap(n int) Bitmap { return make(Bitmap, (n+7)/8) }

// Has reports whether piece i is set; out of range is false.
func (b Bitmap) Has(i int) bool {
	if i < 0 || i/8 >= len(b) {
		return false
	}
	return b[i/8]&(0x80>>(i%8)) != 0
}

// Set sets piece i (ignored when out of range).
func (b Bitmap) Set(i int) {
	if i >= 0 && i/8 < len(b) {
		b[i/8] |= 0x80 >> (i % 8)
	}
}

// Clear clears piece i (ignored when out of range).
func (b Bitmap) Clear(i int) {
	if i >= 0 && i/8 < len(b) {
		b[i/8] &^= 0x80 >> (i % 8)
	}
}

// Count is how many of the first n pieces are set.
func (b Bitmap) Count(n int) int {
	c := 0
	for i := range n {
		if b.Has(i) {
			c++
		}
	}
	return c
}

// Clone returns a copy.
func (b Bitmap) Clone() Bitmap { return append(Bitmap(nil), b...) }

// valid reports whether b is exactly the size for n pieces with no bit
// set past piece n-1.
func (b Bitmap) valid(n int) bool {
	if len(b) != (n+7)/8 {
		return false
	}
	for i := n; i < len(b)*8; i++ {
		if b.Has(i) {
			return false
		}
	}
	return true
}
