// Package stage is the ZIP layer of imepipe: it extracts the decrypted
// inner ZIP into IMECache — as a stream piped from package decrypt while
// the download runs (ExtractStream), or from a file through io.ReaderAt
// (Extract) — and it writes the ZIP of a setup folder for pack. It knows nothing of encryption, Detection.xml or the
// network: package decrypt hands it the decrypted inner ZIP and seals what
// Write produces.
//
// # Extract
//
// Extract reads a ZIP through an io.ReaderAt (central directory parsed by
// archive/zip; entry data read and inflated here, by package
// internal/inflate, 1.5–1.6× the speed of klauspost/compress/flate on Go
// source). Entries up to 1 MiB are read whole and inflated into a buffer
// of the declared size; bigger ones stream through one reusable
// decompressor per worker, runs of stored Deflate blocks copied straight
// through (inflate.go). ExtractStream does the same; only a stream of
// unknown length (a data descriptor) is inflated by klauspost's
// decompressor, which reads no byte past the stream's end; such an entry
// is written only once the central directory confirmed its size (see
// stream_defer.go).
// Workers take files of 1 MiB or more largest first, then runs of one
// directory's files in archive order, each reading its own section of the
// archive. Files inflated whole are handed to one creator goroutine that
// creates, writes and dates them (files created from several threads at
// once make the kernel spin on its locks; see creator.go; on Windows a
// pool of goroutines closes them, since CloseHandle waits for the virus
// scanner); the others are written by their worker. Directories are
// created once, on first need.
// Files of 8 MiB or more are inflated and written by two goroutines and,
// on Linux, bypass the page cache (O_DIRECT from aligned buffers, the
// tail buffered). Memory is a few fixed buffers per worker whatever the
// entry sizes.
//
// The commit is all or nothing: everything is written into a temp folder
// of the extraction's own (os.MkdirTemp beside DIR: .DIR.partial-N), the
// caller's Verify hook runs, and only then the tree is renamed to DIR
// under a lock on DIR (.DIR.lock beside it, removed again), Options.Replace
// swapping out an existing DIR. An existing empty DIR (not on Windows,
// which cannot lock a folder), or the current folder, is instead filled
// in place, so that it keeps its mode, owner
// and ACL and needs no write permission in its parent: the temp folder is
// made inside it and its entries are moved in at the commit, in steps a
// later extraction completes after a crash (inplace.go). Any failure
// removes the temp folder and leaves DIR untouched; siblings it did not
// create (a user's DIR.old or DIR.partial) are never touched. Concurrent
// extractions into one DIR never mix (see commit.go). With Options.Sync,
// files and directories are fsynced before the rename and the parent
// after it.
//
// Before anything is written, every name is checked (name.go): no "..",
// ".", empty parts, absolute or UNC paths, drive letters or ":" at all,
// control characters (C0, DEL, C1, NUL), bidirectional controls, invalid
// UTF-8 in a name flagged UTF-8 (unflagged non-ASCII names are CP437 and
// decoded), and — on every OS, so that a package unpacks the same
// everywhere — nothing NTFS would alias: parts ending in a dot or space,
// device names (CON, NUL, COM1, ... with any extension) and 8.3 short
// names (PROGRA~1); "\" and "/" both separate parts. Symlinks and special
// files are refused, as are duplicates (also when they differ only by "\"
// versus "/", a trailing separator or letter case, for files and folders
// alike: admit.go) and a file that is also a directory. Files are created
// with O_EXCL all the same. Every entry must match its declared size and
// CRC-32, and never more than its declared size is written; encrypted
// entries and methods other than Store and Deflate are refused. ZIP64
// archives and more than 65,535 entries are supported. Errors quote an
// entry's name with Go escapes, shortened to its first and last 40
// characters.
//
// Modes: Unix-made entries keep their permission bits (setuid, setgid and
// sticky dropped; the owner always gets rw, and rwx on directories);
// others get 0644 and 0755. The process umask applies. Modification times
// of files and explicit directories are restored.
//
// # Write
//
// Write produces the ZIP of a folder the way Microsoft's IntuneWinAppUtil
// does (see Write), to a plain io.Writer, compressing entries in parallel
// into bounded memory buffers and unlinked temp files, in constant memory,
// with ZIP64 only when needed.
package stage
