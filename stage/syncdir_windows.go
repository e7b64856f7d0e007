package stage

// syncDir does nothing on Windows. A directory opened the only way os.Open
// can (read-only) cannot be flushed there: FlushFileBuffers answers access
// denied, and Windows has no fsync of a directory's entries as Unix does;
// NTFS journals its metadata, and a file's data is flushed (File.Sync)
// before its name is committed, which is what extraction relies on.
func syncDir(p string) error { return nil }
