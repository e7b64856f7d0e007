package peer

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrBadID means a DoFileId is empty, too long or has a character
	// outside [A-Za-z0-9._-] (it names files in the DO cache).
	ErrBadID = errors.New("peer: bad DoFileId")
	// ErrUnknown means the DO cache holds no content with that DoFileId.
	ErrUnknown = errors.New("peer: unknown DoFileId")
	// ErrNoPiece means the piece is not (yet) complete and verified here.
	ErrNoPiece = errors.New("peer: piece not held")
	// ErrRange means a piece index is outside the file.
	ErrRange = errors.New("peer: piece index out of range")
	// ErrBusy means the peer has no upload slot free.
	ErrBusy = errors.New("peer: busy")
	// ErrCorrupt means bytes on disk no longer match their piece hash.
	ErrCorrupt = errors.New("peer: cached piece does not match its hash")
	// ErrMode means a download mode outside 0, 1, 2, 3, 99 and 100 (it also
	// matches imeapi.ErrCode).
	ErrMode = errors.New("peer: bad download mode")
	// ErrHashes means the piece hash list does not fit the content.
	ErrHashes = errors.New("peer: piece hashes do not fit the content")
)
