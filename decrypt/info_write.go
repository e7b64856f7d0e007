package decrypt

import (
	"bytes"
	"encoding/xml"
	"strconv"
)

// Marshal writes Detection.xml the way Microsoft's tool does: no XML
// declaration, both xmlns attributes and ToolVersion on the root, two-space
// indent, CRLF line ends, MsiInfo only for MSI setups.
func (info *Info) Marshal() []byte {
	var b bytes.Buffer
	tv := info.ToolVersion
	if tv == "" {
		tv = ToolVersion
	}
	b.WriteString(`<ApplicationInfo xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ToolVersion="`)
	escape(&b, tv)
	b.WriteString("\">\r\n")
	elem(&b, 1, "Name", info.Name)
	elem(&b, 1, "UnencryptedContentSize", strconv.FormatInt(info.UnencryptedContentSize, 10))
	elem(&b, 1, "FileName", info.FileName)
	elem(&b, 1, "SetupFile", info.SetupFile)
	e := info.Encryption
	b.WriteString("  <EncryptionInfo>\r\n")
	elem(&b, 2, "EncryptionKey", e.EncryptionKey)
	elem(&b, 2, "MacKey", e.MacKey)
	elem(&b, 2, "InitializationVector", e.InitializationVector)
	elem(&b, 2, "Mac", e.Mac)
	elem(&b, 2, "ProfileIdentifier", e.ProfileIdentifier)
	elem(&b, 2, "FileDigest", e.FileDigest)
	elem(&b, 2, "FileDigestAlgorithm", e.FileDigestAlgorithm)
	b.WriteString("  </EncryptionInfo>\r\n")
	if m := info.Msi; m != nil {
		b.WriteString("  <MsiInfo>\r\n")
		elem(&b, 2, "MsiProductCode", m.MsiProductCode)
		elem(&b, 2, "MsiProductVersion", m.MsiProductVersion)
		elem(&b, 2, "MsiPackageCode", m.MsiPackageCode)
		elem(&b, 2, "MsiUpgradeCode", m.MsiUpgradeCode)
		elem(&b, 2, "MsiExecutionContext", m.MsiExecutionContext)
		elem(&b, 2, "MsiRequiresLogon", boolText(m.MsiRequiresLogon))
		elem(&b, 2, "MsiRequiresReboot", boolText(m.MsiRequiresReboot))
		elem(&b, 2, "MsiIsMachineInstall", boolText(m.MsiIsMachineInstall))
		elem(&b, 2, "MsiIsUserInstall", boolText(m.MsiIsUserInstall))
		elem(&b, 2, "MsiIncludesServices", boolText(m.MsiIncludesServices))
		elem(&b, 2, "MsiIncludesODBCDataSource", boolText(m.MsiIncludesODBCDataSource))
		elem(&b, 2, "MsiContainsSystemRegistryKeys", boolText(m.MsiContainsSystemRegistryKeys))
		elem(&b, 2, "MsiContainsSystemFolders", boolText(m.MsiContainsSystemFolders))
		elem(&b, 2, "MsiPublisher", m.MsiPublisher)
		b.WriteString("  </MsiInfo>\r\n")
	}
	b.WriteString("</ApplicationInfo>")
	return b.Bytes()
}

func elem(b *bytes.Buffer, depth int, name, value string) {
	for range depth {
		b.WriteString("  ")
	}
	b.WriteString("<" + name + ">")
	escape(b, value)
	b.WriteString("</" + name + ">\r\n")
}

func escape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer never fails
}

func boolText(v bool) string {
	if v {
		return "true"
	}
	return "false"
}
