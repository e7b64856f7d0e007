package service

import (
	"github.com/imepipe/imepipe/decrypt"
	"github.com/imepipe/imepipe/imeapi"
)

// decryptInfoOf takes a package's key material from its Detection.xml.
func decryptInfoOf(e decrypt.EncryptionInfo) imeapi.DecryptInfo {
	return imeapi.DecryptInfo{
		EncryptionKey:       e.EncryptionKey,
		MacKey:              e.MacKey,
		IV:                  e.InitializationVector,
		Mac:                 e.Mac,
		ProfileIdentifier:   e.ProfileIdentifier,
		FileDigest:          e.FileDigest,
		FileDigestAlgorithm: e.FileDigestAlgorithm,
	}
}
