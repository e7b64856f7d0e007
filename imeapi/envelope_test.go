package imeapi

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestEnvelope(t *testing.T) {
	dev, _ := ecdh.X25519().GenerateKey(rand.Reader)
	other, _ := ecdh.X25519().GenerateKey(rand.Reader)
	want := DecryptInfo{EncryptionKey: "k", MacKey: "m", IV: "iv", Mac: "mac", FileDigest: "d", FileDigestAlgorithm: "SHA256", ProfileIdentifier: "ProfileVersion1"}
	env, err := SealDecryptInfo(dev.PublicKey(), "dev-1", want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenDecryptInfo(dev, "dev-1", env)
	if err != nil || got != want {
		t.Fatalf("open: %v, %v", got, err)
	}
	tamper := func(s string) string {
		b, _ := base64.StdEncoding.DecodeString(s)
		b[len(b)-1] ^= 1
		return base64.StdEncoding.EncodeToString(b)
	}
	cases := map[string]struct {
		key *ecdh.PrivateKey
		id  string
		env Envelope
	}{
		"other device key": {other, "dev-1", env},
		"other device id":  {dev, "dev-2", env},
		"tampered ct":      {dev, "dev-1", Envelope{env.Alg, env.Ephemeral, env.Nonce, tamper(env.Ciphertext)}},
		"tampered nonce":   {dev, "dev-1", Envelope{env.Alg, env.Ephemeral, tamper(env.Nonce), env.Ciphertext}},
		"tampered epk":     {dev, "dev-1", Envelope{env.Alg, tamper(env.Ephemeral), env.Nonce, env.Ciphertext}},
		"other alg":        {dev, "dev-1", Envelope{"none", env.Ephemeral, env.Nonce, env.Ciphertext}},
		"not base64":       {dev, "dev-1", Envelope{env.Alg, "!", env.Nonce, env.Ciphertext}},
	}
	for name, tc := range cases {
		if _, err := OpenDecryptInfo(tc.key, tc.id, tc.env); !errors.Is(err, ErrEnvelope) {
			t.Errorf("%s: %v, want ErrEnvelope", name, err)
		}
	}
	if s := want.String() + " " + want.GoString(); strings.Contains(s, "mac") || strings.Contains(s, "SHA256") {
		t.Fatalf("DecryptInfo prints its keys: %s", s)
	}
}
