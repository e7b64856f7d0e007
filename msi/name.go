package msi

import (
	"strings"
	"unicode/utf16"
)

// MSI packs stream names into UTF-16 code points so that they fit the
// compound file's 31-character limit: each unit in 0x3800-0x47FF holds two
// characters of the 64-letter alphabet below (low six bits first), each
// unit in 0x4800-0x483F holds one, and 0x4840 prefixes the streams that
// hold tables. Other units stand for themselves.
const (
	nameAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._"
	namePair     = 0x3800
	nameSingle   = 0x4800
	nameTable    = 0x4840
)

// streamName is a decoded stream name; table marks a table stream.
type streamName struct {
	name  string
	table bool
}

// decodeName decodes a directory entry name.
func decodeName(units []uint16) streamName {
	var b strings.Builder
	var out streamName
	var plain []uint16
	flush := func() {
		if len(plain) > 0 {
			b.WriteString(string(utf16.Decode(plain)))
			plain = plain[:0]
		}
	}
	for i, u := range units {
		switch {
		case u == nameTable && i == 0:
			out.table = true
		case u >= namePair && u < nameSingle:
			flush()
			v := u - namePair
			b.WriteByte(nameAlphabet[v&0x3F])
			b.WriteByte(nameAlphabet[(v>>6)&0x3F])
		case u >= nameSingle && u < nameTable:
			flush()
			b.WriteByte(nameAlphabet[u-nameSingle])
		default:
			plain = append(plain, u)
		}
	}
	flush()
	out.name = b.String()
	return out
}
