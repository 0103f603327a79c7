package boltstore

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pintu/pintu/controller"
)

// The binary encoding of events and records (schema 4). Each value starts
// with a format byte, so that a file part way through its migration, with
// JSON values (which start with '{') beside binary ones, reads right.
//
// An event is: the format byte; a uvarint of flags saying which optional
// fields follow; the hash (32 raw bytes when it is 64 lowercase hex
// digits, as every hash pintud writes is, else a string); the time (varint
// seconds and uvarint nanoseconds since 1970, UTC); the type, decision and
// reason as one byte each from the append-only tables below (0: a string
// follows); the strings present; the records it sealed; and the previous
// event's hash only when it is not the hash of the event stored before it
// (a log that was already broken when it was migrated). Prev is otherwise
// not stored: a reader in order knows it, and a single event's is the hash
// of seq-1, one more lookup (see Store.Event).
//
// Strings are a uvarint length and the bytes. Times keep their zone's
// offset (a visit window given in +07:00 stays so), because a record's
// digest is over its JSON, which shows the offset. Slices that may be nil
// store their length plus one, 0 meaning nil: JSON tells null from [].
// Everything round-trips exactly: TestEncodingRoundTrip and the fuzz
// targets hold it to that.

const (
	formatV1 = 1 // binary, schema 4
	formatJS = '{'
)

// Event flags.
const (
	evDoor = 1 << iota
	evReader
	evCard
	evPerson
	evVisit
	evActor
	evDetail
	evRecords
	evTrusted
	evPrev    // Prev stored: it is not the hash of the event before
	evRawHash // Hash is not 64 lowercase hex digits: stored as a string
	evVia
)

// The tables map the domain's closed sets to one byte. Append only: a
// byte's meaning never changes.
var (
	eventTypes = []controller.EventType{
		controller.EventStarted, controller.EventStopped, controller.EventAccess, controller.EventExit,
		controller.EventRex, controller.EventUnlock, controller.EventRelock, controller.EventDoorOpen,
		controller.EventDoorClose, controller.EventAlarmRaised, controller.EventAlarmCleared, controller.EventAlarmAcked,
		controller.EventPersonAdded, controller.EventPersonUpdated, controller.EventPersonOff, controller.EventPersonOn,
		controller.EventCardAssigned, controller.EventCardRevoked, controller.EventVisitStep, controller.EventLockdown,
		controller.EventLockdownClear, controller.EventRemoteCommand, controller.EventKeyAdded, controller.EventKeyRevoked,
		controller.EventPersonImported, controller.EventImportStarted, controller.EventImportFinished,
		controller.EventRecordSealed, controller.EventCheckpoint, controller.EventIntegrityBreak,
		controller.EventIntegrityAccepted, controller.EventLogInitialised, controller.EventAnchorRecreated,
		controller.EventLogRestored, controller.EventPersonLinked, controller.EventPasswordSet, controller.EventLogin,
		controller.EventLoginFailed, controller.EventLockout, controller.EventLogout, controller.EventRefused,
		controller.EventCommandsDropped,
	}
	decisions = []controller.Decision{controller.Granted, controller.Denied, controller.Pending}
	reasons   = []controller.Reason{
		controller.ReasonUnknownCard, controller.ReasonRevoked, controller.ReasonNotApproved, controller.ReasonOutsideWindow,
		controller.ReasonEscortRequired, controller.ReasonEscortNotAuthorized, controller.ReasonAlreadyInside, controller.ReasonLockdown,
		controller.ReasonClockUnsynced, controller.ReasonStorageFailure, controller.ReasonNoRoomAccess, controller.ReasonTwoPersonRequired,
		controller.ReasonWaitingForEscort, controller.ReasonWaitingForSecond, controller.ReasonIntegrityFailure,
		controller.ReasonRetained, controller.ReasonWrongDoor, controller.ReasonUnknownDoor, controller.ReasonUnknownVisit,
		controller.ReasonBadCode,
	}
	recordKinds = []controller.RecordKind{controller.RecordPerson, controller.RecordCard, controller.RecordVisit, controller.RecordKey}
	roleCodes   = []controller.Role{controller.RoleAdmin, controller.RoleCoordinator, controller.RoleHead, controller.RoleOfficer, controller.RoleVisitor}
)

// enc appends to a byte slice.
type enc struct{ b []byte }

func (e *enc) byte1(x byte)     { e.b = append(e.b, x) }
func (e *enc) uvarint(x uint64) { e.b = binary.AppendUvarint(e.b, x) }
func (e *enc) varint(x int64)   { e.b = binary.AppendVarint(e.b, x) }
func (e *enc) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *enc) bool(x bool) {
	if x {
		e.byte1(1)
	} else {
		e.byte1(0)
	}
}

// Time: a tag byte (0 zero, 1 UTC or another zone at offset 0, 2 with an
// offset), then seconds and nanoseconds, then the offset in seconds.
func (e *enc) time(t time.Time) {
	if t.IsZero() {
		e.byte1(0)
		return
	}
	_, off := t.Zone()
	if off == 0 {
		e.byte1(1)
	} else {
		e.byte1(2)
	}
	e.varint(t.Unix())
	e.uvarint(uint64(t.Nanosecond()))
	if off != 0 {
		e.varint(int64(off))
	}
}

// code writes x as its index in table plus one, or 0 and the string.
func code[T ~string](e *enc, table []T, x T) {
	if i := slices.Index(table, x); i >= 0 {
		e.byte1(byte(i + 1))
		return
	}
	e.byte1(0)
	e.str(string(x))
}

// hash writes a 64-hex-digit hash as 32 bytes; it reports false, writing
// nothing, for any other string.
func (e *enc) hash(h string) bool {
	if len(h) != 64 {
		return false
	}
	var raw [32]byte
	if _, err := hex.Decode(raw[:], []byte(h)); err != nil || hex.EncodeToString(raw[:]) != h {
		return false
	}
	e.b = append(e.b, raw[:]...)
	return true
}

// dec reads what enc wrote; the first problem sticks in err.
type dec struct {
	b   []byte
	err error
}

var errShort = errors.New("value ends early")

func (d *dec) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *dec) byte1() byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail(errShort)
		return 0
	}
	x := d.b[0]
	d.b = d.b[1:]
	return x
}

func (d *dec) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errors.New("bad uvarint"))
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *dec) varint() int64 {
	if d.err != nil {
		return 0
	}
	x, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errors.New("bad varint"))
		return 0
	}
	d.b = d.b[n:]
	return x
}

func (d *dec) raw(n uint64) []byte {
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail(errShort)
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *dec) str() string    { return string(d.raw(d.uvarint())) }
func (d *dec) bool() bool     { return d.byte1() != 0 }
func (d *dec) hash32() string { return hex.EncodeToString(d.raw(32)) }
func (d *dec) count() (int, bool) {
	n := d.uvarint()
	if n > uint64(len(d.b))+1 { // every element takes at least a byte
		d.fail(fmt.Errorf("count %d longer than the value", n))
		return 0, false
	}
	return int(n), true
}

func (d *dec) time() time.Time {
	switch tag := d.byte1(); tag {
	case 0:
		return time.Time{}
	case 1, 2:
		sec, nsec := d.varint(), d.uvarint()
		if nsec >= 1e9 {
			d.fail(fmt.Errorf("nanoseconds %d", nsec))
			return time.Time{}
		}
		t := time.Unix(sec, int64(nsec)).UTC()
		if tag == 2 {
			off := d.varint()
			if off == 0 || off < -24*3600 || off > 24*3600 {
				d.fail(fmt.Errorf("zone offset %d", off))
				return time.Time{}
			}
			t = t.In(time.FixedZone("", int(off)))
		}
		return t
	default:
		d.fail(fmt.Errorf("time tag %d", tag))
		return time.Time{}
	}
}

func decode[T ~string](d *dec, table []T) T {
	c := d.byte1()
	switch {
	case c == 0:
		return T(d.str())
	case int(c) <= len(table):
		return table[c-1]
	}
	d.fail(fmt.Errorf("code %d not in its table", c))
	return ""
}

func (d *dec) end(what string) error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d bytes left over", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("decode %s: %w", what, d.err)
	}
	return nil
}

// encodeEvent encodes e; prev is the hash of the event stored before it.
func encodeEvent(e controller.Event, prev string) []byte {
	var flags uint64
	for _, f := range []struct {
		set  bool
		flag uint64
	}{{e.Door != "", evDoor}, {e.Reader != "", evReader}, {e.Card != "", evCard}, {e.Person != "", evPerson},
		{e.Visit != "", evVisit}, {e.Actor != "", evActor}, {e.Detail != "", evDetail}, {len(e.Records) > 0, evRecords},
		{e.ClockTrusted, evTrusted}, {e.Prev != prev, evPrev}, {e.Via != "", evVia}} {
		if f.set {
			flags |= f.flag
		}
	}
	var h enc
	if !h.hash(e.Hash) {
		flags |= evRawHash
	}
	w := enc{b: make([]byte, 0, 96+len(e.Detail))}
	w.byte1(formatV1)
	w.uvarint(flags)
	if flags&evRawHash != 0 {
		w.str(e.Hash)
	} else {
		w.b = append(w.b, h.b...)
	}
	w.varint(e.Time.Unix())
	w.uvarint(uint64(e.Time.Nanosecond()))
	code(&w, eventTypes, e.Type)
	code(&w, decisionsOrEmpty, e.Decision)
	code(&w, reasonsOrEmpty, e.Reason)
	for _, s := range []struct {
		flag uint64
		v    string
	}{{evDoor, e.Door}, {evReader, e.Reader}, {evCard, e.Card}, {evPerson, e.Person}, {evVisit, e.Visit}, {evActor, e.Actor}, {evVia, e.Via}, {evDetail, e.Detail}} {
		if flags&s.flag != 0 {
			w.str(s.v)
		}
	}
	if flags&evRecords != 0 {
		w.uvarint(uint64(len(e.Records)))
		for _, r := range e.Records {
			code(&w, recordKinds, r.Kind)
			w.str(r.ID)
			var d enc
			if d.hash(r.Digest) {
				w.byte1(1)
				w.b = append(w.b, d.b...)
			} else {
				w.byte1(0)
				w.str(r.Digest)
			}
		}
	}
	if flags&evPrev != 0 {
		w.str(e.Prev)
	}
	return w.b
}

// decisionsOrEmpty and reasonsOrEmpty put the empty value first, so an
// event without one costs a byte.
var (
	decisionsOrEmpty = append([]controller.Decision{""}, decisions...)
	reasonsOrEmpty   = append([]controller.Reason{""}, reasons...)
)

// eventHash reads only the hash of an encoded event (either format).
func eventHash(v []byte) (string, error) {
	if len(v) > 0 && v[0] == formatJS {
		e, err := decodeEventJSON(v)
		return e.Hash, err
	}
	d := dec{b: v}
	if f := d.byte1(); f != formatV1 && d.err == nil {
		return "", fmt.Errorf("decode event: format %d", f)
	}
	flags := d.uvarint()
	var h string
	if flags&evRawHash != 0 {
		h = d.str()
	} else {
		h = d.hash32()
	}
	if d.err != nil {
		return "", fmt.Errorf("decode event: %w", d.err)
	}
	return h, nil
}

// decodeEvent decodes an event stored at seq; prev is the hash of the
// event stored before it, which is the event's Prev unless it stores its
// own. The result shares no memory with v.
func decodeEvent(seq uint64, v []byte, prev string) (controller.Event, error) {
	if len(v) > 0 && v[0] == formatJS {
		e, err := decodeEventJSON(v)
		if err == nil && e.Seq != seq {
			return controller.Event{}, fmt.Errorf("decode event: stored value has seq %d", e.Seq)
		}
		return e, err
	}
	d := dec{b: v}
	if f := d.byte1(); f != formatV1 && d.err == nil {
		return controller.Event{}, fmt.Errorf("decode event: format %d", f)
	}
	e := controller.Event{Seq: seq, Prev: prev}
	flags := d.uvarint()
	if flags&evRawHash != 0 {
		e.Hash = d.str()
	} else {
		e.Hash = d.hash32()
	}
	sec, nsec := d.varint(), d.uvarint()
	if nsec >= 1e9 {
		d.fail(fmt.Errorf("nanoseconds %d", nsec))
	}
	e.Time = time.Unix(sec, int64(nsec)).UTC()
	e.Type = decode(&d, eventTypes)
	e.Decision = decode(&d, decisionsOrEmpty)
	e.Reason = decode(&d, reasonsOrEmpty)
	for _, s := range []struct {
		flag uint64
		v    *string
	}{{evDoor, &e.Door}, {evReader, &e.Reader}, {evCard, &e.Card}, {evPerson, &e.Person}, {evVisit, &e.Visit}, {evActor, &e.Actor}, {evVia, &e.Via}, {evDetail, &e.Detail}} {
		if flags&s.flag != 0 {
			*s.v = d.str()
		}
	}
	if flags&evRecords != 0 {
		n, ok := d.count()
		if ok && n > 0 { // none is nil, as the domain writes it
			e.Records = make([]controller.RecordRef, n)
		}
		for i := range e.Records {
			r := &e.Records[i]
			r.Kind = decode(&d, recordKinds)
			r.ID = d.str()
			if d.byte1() == 1 {
				r.Digest = d.hash32()
			} else {
				r.Digest = d.str()
			}
		}
	}
	e.ClockTrusted = flags&evTrusted != 0
	if flags&evPrev != 0 {
		e.Prev = d.str()
	}
	if err := d.end("event"); err != nil {
		return controller.Event{}, err
	}
	return e, nil
}

// Record values: the format byte, the seq of the event that sealed the
// record, then its fields in order. Person also stores its roles in order
// and nil-ness (the digest is over their JSON).

func encodePerson(p controller.Person) []byte {
	w := enc{b: make([]byte, 0, 48+len(p.Name)+len(p.Org)+len(p.IDDoc))}
	w.byte1(formatV1)
	w.uvarint(p.Seq)
	w.str(p.Name)
	roles(&w, p.Roles)
	w.str(p.Org)
	w.str(p.IDDoc)
	w.bool(p.Disabled)
	w.time(p.DisabledAt)
	w.str(p.UnixUser)
	return w.b
}

func roles(w *enc, rs []controller.Role) {
	if rs == nil {
		w.uvarint(0)
		return
	}
	w.uvarint(uint64(len(rs)) + 1)
	for _, r := range rs {
		code(w, roleCodes, r)
	}
}

func decodePerson(id string, v []byte) (controller.Person, error) {
	if len(v) > 0 && v[0] == formatJS {
		return decodeJSON[controller.Person]("person", v)
	}
	d := dec{b: v}
	if f := d.byte1(); f != formatV1 && d.err == nil {
		return controller.Person{}, fmt.Errorf("decode person: format %d", f)
	}
	p := controller.Person{ID: id, Seq: d.uvarint(), Name: d.str()}
	if n, ok := d.count(); ok && n > 0 {
		p.Roles = make([]controller.Role, n-1)
		for i := range p.Roles {
			p.Roles[i] = decode(&d, roleCodes)
		}
	}
	p.Org, p.IDDoc, p.Disabled, p.DisabledAt, p.UnixUser = d.str(), d.str(), d.bool(), d.time(), d.str()
	return p, d.end("person")
}

func encodeCard(c controller.Card) []byte {
	w := enc{b: make([]byte, 0, 40+len(c.PersonID))}
	w.byte1(formatV1)
	w.uvarint(c.Seq)
	w.str(c.PersonID)
	w.bool(c.Revoked)
	w.time(c.AssignedAt)
	w.time(c.RevokedAt)
	return w.b
}

func decodeCard(id string, v []byte) (controller.Card, error) {
	if len(v) > 0 && v[0] == formatJS {
		return decodeJSON[controller.Card]("card", v)
	}
	d := dec{b: v}
	if f := d.byte1(); f != formatV1 && d.err == nil {
		return controller.Card{}, fmt.Errorf("decode card: format %d", f)
	}
	c := controller.Card{ID: id, Seq: d.uvarint(), PersonID: d.str(), Revoked: d.bool()}
	c.AssignedAt, c.RevokedAt = d.time(), d.time()
	return c, d.end("card")
}

func encodeVisit(v controller.Visit) []byte {
	w := enc{b: make([]byte, 0, 256)}
	w.byte1(formatV1)
	w.uvarint(v.Seq)
	w.str(v.ID)
	w.str(v.VisitorID)
	w.str(v.Purpose)
	w.str(v.Devices)
	w.time(v.From)
	w.time(v.Until)
	w.str(v.EscortID)
	w.str(v.Org)
	w.str(v.IDDoc)
	w.str(string(v.State))
	w.str(v.SubmittedBy)
	if v.Steps == nil {
		w.uvarint(0)
	} else {
		w.uvarint(uint64(len(v.Steps)) + 1)
	}
	for _, s := range v.Steps {
		w.varint(int64(s.Step))
		w.str(string(s.Action))
		w.str(string(s.State))
		w.str(s.Actor)
		w.time(s.Started)
		w.time(s.At)
		w.varint(int64(s.Standard))
		w.str(s.Note)
	}
	w.time(v.EnteredAt)
	w.str(v.EscortedBy)
	w.str(v.Door)
	w.time(v.ExitedAt)
	w.bool(v.IDReturned)
	return w.b
}

func decodeVisit(v []byte) (controller.Visit, error) {
	if len(v) > 0 && v[0] == formatJS {
		return decodeJSON[controller.Visit]("visit", v)
	}
	d := dec{b: v}
	if f := d.byte1(); f != formatV1 && d.err == nil {
		return controller.Visit{}, fmt.Errorf("decode visit: format %d", f)
	}
	x := controller.Visit{Seq: d.uvarint(), ID: d.str()}
	x.VisitorID, x.Purpose, x.Devices = d.str(), d.str(), d.str()
	x.From, x.Until = d.time(), d.time()
	x.EscortID, x.Org, x.IDDoc = d.str(), d.str(), d.str()
	x.State, x.SubmittedBy = controller.VisitState(d.str()), d.str()
	if n, ok := d.count(); ok && n > 0 {
		x.Steps = make([]controller.StepRecord, n-1)
		for i := range x.Steps {
			s := &x.Steps[i]
			s.Step, s.Action, s.State, s.Actor = int(d.varint()), controller.Action(d.str()), controller.VisitState(d.str()), d.str()
			s.Started, s.At, s.Standard, s.Note = d.time(), d.time(), time.Duration(d.varint()), d.str()
		}
	}
	x.EnteredAt, x.EscortedBy, x.Door, x.ExitedAt, x.IDReturned = d.time(), d.str(), d.str(), d.time(), d.bool()
	return x, d.end("visit")
}

func encodeKey(k controller.Key) []byte {
	w := enc{b: make([]byte, 0, 80)}
	w.byte1(formatV1)
	w.uvarint(k.Seq)
	w.str(k.PersonID)
	if k.Public == nil {
		w.uvarint(0)
	} else {
		w.uvarint(uint64(len(k.Public)) + 1)
		w.b = append(w.b, k.Public...)
	}
	w.time(k.AddedAt)
	w.bool(k.Revoked)
	w.time(k.RevokedAt)
	return w.b
}

func decodeKey(id string, v []byte) (controller.Key, error) {
	if len(v) > 0 && v[0] == formatJS {
		return decodeJSON[controller.Key]("key", v)
	}
	d := dec{b: v}
	if f := d.byte1(); f != formatV1 && d.err == nil {
		return controller.Key{}, fmt.Errorf("decode key: format %d", f)
	}
	k := controller.Key{ID: id, Seq: d.uvarint(), PersonID: d.str()}
	if n, ok := d.count(); ok && n > 0 {
		k.Public = slices.Clone(d.raw(uint64(n - 1)))
	}
	k.AddedAt, k.Revoked, k.RevokedAt = d.time(), d.bool(), d.time()
	return k, d.end("key")
}

// decodeEventJSON decodes an event in the JSON of schema 3 and before.
func decodeEventJSON(v []byte) (controller.Event, error) {
	var e controller.Event
	if err := json.Unmarshal(v, &e); err != nil {
		return controller.Event{}, fmt.Errorf("decode event: %w", err)
	}
	return e, nil
}

// decodeJSON decodes a record in the JSON of schema 3 and before, which
// carried no seq: it reads as unsealed until the migration seals it.
func decodeJSON[T any](kind string, v []byte) (T, error) {
	var x T
	if err := json.Unmarshal(v, &x); err != nil {
		return x, fmt.Errorf("decode %s: %w", kind, err)
	}
	return x, nil
}
