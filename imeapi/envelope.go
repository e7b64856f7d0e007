package imeapi

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// EnvelopeAlg names the only sealing scheme.
const EnvelopeAlg = "X25519-HKDF-SHA256-A256GCM"

const envelopeInfo = "imepipe decryptinfo v1"

// envelopeKey derives the AES-256 key from the shared secret, binding both public keys.
func envelopeKey(shared, ephPub, devPub []byte) ([]byte, error) {
	salt := make([]byte, 0, len(ephPub)+len(devPub))
	salt = append(append(salt, ephPub...), devPub...)
	return hkdf.Key(sha256.New, shared, salt, envelopeInfo, 32)
}

// SealDecryptInfo encrypts d to the device's public key, with the device id
// as associated data, so that an envelope copied to another device does
// not open there.
func SealDecryptInfo(dev *ecdh.PublicKey, deviceID string, d DecryptInfo) (Envelope, error) {
	eph, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return Envelope{}, fmt.Errorf("imeapi: seal decrypt info: %w", err)
	}
	shared, err := eph.ECDH(dev)
	if err != nil {
		return Envelope{}, fmt.Errorf("imeapi: seal decrypt info: %w", err)
	}
	key, err := envelopeKey(shared, eph.PublicKey().Bytes(), dev.Bytes())
	if err != nil {
		return Envelope{}, fmt.Errorf("imeapi: seal decrypt info: %w", err)
	}
	aead, err := newGCM(key)
	if err != nil {
		return Envelope{}, err
	}
	plain, err := json.Marshal(d)
	if err != nil {
		return Envelope{}, fmt.Errorf("imeapi: seal decrypt info: %w", err)
	}
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	ct := aead.Seal(nil, nonce, plain, []byte(deviceID))
	clear(plain)
	return Envelope{
		Alg:        EnvelopeAlg,
		Ephemeral:  b64(eph.PublicKey().Bytes()),
		Nonce:      b64(nonce),
		Ciphertext: b64(ct),
	}, nil
}

// OpenDecryptInfo opens a DecryptInfo sealed to the device key priv for
// the device deviceID. Any tampering, another device's key or another
// device id gives ErrEnvelope.
func OpenDecryptInfo(priv *ecdh.PrivateKey, deviceID string, env Envelope) (DecryptInfo, error) {
	var d DecryptInfo
	if env.Alg != EnvelopeAlg {
		return d, fmt.Errorf("%w: alg %q, want %s", ErrEnvelope, env.Alg, EnvelopeAlg)
	}
	epk, err1 := base64.StdEncoding.DecodeString(env.Ephemeral)
	nonce, err2 := base64.StdEncoding.DecodeString(env.Nonce)
	ct, err3 := base64.StdEncoding.DecodeString(env.Ciphertext)
	if err1 != nil || err2 != nil || err3 != nil {
		return d, fmt.Errorf("%w: not base64", ErrEnvelope)
	}
	eph, err := ecdh.X25519().NewPublicKey(epk)
	if err != nil {
		return d, fmt.Errorf("%w: %w", ErrEnvelope, err)
	}
	shared, err := priv.ECDH(eph)
	if err != nil {
		return d, fmt.Errorf("%w: %w", ErrEnvelope, err)
	}
	key, err := envelopeKey(shared, epk, priv.PublicKey().Bytes())
	if err != nil {
		return d, fmt.Errorf("%w: %w", ErrEnvelope, err)
	}
	aead, err := newGCM(key)
	if err != nil {
		return d, err
	}
	if len(nonce) != aead.NonceSize() {
		return d, fmt.Errorf("%w: nonce is %d bytes", ErrEnvelope, len(nonce))
	}
	plain, err := aead.Open(nil, nonce, ct, []byte(deviceID))
	if err != nil {
		return d, fmt.Errorf("%w: authentication failed", ErrEnvelope)
	}
	defer clear(plain)
	if err := json.Unmarshal(plain, &d); err != nil {
		return d, fmt.Errorf("%w: %w", ErrEnvelope, err)
	}
	return d, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("imeapi: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("imeapi: %w", err)
	}
	return aead, nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// String redacts the key material, so that printing a DecryptInfo by
// mistake leaks nothing.
func (d DecryptInfo) String() string { return "DecryptInfo{redacted}" }

// GoString redacts as String does, for %#v.
func (d DecryptInfo) GoString() string { return d.String() }
