package decrypt

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ProfileVersion1 and DigestSHA256 are the only profile and digest
// algorithm Microsoft's tool writes.
const (
	ProfileVersion1 = "ProfileVersion1"
	DigestSHA256    = "SHA256"
	// InnerFileName is the FileName of the encrypted inner file.
	InnerFileName = "IntunePackage.intunewin"
	// ToolVersion is the version imepipe writes; Intune reads packages
	// from tool versions 1.4 onwards.
	ToolVersion = "1.8.6.0"
)

// ErrInfo reports a Detection.xml that cannot be used.
var ErrInfo = errors.New("detection.xml invalid")

// Info is Detection.xml: what Microsoft's packaging tool records about a
// package. Keys are kept as their base64 text; Keys() decodes them.
type Info struct {
	ToolVersion            string
	Name                   string
	UnencryptedContentSize int64
	FileName               string
	SetupFile              string
	Encryption             EncryptionInfo
	Msi                    *MsiInfo // nil unless the setup file is an MSI
}

// EncryptionInfo is Detection.xml's EncryptionInfo element, base64 as written.
type EncryptionInfo struct {
	EncryptionKey        string
	MacKey               string
	InitializationVector string
	Mac                  string
	ProfileIdentifier    string
	FileDigest           string
	FileDigestAlgorithm  string
}

// MsiInfo is Detection.xml's MsiInfo element, values as written.
type MsiInfo struct {
	MsiProductCode                string
	MsiProductVersion             string
	MsiPackageCode                string
	MsiUpgradeCode                string
	MsiExecutionContext           string
	MsiRequiresLogon              bool
	MsiRequiresReboot             bool
	MsiIsMachineInstall           bool
	MsiIsUserInstall              bool
	MsiIncludesServices           bool
	MsiIncludesODBCDataSource     bool
	MsiContainsSystemRegistryKeys bool
	MsiContainsSystemFolders      bool
	MsiPublisher                  string
}

// xmlInfo mirrors the document for encoding/xml; unknown elements are ignored.
type xmlInfo struct {
	XMLName                xml.Name        `xml:"ApplicationInfo"`
	ToolVersion            string          `xml:"ToolVersion,attr"`
	Name                   string          `xml:"Name"`
	UnencryptedContentSize string          `xml:"UnencryptedContentSize"`
	FileName               string          `xml:"FileName"`
	SetupFile              string          `xml:"SetupFile"`
	Encryption             *EncryptionInfo `xml:"EncryptionInfo"`
	Msi                    *xmlMsi         `xml:"MsiInfo"`
}

type xmlMsi struct {
	MsiProductCode                string
	MsiProductVersion             string
	MsiPackageCode                string
	MsiUpgradeCode                string
	MsiExecutionContext           string
	MsiRequiresLogon              string
	MsiRequiresReboot             string
	MsiIsMachineInstall           string
	MsiIsUserInstall              string
	MsiIncludesServices           string
	MsiIncludesODBCDataSource     string
	MsiContainsSystemRegistryKeys string
	MsiContainsSystemFolders      string
	MsiPublisher                  string
}

// maxInfoSize bounds how much of a Detection.xml is read.
const maxInfoSize = 1 << 20

// ParseInfo reads a Detection.xml. It tolerates a byte-order mark, LF or
// CRLF, an XML declaration, surrounding whitespace and unknown elements
// (older and third-party tools), and requires what decryption needs:
// EncryptionInfo with a key, IV, MAC key, MAC and digest.
func ParseInfo(r io.Reader) (*Info, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxInfoSize+1))
	if err != nil {
		return nil, fmt.Errorf("decrypt: read detection.xml: %w", err)
	}
	if len(data) > maxInfoSize {
		return nil, fmt.Errorf("decrypt: %w: larger than %d bytes", ErrInfo, maxInfoSize)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var x xmlInfo
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		return nil, fmt.Errorf("decrypt: %w: %w", ErrInfo, err)
	}
	if x.Encryption == nil {
		return nil, fmt.Errorf("decrypt: %w: no EncryptionInfo element", ErrInfo)
	}
	info := &Info{
		ToolVersion: strings.TrimSpace(x.ToolVersion),
		Name:        strings.TrimSpace(x.Name),
		FileName:    strings.TrimSpace(x.FileName),
		SetupFile:   strings.TrimSpace(x.SetupFile),
		Encryption:  trimEncryption(*x.Encryption),
	}
	if s := strings.TrimSpace(x.UnencryptedContentSize); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("decrypt: %w: UnencryptedContentSize %q is not a size", ErrInfo, s)
		}
		info.UnencryptedContentSize = n
	}
	if x.Msi != nil {
		m, err := x.Msi.parse()
		if err != nil {
			return nil, err
		}
		info.Msi = m
	}
	if _, err := info.Keys(); err != nil {
		return nil, err
	}
	return info, nil
}

func trimEncryption(e EncryptionInfo) EncryptionInfo {
	for _, p := range []*string{&e.EncryptionKey, &e.MacKey, &e.InitializationVector, &e.Mac,
		&e.ProfileIdentifier, &e.FileDigest, &e.FileDigestAlgorithm} {
		*p = strings.TrimSpace(*p)
	}
	return e
}

func (m *xmlMsi) parse() (*MsiInfo, error) {
	out := &MsiInfo{
		MsiProductCode:      strings.TrimSpace(m.MsiProductCode),
		MsiProductVersion:   strings.TrimSpace(m.MsiProductVersion),
		MsiPackageCode:      strings.TrimSpace(m.MsiPackageCode),
		MsiUpgradeCode:      strings.TrimSpace(m.MsiUpgradeCode),
		MsiExecutionContext: strings.TrimSpace(m.MsiExecutionContext),
		MsiPublisher:        strings.TrimSpace(m.MsiPublisher),
	}
	bools := []struct {
		name string
		in   string
		out  *bool
	}{
		{"MsiRequiresLogon", m.MsiRequiresLogon, &out.MsiRequiresLogon},
		{"MsiRequiresReboot", m.MsiRequiresReboot, &out.MsiRequiresReboot},
		{"MsiIsMachineInstall", m.MsiIsMachineInstall, &out.MsiIsMachineInstall},
		{"MsiIsUserInstall", m.MsiIsUserInstall, &out.MsiIsUserInstall},
		{"MsiIncludesServices", m.MsiIncludesServices, &out.MsiIncludesServices},
		{"MsiIncludesODBCDataSource", m.MsiIncludesODBCDataSource, &out.MsiIncludesODBCDataSource},
		{"MsiContainsSystemRegistryKeys", m.MsiContainsSystemRegistryKeys, &out.MsiContainsSystemRegistryKeys},
		{"MsiContainsSystemFolders", m.MsiContainsSystemFolders, &out.MsiContainsSystemFolders},
	}
	for _, b := range bools {
		s := strings.TrimSpace(b.in)
		if s == "" {
			continue
		}
		v, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("decrypt: %w: MsiInfo %s %q is not true or false", ErrInfo, b.name, s)
		}
		*b.out = v
	}
	return out, nil
}
