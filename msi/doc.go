// Package msi reads what a Windows Installer package (.msi) says about
// itself: the product name, product, package and upgrade codes, version,
// manufacturer, install context and the few facts Microsoft's
// IntuneWinAppUtil records in Detection.xml's MsiInfo (ReadInfo).
//
// Underneath it reads the OLE Compound File Binary format ([MS-CFB]:
// header, FAT and DIFAT chains, mini stream and mini FAT, directory),
// decodes MSI stream names, loads the string pool (_StringPool and
// _StringData, short and long string references, strings over 64 KiB),
// reads tables through _Tables and _Columns, and parses the
// SummaryInformation property set.
//
// Every read goes through io.ReaderAt and is bounded: chains that loop,
// sectors past the end of the file, directory cycles and declared sizes
// larger than the file or than a sane limit give an error wrapping
// ErrFormat, never a hang or a huge allocation. Only metadata streams
// (tables, string pool, summary) are read, each capped at maxStream bytes;
// embedded cabinets and binaries are never read, so memory does not grow
// with the size of the package.
//
// It does not write or modify MSI files, apply transforms or patches,
// evaluate conditions, formatted strings or custom actions, read
// sub-storages, or verify digital signatures. Strings are decoded from the
// database's code page: UTF-8, the Windows ANSI, OEM and ISO code pages
// and the East Asian double-byte ones (932, 936, 949, 950, 54936) through
// golang.org/x/text; in a code page not in that list (EBCDIC, say) only
// ASCII is kept and other bytes turn into U+FFFD.
package msi
