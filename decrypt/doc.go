// Package decrypt is the .intunewin envelope, both ways.
//
// It reads and writes Detection.xml (Info), opens the outer ZIP of a
// package (Package), verifies and decrypts the inner encrypted file in one
// streaming pass (Open: HMAC-SHA256 over IV‖ciphertext, AES-256-CBC with
// PKCS#7, SHA-256 FileDigest of the plaintext, all compared in constant
// time), and seals a plaintext for pack (Sealer). Unpack and Pack compose
// these with package stage, which owns the inner ZIP.
//
// The inner encrypted file is HMAC (32 bytes) ‖ IV (16) ‖ ciphertext; the
// HMAC is keyed with MacKey and covers IV‖ciphertext. A caller that has
// checked every byte against hashes it trusts (a download's DO piece
// hashes) may stand that check in for the HMAC pass (OpenOptions); the
// FileDigest is compared either way. A source that can lend its own
// buffers (Lender: a download in progress) feeds the pipeline without a
// copy. Plaintext that Open writes is not trustworthy until Open returns
// nil: callers write it to a staging file and discard it on error.
//
// The package knows nothing of the network, and holds no file in memory:
// every path streams through bounded buffers.
package decrypt
