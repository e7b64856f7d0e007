// Package stage is the ZIP layer of imepipe: it extracts a verified inner
// ZIP from Content/Staging into IMECache, and it writes the ZIP of a setup
// folder for pack.
//
// Extract reads a ZIP through an io.ReaderAt with several workers, each
// reading its own entries independently, and commits the result atomically:
// everything is written into DIR.partial, an optional Verify hook runs, and
// only then is DIR.partial renamed to DIR. Any failure removes DIR.partial
// and leaves DIR untouched. Every entry name is checked before anything is
// written (no "..", absolute paths, drive letters, UNC paths, NUL bytes,
// symlinks, duplicates or file/directory collisions), and every entry is
// checked against its declared size and CRC-32.
//
// Write produces the ZIP of a folder the way Microsoft's IntuneWinAppUtil
// does (Deflate, UTF-8 names, backslash separators, sizes and CRC in the
// local header, no data descriptors), with ZIP64 when needed, to a plain
// io.Writer, compressing entries in parallel in constant memory.
//
// Stage knows nothing of encryption, Detection.xml or the network: package
// decrypt feeds it the decrypted inner ZIP and seals what Write produces.
package stage
