package main

import (
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/imepipe/imepipe/fetch"
	"github.com/imepipe/imepipe/imeapi"
	"github.com/imepipe/imepipe/peer"
)

// cacheSummary is what `do status` prints after the records: the DO
// cache policy in force, with DO's policy names (DOMaxCacheAge in
// seconds, DOMaxCacheSize in percent, DOAbsoluteMaxCacheSize in bytes),
// and the cache's figures with Get-DeliveryOptimizationPerfSnap's names
// where it has one (CacheSizeBytes, TotalDiskBytes).
type cacheSummary struct {
	DOMaxCacheAge          int64
	DOMaxCacheSize         int
	DOAbsoluteMaxCacheSize int64
	MaxCacheSizeBytes      int64
	CacheSizeBytes         int64
	TotalDiskBytes         int64
	Files                  int
	PinnedFiles            int
}

func summarize(p peer.CachePolicy, recs []fetch.Status) cacheSummary {
	s := cacheSummary{DOMaxCacheAge: p.DOMaxCacheAge, DOMaxCacheSize: p.DOMaxCacheSize, DOAbsoluteMaxCacheSize: p.DOAbsoluteMaxCacheSize,
		MaxCacheSizeBytes: p.MaxCacheSizeBytes, TotalDiskBytes: p.TotalDiskBytes, Files: len(recs)}
	for _, r := range recs {
		s.CacheSizeBytes += r.FileSizeInCache
		if r.IsPinned {
			s.PinnedFiles++
		}
	}
	return s
}

// psValue is v as Windows PowerShell prints a property value: numbers in
// decimal (a double with 15 significant digits, as .NET Framework's
// ToString), booleans True/False, DownloadMode as its number, and types
// with a String method (TimeSpan, DateTime, DOStatus) through it.
func psValue(v reflect.Value) (s string, numeric bool) {
	switch x := v.Interface().(type) {
	case imeapi.DownloadMode:
		return strconv.Itoa(int(x)), true
	case fmt.Stringer:
		return x.String(), false
	case bool:
		if x {
			return "True", false
		}
		return "False", false
	case float64:
		return strconv.FormatFloat(x, 'G', 15, 64), true
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return strconv.FormatInt(v.Int(), 10), true
	}
	return fmt.Sprint(v.Interface()), false
}

// formatList prints the records (a slice of structs) as PowerShell's
// Format-List does: a blank line, then per record "Name : value" lines
// with the names padded to the longest, and a blank line after each.
func formatList[T any](w io.Writer, recs []T) error {
	t := reflect.TypeFor[T]()
	width := 0
	for i := range t.NumField() {
		width = max(width, len(t.Field(i).Name))
	}
	var b strings.Builder
	for _, r := range recs {
		b.WriteByte('\n')
		v := reflect.ValueOf(r)
		for i := range t.NumField() {
			val, _ := psValue(v.Field(i))
			fmt.Fprintf(&b, "%-*s : %s\n", width, t.Field(i).Name, val)
		}
	}
	if len(recs) > 0 {
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// tableColumns are the columns of `do status --table`. Windows defines
// no table view for Get-DeliveryOptimizationStatus (its default output is
// a list), so this choice is ours: what tells a file's state and where
// its bytes came from and went.
var tableColumns = []string{"FileId", "FileSize", "Status", "DownloadMode", "Priority", "PercentPeerCaching",
	"BytesFromHttp", "BytesFromPeers", "BytesToLanPeers", "BytesToGroupPeers", "BytesToInternetPeers", "ExpireOn", "IsPinned"}

// formatTable prints recs as PowerShell's Format-Table does: a blank
// line, the column headers, a line of dashes as long as each header,
// one line per record, a blank line; columns are one space apart, each
// as wide as its widest cell, numbers (and their headers) right-aligned,
// the last column not padded.
func formatTable(w io.Writer, recs []fetch.Status) error {
	if len(recs) == 0 {
		return nil
	}
	n := len(tableColumns)
	cells := make([][]string, len(recs))
	width := make([]int, n)
	right := make([]bool, n)
	for j, c := range tableColumns {
		width[j] = len(c)
	}
	for i, r := range recs {
		v := reflect.ValueOf(r)
		cells[i] = make([]string, n)
		for j, c := range tableColumns {
			s, num := psValue(v.FieldByName(c))
			cells[i][j], right[j] = s, num
			width[j] = max(width[j], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	line := func(row []string) {
		var l strings.Builder
		for j, s := range row {
			if j > 0 {
				l.WriteByte(' ')
			}
			pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(s))
			if right[j] {
				l.WriteString(pad + s)
			} else {
				l.WriteString(s + pad)
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " ") + "\n")
	}
	b.WriteByte('\n')
	line(tableColumns)
	dashes := make([]string, n)
	for j, c := range tableColumns {
		dashes[j] = strings.Repeat("-", len(c))
	}
	line(dashes)
	for _, row := range cells {
		line(row)
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}
