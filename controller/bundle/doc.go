// Package bundle owns the signed export bundle: its layout, the site's
// Ed25519 key, the writer, and the offline verifier that `pintuctl
// verify-bundle` runs without pintud.
//
// A bundle is a zip archive (readable on any desktop, and written as a
// stream, so a large log is never held in memory or spooled to disk) of:
//
//	events.jsonl           the audit events, one JSON object a line
//	events.csv, visits/…   the papers for people (written by package report)
//	SHA256SUMS             every file's SHA-256, for `sha256sum -c`
//	SHA256SUMS.minisig     its signature
//	manifest.json          site, time range, seq range, the hash before the
//	                       first event, the last event's hash, every file's
//	                       size and SHA-256
//	manifest.json.minisig  its signature
//
// Each line of events.jsonl is exactly the JSON whose SHA-256, after the
// previous line's hash, is the event's hash: drop the line's "hash" member
// (the last one) to get the bytes that were hashed.
//
// # Signatures
//
// Signatures are in minisign's format, so Debian's `minisign` checks them
// with the site's public key (`pintuctl site key`). They are written here
// with the standard library's ed25519 rather than a minisign library:
// github.com/jedisct1/go-minisign verifies but cannot make keys or
// signatures, and the format is four lines (minisign's SIGNATURE.md). The
// signatures are the legacy, not prehashed, kind, which minisign verifies by
// default; the signed files are small. The key id is the first 8 bytes of
// the public key's SHA-256, so it needs no storage. The private key is
// kept as PKCS #8 PEM, mode 0600, in pintud's state directory.
//
// # Caveats
//
// A bundle proves that its events follow each other and hang on the log at
// first_prev; it cannot show events the log dropped before the bundle was
// made. Compare last_hash with a later bundle's chain for that.
package bundle
