package msi

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// codePages maps the Windows code page numbers an MSI database declares
// to their decoders (golang.org/x/text): the ANSI code pages of every
// Windows language, their OEM and ISO siblings in use for setups, and the
// East Asian double-byte ones.
var codePages = map[int]encoding.Encoding{
	437: charmap.CodePage437, 850: charmap.CodePage850, 852: charmap.CodePage852,
	855: charmap.CodePage855, 858: charmap.CodePage858, 866: charmap.CodePage866,
	874: charmap.Windows874,
	932: japanese.ShiftJIS, 936: simplifiedchinese.GBK, 949: korean.EUCKR, 950: traditionalchinese.Big5,
	1250: charmap.Windows1250, 1251: charmap.Windows1251, 1252: charmap.Windows1252,
	1253: charmap.Windows1253, 1254: charmap.Windows1254, 1255: charmap.Windows1255,
	1256: charmap.Windows1256, 1257: charmap.Windows1257, 1258: charmap.Windows1258,
	10000: charmap.Macintosh, 20866: charmap.KOI8R, 21866: charmap.KOI8U,
	28591: charmap.ISO8859_1, 28592: charmap.ISO8859_2, 28593: charmap.ISO8859_3,
	28594: charmap.ISO8859_4, 28595: charmap.ISO8859_5, 28596: charmap.ISO8859_6,
	28597: charmap.ISO8859_7, 28598: charmap.ISO8859_8, 28599: charmap.ISO8859_9,
	28603: charmap.ISO8859_13, 28605: charmap.ISO8859_15,
	54936: simplifiedchinese.GB18030,
}

// decodeText turns a string stored in code page cp into UTF-8. ASCII is
// kept as is; UTF-8 (65001) is checked; the code pages of codePages are
// decoded, the neutral code page 0 as 1252 (the ANSI code page of the
// Windows systems the tool usually runs on, a guess); in any other code
// page non-ASCII bytes become U+FFFD. Bytes a code page does not define
// become U+FFFD too.
func decodeText(b []byte, cp int) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	if cp == 65001 {
		if utf8.Valid(b) {
			return string(b)
		}
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	if cp == 0 {
		cp = 1252
	}
	if enc, ok := codePages[cp]; ok {
		if s, err := enc.NewDecoder().Bytes(b); err == nil {
			return strings.ToValidUTF8(string(s), "\uFFFD")
		}
	}
	var s strings.Builder
	for _, c := range b {
		if c < 0x80 {
			s.WriteByte(c)
		} else {
			s.WriteRune(utf8.RuneError)
		}
	}
	return s.String()
}
