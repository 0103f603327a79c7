// Package remote owns Pintu's signed remote commands: the command a
// coordinator sends over MQTT to unlock, lock, lock down or release a door,
// its wire form, the canonical bytes its Ed25519 signature covers, and the
// [Verifier] that decides whether a delivered command may be acted on.
//
// Like its parent package it is pure: standard library only, no I/O, and the
// time is always passed in. The MQTT link, the key table and the persistent
// replay cache are adapters' work.
//
// # Wire form
//
// A command travels as one JSON object of at most [MaxPayload] bytes of valid
// UTF-8:
//
//	{"cmd":{"id":"b7Gq2mX0pLr4sT9vW1yZ","door":"server-room","action":"unlock",
//	        "duration":"10s","visit":"v-2026-0042","reason":"vendor maintenance",
//	        "issued_at":"2026-01-05T02:30:00Z","expiry":"2026-01-05T02:30:05Z",
//	        "key_id":"ed25519:56475aa75463474c"},
//	 "sig":"<base64 Ed25519 signature>"}
//
// Parse is strict: member names are case-sensitive, each appears at most
// once, every member of "cmd" is a JSON string, unknown members and trailing
// data are refused. The members of "cmd":
//
//   - id: 16 to 64 characters from [A-Za-z0-9_-], unique per command.
//   - door: 1 to 64 characters from [A-Za-z0-9._-].
//   - action: unlock, lock, lockdown or release-lockdown.
//   - duration: unlock only, and then required: how long the strike is
//     released, a Go duration string ("5s", "1m30s", "250ms"), greater than
//     zero and at most [MaxUnlock]. [Sign] fills in [DefaultUnlock].
//   - visit: optional, up to 64 characters from [A-Za-z0-9._-].
//   - reason: required, 1 to [MaxReasonLen] Unicode code points, printable
//     (letters, marks, numbers, punctuation, symbols and the ASCII space), not
//     only spaces.
//   - issued_at, expiry: RFC 3339 times in UTC, exactly
//     YYYY-MM-DDTHH:MM:SS, optionally "." and 1 to 9 fractional digits, then
//     "Z" (no offsets, no leap second), between the years 2000 and 2199.
//     Expiry is after issued_at and at most [MaxLifetime] after it; [Sign]
//     fills in issued_at + [DefaultLifetime].
//   - key_id: the signer's key as [KeyID] names it: "ed25519:" and the first
//     16 lower-case hex digits of the SHA-256 of the 32-byte public key.
//
// "sig" is the 64-byte signature in standard base64 with padding (RFC 4648
// section 4).
//
// # Canonical bytes
//
// The signature is Ed25519 (RFC 8032, pure Ed25519, no context, no
// pre-hash) over the command's canonical bytes, never over its JSON, so a
// verifier does not depend on how the sender formatted, ordered or escaped
// the JSON. The canonical bytes are the ASCII line "pintu-cmd-v1" and a line
// feed (the version and domain separation), then nine fields in this fixed
// order, each written as
//
//	name SP length SP value LF
//
// where name is the field name below, SP is one space (0x20), LF one line
// feed (0x0A), length is the number of bytes of value in decimal without
// leading zeros ("0" when value is empty), and value is:
//
//	id            the id's bytes
//	door          the door's bytes
//	action        the action's bytes
//	duration_ns   the unlock duration in nanoseconds, decimal; "0" for other actions
//	visit         the visit's bytes; empty when there is none
//	reason        the reason's UTF-8 bytes, after JSON unescaping
//	issued_at_ns  issued_at in nanoseconds since 1970-01-01T00:00:00Z, decimal
//	expiry_ns     expiry in nanoseconds since 1970-01-01T00:00:00Z, decimal
//	key_id        the key id's bytes
//
// Decimal numbers have no sign and no leading zeros. The length prefix makes
// the encoding unambiguous whatever a value contains. For example, the
// canonical bytes of an unlock without a visit (shown with LF as line ends):
//
//	pintu-cmd-v1
//	id 20 b7Gq2mX0pLr4sT9vW1yZ
//	door 11 server-room
//	action 6 unlock
//	duration_ns 10 5000000000
//	visit 0
//	reason 18 vendor maintenance
//	issued_at_ns 19 1767580200000000000
//	expiry_ns 19 1767580205000000000
//	key_id 24 ed25519:56475aa75463474c
//
// (the visit line is "visit 0 " with one trailing space). The files under
// testdata/ hold canonical bytes (*.canonical) and signed payloads (*.json)
// made with a published test key, whose Ed25519 seed is the 32 bytes 0x00,
// 0x01, ... 0x1f, for checking another implementation against this one.
// OpenSSL 3 signs and verifies the same bytes with "openssl pkeyutl -sign
// -rawin -inkey key.pem -in cmd.canonical" (and "-verify -pubin").
//
// # Acceptance
//
// [Verifier.Check] answers with a [Verdict]; a refusal carries a [Reason]
// from a closed set. The checks run in this order, and the order is part of
// the contract:
//
//  1. malformed: the command is not valid (and, from a payload, too_large
//     and malformed come from [Parse]);
//  2. unknown_key: no key with that id;
//  3. bad_signature: the signature does not verify over the canonical bytes;
//  4. not_coordinator: the key's owner is not a coordinator;
//  5. clock_unsynced: the controller's clock is not trusted, so expiry cannot
//     be judged;
//  6. not_yet_valid: issued_at is more than the allowed skew in the future;
//  7. expired: now is at or after expiry. There is no grace: a command
//     delivered late, such as an MQTT QoS 1 redelivery after a reconnect, is
//     never executed;
//  8. replayed: the id was decided on before;
//  9. rate_limited: the key has used up its token bucket.
//
// Nothing an unauthenticated sender controls reaches the replay cache or a
// rate limiter: both are consulted only after the signature verified, the
// owner is a coordinator and the command is within its validity. An
// authentic, timely command is consumed by its first decision: its id is
// remembered before the rate limiter is charged, so a rate-limited command
// does not come back to life when tokens refill; the coordinator sends a new
// one.
//
// # Caveats
//
// The replay cache must survive a restart, or a command captured from the
// broker could be replayed into a freshly started daemon within its validity
// (at most [MaxLifetime]). [MemoryReplayCache] does not persist; the daemon
// seeds it on start from the remote_command audit events of the last
// MaxLifetime plus skew, or supplies a persistent [ReplayCache]. Remembering
// in memory before the audit event is committed is safe: a command whose
// event never committed was never executed.
//
// The MQTT topic a command arrives on is not signed; the adapter must check
// that the topic's door is the command's door. Nor is the site: a key trusted
// by several sites should sign for doors whose names differ between them.
//
// The in-memory cache forgets an id once its expiry plus the skew has passed
// on the controller's clock; a clock stepped backwards by more than that
// could accept a replay, which is one more reason remote commands are refused
// while the clock is not trusted.
package remote
