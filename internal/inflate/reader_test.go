package inflate

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// readers wraps a source in the ways a Reader must cope with.
var readers = map[string]func(io.Reader) io.Reader{
	"whole":   func(r io.Reader) io.Reader { return r },
	"onebyte": iotest.OneByteReader,
	"half":    iotest.HalfReader,
	"dataerr": iotest.DataErrReader,
}

func TestReaderRoundTrip(t *testing.T) {
	for name, data := range corpus() {
		for _, level := range []int{-2, 0, 1, 6} {
			z := compress(t, data, level)
			for rname, wrap := range readers {
				if rname == "onebyte" && len(z) > 50<<10 {
					continue
				}
				// Read with an odd buffer size.
				var got bytes.Buffer
				r := NewReader(wrap(bytes.NewReader(z)), nil)
				buf := make([]byte, 7777)
				for {
					n, err := r.Read(buf)
					got.Write(buf[:n])
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("%s level %d %s: Read: %v", name, level, rname, err)
					}
				}
				if !bytes.Equal(got.Bytes(), data) {
					t.Fatalf("%s level %d %s: Read got %d bytes, want %d", name, level, rname, got.Len(), len(data))
				}
				// WriteTo, reusing the Reader.
				got.Reset()
				r.Reset(wrap(bytes.NewReader(z)), nil)
				if n, err := r.WriteTo(&got); err != nil || n != int64(len(data)) || !bytes.Equal(got.Bytes(), data) {
					t.Fatalf("%s level %d %s: WriteTo %d, %v", name, level, rname, n, err)
				}
			}
		}
	}
}

// Stored blocks between compressed ones, the source read in pieces: a
// refill between blocks must keep the bytes the bit buffer holds for the
// stored block's header.
func TestReaderFlushedStream(t *testing.T) {
	c := corpus()
	data := append(append(bytes.Clone(c["text"][:100000]), c["random"][:70000]...), c["mixed"][:90000]...)
	var b bytes.Buffer
	w, _ := stdflate.NewWriter(&b, 6)
	for i := 0; i < len(data); i += 777 {
		w.Write(data[i:min(i+777, len(data))])
		w.Flush() // an empty stored block after each piece
	}
	w.Close()
	for rname, wrap := range readers {
		got, err := io.ReadAll(NewReader(wrap(bytes.NewReader(b.Bytes())), nil))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s: %d bytes, %v; want %d", rname, len(got), err, len(data))
		}
	}
	var d Decompressor
	dst := make([]byte, len(data))
	if n, err := d.Decompress(dst, b.Bytes()); err != nil || !bytes.Equal(dst[:n], data) {
		t.Fatalf("Decompress: %d bytes, %v", n, err)
	}
}

// A stream whose matches reach into a dictionary, as stage's inflater
// hands over after copying stored blocks itself.
func TestReaderDict(t *testing.T) {
	text := corpus()["text"]
	dict, rest := text[:100<<10], text[100<<10:]
	var b bytes.Buffer
	w, _ := stdflate.NewWriterDict(&b, 6, dict)
	w.Write(rest)
	w.Close()
	got, err := io.ReadAll(NewReader(bytes.NewReader(b.Bytes()), dict))
	if err != nil || !bytes.Equal(got, rest) {
		t.Fatalf("got %d bytes, %v; want %d", len(got), err, len(rest))
	}
	// Without the dictionary the first match reaches before the start.
	if _, err := io.ReadAll(NewReader(bytes.NewReader(b.Bytes()), nil)); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("without dict: %v, want ErrCorrupt", err)
	}
}

func TestReaderTruncated(t *testing.T) {
	data := corpus()["mixed"][:60000]
	for _, level := range []int{0, 1, 6} {
		z := compress(t, data, level)
		for cut := 0; cut < len(z); cut += 1 + cut/50 {
			_, err := io.ReadAll(NewReader(bytes.NewReader(z[:cut]), nil))
			if err == nil {
				t.Fatalf("level %d: cut at %d of %d: no error", level, cut, len(z))
			}
		}
	}
}

func TestReaderSourceError(t *testing.T) {
	z := compress(t, corpus()["text"], 6)
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(bytes.NewReader(z[:len(z)/2]), iotest.ErrReader(boom)), nil)
	if _, err := io.Copy(io.Discard, r); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the source's", err)
	}
}
