package stage

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"time"
)

// create creates the entry's file, sized as its header says.
func (s *streamer) create(e *streamEntry) (*outFile, error) {
	size := e.usize
	if e.descriptor {
		size = 0 // unknown
	}
	out, err := createFile(s.path(e.clean), defaultFileMode, size)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("stage: entry %s: collides with another entry: %w", quoteName(e.name), ErrUnsafePath)
		}
		return nil, entryErr(e.name, err)
	}
	return out, nil
}

// handOff inflates (or copies) the data of an entry that fits in memory
// and, once its size and CRC-32 check out, hands it to the creator.
func (s *streamer) handOff(ctx context.Context, e *streamEntry, method uint16, data []byte, mtime time.Time) error {
	buf, err := s.creator.reserve(ctx, int(e.usize)+wholeSlack)
	if err != nil {
		return err
	}
	var out []byte
	if method == methodDeflate {
		w := wholePool.Get().(*whole)
		out, err = w.inflateInto(*buf, data, int(e.usize))
		wholePool.Put(w)
	} else {
		out = (*buf)[:copy(*buf, data)]
	}
	crc := crc32.ChecksumIEEE(out)
	switch {
	case err != nil:
		err = corruptf(e.name, "%v", err)
	case uint64(len(out)) != e.usize:
		err = corruptf(e.name, "%d bytes, declared %d", len(out), e.usize)
	case crc != e.crc:
		err = corruptf(e.name, "CRC-32 %08x, declared %08x", crc, e.crc)
	}
	if err != nil {
		s.creator.drop(buf)
		return err
	}
	*buf = out
	return s.creator.hand(ctx, buf, func(data []byte) error { return s.writeWhole(e, data, mtime) })
}

// writeWhole creates, writes and dates a checked entry's file, on the
// creator.
func (s *streamer) writeWhole(e *streamEntry, data []byte, mtime time.Time) error {
	out, err := s.create(e)
	if err != nil {
		return err
	}
	if _, err := out.Write(data); err != nil {
		out.Close()
		return entryErr(e.name, err)
	}
	s.bytes.Add(int64(len(data)))
	if s.opt.Progress != nil {
		s.opt.Progress(int64(len(data)))
	}
	return s.creator.finish(func() error {
		if err := s.finish(out, e, 0, 0, mtime, false); err != nil {
			out.Close()
			return err
		}
		return nil
	})
}

// writePiped is write for a big entry of known size: decompression and
// the CRC-32 and writes run on two goroutines (copyPiped).
func (s *streamer) writePiped(ctx context.Context, e *streamEntry, src io.Reader, mtime time.Time) error {
	out, err := s.create(e)
	if err != nil {
		return err
	}
	progress := func(n int64) {
		s.bytes.Add(n)
		if s.opt.Progress != nil {
			s.opt.Progress(n)
		}
	}
	n, crc, err := copyPiped(ctx, out, src, e.name, e.usize, progress)
	if err == nil {
		err = s.finish(out, e, n, crc, mtime, true)
	}
	if err != nil {
		out.Close()
		return err
	}
	return nil
}

// write copies src into the entry's file; its byte count and CRC must
// match the header's.
func (s *streamer) write(ctx context.Context, e *streamEntry, src io.Reader, buf []byte, mtime time.Time) error {
	out, err := s.create(e)
	if err != nil {
		return err
	}
	fail := func(err error) error { out.Close(); return err }
	var (
		n   uint64
		crc uint32
	)
	for {
		if err := ctx.Err(); err != nil {
			return fail(fmt.Errorf("stage: %w", err))
		}
		m, rerr := fill(src, buf)
		if m > 0 {
			n += uint64(m)
			if n > e.usize {
				return fail(corruptf(e.name, "more data than the declared %d bytes", e.usize))
			}
			crc = crc32.Update(crc, crc32.IEEETable, buf[:m])
			if _, err := out.Write(buf[:m]); err != nil {
				return fail(entryErr(e.name, err))
			}
			s.bytes.Add(int64(m))
			if s.opt.Progress != nil {
				s.opt.Progress(int64(m))
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return fail(corruptf(e.name, "%v", rerr))
		}
	}
	if err := s.finish(out, e, n, crc, mtime, true); err != nil {
		return fail(err)
	}
	return nil
}

// finish checks an extracted entry's size and CRC (with check), then
// syncs (with Options.Sync), dates and closes its file. On an error the
// file is left open for the caller to close.
func (s *streamer) finish(out *outFile, e *streamEntry, n uint64, crc uint32, mtime time.Time, check bool) error {
	if check && n != e.usize {
		return corruptf(e.name, "%d bytes, declared %d", n, e.usize)
	}
	if check && crc != e.crc {
		return corruptf(e.name, "CRC-32 %08x, declared %08x", crc, e.crc)
	}
	if s.opt.Sync {
		if err := out.Sync(); err != nil {
			return entryErr(e.name, err)
		}
	}
	if !mtime.IsZero() {
		if err := out.SetModTime(mtime); err != nil {
			return entryErr(e.name, err)
		}
	}
	if err := out.Close(); err != nil {
		return entryErr(e.name, err)
	}
	return nil
}
