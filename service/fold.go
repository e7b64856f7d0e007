package service

// GUIDs are case-insensitive: 0A1B… and 0a1b… name the same app. The
// catalog keys its maps by folded ids, so a lookup by id, DoFileId or blob
// name matches whatever case the caller used, and two app folders whose
// ids differ only in case cannot both be served. Versions stay
// case-sensitive.

// doFilePrefix starts every DoFileId (see DoFileID).
const doFilePrefix = "intunewin-bin_"

// guidLen is the length of a GUID in its 8-4-4-4-12 form.
const guidLen = 36

// foldID is the catalog key of an app id.
func foldID(id string) string { return asciiLower(id, len(id)) }

// foldDoFile is the catalog key of a DoFileId: the prefix and the GUID
// folded, the version kept as it is.
func foldDoFile(s string) string { return asciiLower(s, len(doFilePrefix)+guidLen) }

// foldBlob is the catalog key of a blob name: the GUID folded.
func foldBlob(s string) string { return asciiLower(s, guidLen) }

// asciiLower lower-cases the ASCII letters among the first n bytes of s.
func asciiLower(s string, n int) string {
	n = min(n, len(s))
	i := 0
	for i < n && !('A' <= s[i] && s[i] <= 'Z') {
		i++
	}
	if i == n {
		return s
	}
	b := []byte(s)
	for ; i < n; i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
