package stage

import (
	"fmt"
	"io/fs"
)

// The entry checks both extractors share, beside name admission (admit.go)
// and the commit (commit.go): Extract applies them to the central
// directory's records (plan.go), ExtractStream to the local headers and,
// for the file type and mode, to the central directory that follows
// (stream.go, stream_central.go). Each extractor adds only what its
// reading order needs (ExtractStream: a stored entry with a data
// descriptor, a directory's compressed size).

// checkMethod refuses an entry neither extractor decodes: encrypted, or
// compressed with a method other than Store or Deflate.
func checkMethod(raw string, flags, method uint16) error {
	switch {
	case flags&flagEncrypted != 0:
		return fmt.Errorf("stage: entry %s: encrypted: %w", quoteName(raw), ErrUnsupported)
	case method != methodStore && method != methodDeflate:
		return fmt.Errorf("stage: entry %s: compression method %d: %w", quoteName(raw), method, ErrUnsupported)
	}
	return nil
}

// checkDirData refuses a directory entry that declares data.
func checkDirData(raw string, size uint64) error {
	if size != 0 {
		return corruptf(raw, "directory with %d bytes of data", size)
	}
	return nil
}

// checkKind refuses an entry whose mode is a symlink or a special file
// (device, pipe, socket, …): only files and directories are written.
func checkKind(raw string, mode fs.FileMode) error {
	switch {
	case mode&fs.ModeSymlink != 0:
		return fmt.Errorf("stage: entry %s: symlink: %w", quoteName(raw), ErrUnsafePath)
	case mode&(fs.ModeType&^fs.ModeDir) != 0:
		return fmt.Errorf("stage: entry %s: special file (%v): %w", quoteName(raw), mode.Type(), ErrUnsafePath)
	}
	return nil
}

// unixPerm is the permission an entry from a Unix-made archive gets:
// its own bits without setuid, setgid and sticky, and an owner that can
// always read and write it (and enter a directory); 0 when the archive
// gives none (the extractor's default applies). The umask applies on top.
func unixPerm(mode fs.FileMode, isDir bool) fs.FileMode {
	perm := mode.Perm()
	switch {
	case perm == 0:
		return 0
	case isDir:
		return perm | 0o700
	}
	return perm | 0o600
}

// unixMode converts the Unix st_mode of a ZIP's external attributes to
// an fs.FileMode (as archive/zip does for Extract), for checkKind and
// unixPerm.
func unixMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & unixIFMT {
	case 0, unixIFREG:
	case unixIFDIR:
		mode |= fs.ModeDir
	case unixIFLNK:
		mode |= fs.ModeSymlink
	case 0o010000:
		mode |= fs.ModeNamedPipe
	case 0o020000:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case 0o060000:
		mode |= fs.ModeDevice
	case 0o140000:
		mode |= fs.ModeSocket
	default:
		mode |= fs.ModeIrregular
	}
	return mode
}
