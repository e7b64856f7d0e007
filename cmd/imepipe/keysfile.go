package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/imepipe/imepipe/decrypt"
)

// maxKeysFile bounds what --keys-file reads: inspect's document is ~1 KB.
const maxKeysFile = 1 << 20

// keysDoc is the part of `inspect --json --show-keys` that unpack's raw
// mode needs; the document's other fields are ignored.
type keysDoc struct {
	EncryptionKey        string `json:"encryptionKey"`
	InitializationVector string `json:"initializationVector"`
	MacKey               string `json:"macKey"`
	Mac                  string `json:"mac"`
	FileDigest           string `json:"fileDigest"`
	KeysShown            *bool  `json:"keysShown"`
	EncryptedSize        *int64 `json:"encryptedSize"`
	Name                 string `json:"name"`
	SetupFile            string `json:"setupFile"`
	ToolVersion          string `json:"toolVersion"`
}

// fileKeys are the keys of a keys file and the size of the encrypted
// content they are for (its encryptedSize), so that a cut-off .bin is
// called truncated before any work rather than failing its HMAC.
type fileKeys struct {
	decrypt.Keys
	CipherSize int64 // -1: the document gives none
	// Name, SetupFile and ToolVersion are the package's Detection.xml
	// fields as inspect printed them beside the keys ("" when absent):
	// unpack --json of the raw .bin reports them, as of the package.
	Name, SetupFile, ToolVersion string
}

// readKeysFile reads the keys of --keys-file name ("-": stdin), so that
// they never appear on a command line.
func readKeysFile(name string, stdin io.Reader) (fileKeys, error) {
	var (
		data []byte
		err  error
	)
	if name == "-" {
		if stdin == nil {
			return fileKeys{}, errors.New("keys file -: no standard input")
		}
		data, err = io.ReadAll(io.LimitReader(stdin, maxKeysFile+1))
		name = "on standard input"
	} else {
		var f *os.File
		if f, err = os.Open(name); err == nil {
			data, err = io.ReadAll(io.LimitReader(f, maxKeysFile+1))
			f.Close()
		}
		name = "file " + name
	}
	defer clear(data)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		// The name is already in the line: only why it failed.
		return fileKeys{}, &reasonErr{msg: fmt.Sprintf("keys %s: %s", name, pathReason(pe.Err)), err: err}
	}
	if err != nil {
		return fileKeys{}, fmt.Errorf("keys %s: %w", name, err)
	}
	if len(data) > maxKeysFile {
		return fileKeys{}, fmt.Errorf("keys %s: over %d bytes; want the JSON of inspect --json --show-keys", name, maxKeysFile)
	}
	k, err := parseKeys(data)
	if err != nil {
		return k, fmt.Errorf("keys %s: %w", name, err)
	}
	return k, nil
}

// parseKeys decodes the JSON of inspect --json --show-keys: one object
// with encryptionKey, initializationVector, macKey and mac (all needed:
// a keys file always verifies the HMAC) and, optionally, fileDigest and
// encryptedSize.
func parseKeys(data []byte) (fileKeys, error) {
	k := fileKeys{Keys: decrypt.Keys{Size: -1}, CipherSize: -1}
	var doc keysDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return k, fmt.Errorf("not the JSON of inspect --json --show-keys: %w", err)
	}
	if dec.More() {
		return k, errors.New("not the JSON of inspect --json --show-keys: more than one document")
	}
	if doc.KeysShown != nil && !*doc.KeysShown && doc.EncryptionKey == "" {
		return k, errors.New("no keys in it (write it with inspect --json --show-keys)")
	}
	fields := []struct {
		name string
		b64  string
		size int
		dst  *[]byte
	}{
		{"encryptionKey", doc.EncryptionKey, decrypt.KeySize, &k.EncryptionKey},
		{"initializationVector", doc.InitializationVector, decrypt.IVSize, &k.IV},
		{"macKey", doc.MacKey, decrypt.KeySize, &k.MacKey},
		{"mac", doc.Mac, decrypt.MacSize, &k.Mac},
	}
	for _, f := range fields {
		if f.b64 == "" {
			return k, fmt.Errorf("no %s", f.name)
		}
		b, err := decrypt.DecodeKey(f.name, f.b64, f.size)
		if err != nil {
			return k, err
		}
		*f.dst = b
	}
	if n := doc.EncryptedSize; n != nil {
		if *n <= 0 {
			return k, fmt.Errorf("encryptedSize %d is not a size", *n)
		}
		k.CipherSize = *n
	}
	if doc.FileDigest != "" {
		b, err := decrypt.DecodeKey("fileDigest", doc.FileDigest, decrypt.DigestSize)
		if err != nil {
			return k, err
		}
		k.FileDigest = b
	}
	k.Name, k.SetupFile, k.ToolVersion = doc.Name, doc.SetupFile, doc.ToolVersion
	return k, nil
}
