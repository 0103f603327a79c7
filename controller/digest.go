package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// This file is what ties records to the hash chain: every change to a
// person, card, visit or key is an event that carries the record's new
// content digest (a RecordRef), and the stored record carries the seq of
// that event. A record read for a decision is checked against its event
// (records.go); verify checks them all (integrity.go).

// RecordKind names a kind of record covered by the chain.
type RecordKind string

// The record kinds the domain writes. An adapter may seal records of its
// own kinds the same way (see SealedRecord).
const (
	RecordPerson RecordKind = "person"
	RecordCard   RecordKind = "card"
	RecordVisit  RecordKind = "visit"
	RecordKey    RecordKind = "key"
)

// RecordRef is a record an event wrote and the digest of the record's
// content after it, in hex.
type RecordRef struct {
	Kind   RecordKind `json:"kind"`
	ID     string     `json:"id"`
	Digest string     `json:"digest"`
}

// SealedRecord is a stored record as the integrity check sees it: its kind
// and id, the seq of the event that wrote it, and the digest of what is
// stored now. The record is intact when that event names it with the same
// digest and no later event names it.
type SealedRecord struct {
	Kind   RecordKind
	ID     string
	Seq    uint64
	Digest string
}

// Digest returns the digest of content, a record of kind: the SHA-256 of
// "pintu-record", the kind, and content's JSON (the Seq field is not part
// of it). Like an event's canonical bytes, a record's JSON must not change
// for the records already sealed: a new field is omitempty (or omitzero).
func Digest(kind RecordKind, content any) string {
	var buf [256]byte
	var b []byte
	ok := false
	// People and cards are read for every decision that misses the cache:
	// their bytes are written without reflection (canon.go), the same bytes
	// encoding/json writes.
	switch x := content.(type) {
	case Person:
		b, ok = appendPersonJSON(buf[:0], &x)
	case Card:
		b, ok = appendCardJSON(buf[:0], &x)
	}
	if !ok {
		var err error
		if b, err = json.Marshal(content); err != nil {
			panic(fmt.Sprintf("controller: marshal %s record: %v", kind, err)) // plain data; cannot fail
		}
	}
	return DigestBytes(kind, b)
}

// DigestBytes returns the digest of a record of kind whose canonical bytes
// are b. An adapter whose records have no domain type (the console's
// credentials) seals their stored bytes with it.
func DigestBytes(kind RecordKind, b []byte) string {
	h := sha256.New()
	h.Write([]byte("pintu-record\x00"))
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write(b)
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// Sealed returns p as the integrity check sees it.
func (p Person) Sealed() SealedRecord {
	return SealedRecord{Kind: RecordPerson, ID: p.ID, Seq: p.Seq, Digest: Digest(RecordPerson, p)}
}

// Sealed returns c as the integrity check sees it.
func (c Card) Sealed() SealedRecord {
	return SealedRecord{Kind: RecordCard, ID: c.ID, Seq: c.Seq, Digest: Digest(RecordCard, c)}
}

// Sealed returns v as the integrity check sees it.
func (v Visit) Sealed() SealedRecord {
	return SealedRecord{Kind: RecordVisit, ID: v.ID, Seq: v.Seq, Digest: Digest(RecordVisit, v)}
}

// Sealed returns k as the integrity check sees it.
func (k Key) Sealed() SealedRecord {
	return SealedRecord{Kind: RecordKey, ID: k.ID, Seq: k.Seq, Digest: Digest(RecordKey, k)}
}

// Ref is the reference an event carries for r.
func (r SealedRecord) Ref() RecordRef { return RecordRef{Kind: r.Kind, ID: r.ID, Digest: r.Digest} }

// checkSeal checks a stored record against e, the event at its Seq (with
// Prev filled in): the event must be intact and name the record with the
// same digest. It returns nil or an *IntegrityError.
func checkSeal(r SealedRecord, e Event) error {
	fail := func(format string, args ...any) error {
		return &IntegrityError{Kind: r.Kind, ID: r.ID, Seq: r.Seq, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.Seq == 0:
		return fail("no event wrote it (the record is not sealed)")
	case e.Seq != r.Seq:
		return fail("its event #%d is missing", r.Seq)
	case e.ComputeHash() != e.Hash:
		return fail("its event #%d does not match its hash", r.Seq)
	}
	return checkRef(r, e)
}

// checkRef checks that e, the event at a stored record's seq, names the
// record with the digest of what is stored; not e's own hash.
func checkRef(r SealedRecord, e Event) error {
	fail := func(format string, args ...any) error {
		return &IntegrityError{Kind: r.Kind, ID: r.ID, Seq: r.Seq, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case r.Seq == 0:
		return fail("no event wrote it (the record is not sealed)")
	case e.Seq != r.Seq:
		return fail("its event #%d is missing", r.Seq)
	}
	for _, ref := range e.Records {
		if ref.Kind == r.Kind && ref.ID == r.ID {
			if ref.Digest != r.Digest {
				return fail("its content does not match the digest its event #%d recorded", r.Seq)
			}
			return nil
		}
	}
	return fail("its event #%d does not name it", r.Seq)
}

// IntegrityError is a record or an event that fails its integrity check,
// or a part of the log a store could not read. It wraps ErrIntegrity.
type IntegrityError struct {
	Kind   RecordKind // the record, for a record; empty for the log
	ID     string
	Seq    uint64 // the event concerned (for a record: the one it names)
	Reason string
	Err    error // the store's error, when a read failed
}

func (e *IntegrityError) Error() string {
	var s string
	if e.Kind != "" {
		s = fmt.Sprintf("%s %s: %s", e.Kind, e.ID, e.Reason)
	} else {
		s = fmt.Sprintf("seq %d: %s", e.Seq, e.Reason)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return "integrity failure: " + s
}

func (e *IntegrityError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrIntegrity, e.Err}
	}
	return []error{ErrIntegrity}
}

// sealer writes one record into a step with the seq of the event that
// carries it, and returns the record's reference for that event.
type sealer func(seq uint64) RecordRef

func (st *step) sealPerson(p Person) sealer {
	return func(seq uint64) RecordRef {
		p.Seq = seq
		st.people = put(st.people, p.ID, p)
		return p.Sealed().Ref()
	}
}

func (st *step) sealCard(c Card) sealer {
	return func(seq uint64) RecordRef {
		c.Seq = seq
		st.cards = put(st.cards, c.ID, c)
		return c.Sealed().Ref()
	}
}

func (st *step) sealVisit(v Visit) sealer {
	return func(seq uint64) RecordRef {
		v.Seq = seq
		st.visits = put(st.visits, v.ID, v)
		return v.Sealed().Ref()
	}
}

func (st *step) sealKey(k Key) sealer {
	return func(seq uint64) RecordRef {
		k.Seq = seq
		st.keys = put(st.keys, k.ID, k)
		return k.Sealed().Ref()
	}
}
