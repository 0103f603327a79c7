// Package api is pintud's local API: HTTP with JSON over a unix socket, the
// only way pintuctl (and later the web console) reaches the controller.
//
// [Server.Listen] creates the socket with mode 0660; [Server.Serve] answers on it
// until its context is cancelled. Every route is under /v1:
//
//	GET  /v1/status                      doors, lockdown, alarms, who is inside
//	GET  /v1/people                      everyone, ordered by id
//	POST /v1/people                      add a person {id, name, roles, org, id_doc}
//	POST /v1/people/{id}                 change a person {name, roles, org, id_doc}: only the fields given
//	POST /v1/people/{id}/disable         disable a person {}: cards refused, keys unknown, no SOP step
//	POST /v1/people/{id}/enable          enable a disabled person {}
//	POST /v1/people/{id}/link            link a Unix account to the person {unix_user}; "" unlinks (root)
//	POST /v1/people/{id}/password        set the person's console password {password} (root, or the person)
//	GET  /v1/whoami                      who the socket says the caller is
//	GET  /v1/cards                       every card, ordered by id
//	POST /v1/cards/assign                bind a card to a person {card, person}
//	POST /v1/cards/revoke                revoke a card {card}
//	POST /v1/visits                      SOP step 1 {visitor, [by], purpose, devices, from, until, escort};
//	                                     from defaults to now, until to two hours after from
//	GET  /v1/visits?state=STATE          visits, ordered by id
//	GET  /v1/visits/{id}                 one visit with its SOP history
//	POST /v1/visits/{id}/{action}        a workflow step {[by], text}: check, approve,
//	                                     reject, return-id, report, order-archive, archive
//	POST /v1/sim/tap                     simulated card read {door, reader, card}
//	POST /v1/sim/door                    simulated door contact {door, open}
//	POST /v1/sim/rex                     simulated exit button {door}: {door, released, logged, error}
//	POST /v1/sim/tamper                  simulated enclosure tamper switch {door, open}
//	GET  /v1/alarms                      the listed alarms: active, or cleared and awaiting an acknowledgement
//	POST /v1/alarms/{id}/ack             acknowledge an alarm {[by], note}: by a coordinator or the head
//	POST /v1/doors/lockdown              lock a door down {door, [by]}; every door when door is empty
//	POST /v1/doors/release               release a lockdown {door, [by]}; every door when door is empty
//	GET  /v1/events?since=T&until=T[&limit=N][&after=SEQ]   audit events as a JSON array;
//	                                     limit: the newest N; after: those after seq SEQ
//	GET  /v1/events?follow=true[&limit=N][&since=T][&after=SEQ]   JSON lines: the newest N,
//	                                     then each event as it is committed, until pintud's
//	                                     "stopped" event or the client leaves
//	GET  /v1/export?format=csv|jsonl&since=T&until=T[&delimiter=;]
//	GET  /v1/verify                      {ok, count, broken_seq, reason}
//	GET  /v1/visits/{id}/dossier?lang=id|en      the visit's dossier (PDF)
//	GET  /v1/reports/sop?from=DATE&until=DATE&format=pdf|xlsx&lang=id|en
//	GET  /v1/export/bundle?since=T&until=T&lang=id|en   signed export bundle (zip)
//	GET  /v1/site/key                    the site's public key (minisign)
//	GET  /v1/backup                      a consistent copy of the state file (bbolt)
//
// Times in JSON are RFC 3339 in UTC, and durations are Go's duration text
// ("5m0s", "1h2m3s"), never nanoseconds; a visit's steps say whether they
// are timed (step 1 is the submission instant) and how long they took. The
// CSV export writes times in the
// site's time zone to the second, with the zone's name and the UTC time to
// the nanosecond in columns of their own. Every response carries the site's time zone name
// in the Pintu-Time-Zone header so clients can show times as the site sees
// them. Errors are {"error": "...", "code": "..."} with a status that says
// what kind: 400 bad request (code invalid), 403 wrong role or not
// identified (wrong_role, unauthenticated), 404 unknown (not_found), 409
// conflict (exists, wrong_state, separation_of_duties, already_done), 503
// storage failure or controller stopped (storage_failure, stopped,
// unavailable), 500 anything else (internal).
//
// # Authentication
//
// The socket's file mode (0660, owner and group) decides who may talk to
// pintud at all; who acts is read from the kernel. When a connection is
// accepted, the server asks for its peer credentials (SO_PEERCRED), and
// every request on it acts as that Unix account ([Identify]): uid 0 is
// root, which may manage people, cards, keys, passwords and links
// (recorded as "root") but takes no SOP step, acknowledgement or lockdown;
// any other account acts as the person linked to it (POST
// /v1/people/{id}/link), within that person's roles; an account linked to
// nobody may read and is refused every change. A "by" in a body is a
// check, not a claim: it must name the caller's own person, and a
// mismatch is refused (403) and recorded as a refused event.
//
// Under pintud -sim ([Options.SimIdentity]) "by" is honoured as given, as
// the README's walkthrough needs, and every event such a request causes
// carries via "unauthenticated-sim"; changes without "by" are recorded
// with the actor "local". Server.actor is the one place that decides.
//
// # Caveats
//
// The streaming routes (events, export) send their status before the first
// event. If reading the log fails part way, the body is cut short and the
// Pintu-Error trailer carries the error; pintuctl checks it. The Pintu-Count
// trailer carries the number of events sent.
//
// The backup route holds one read transaction for the whole copy; a client
// that stops reading for 10 s is cut off, so it cannot hold up commits that
// need the file to grow. The copy is unchecked: pintuctl backup verifies it
// before it keeps it.
//
// The verify route checks the chain link by link from seq 1. It cannot see
// events removed from the end of the log; compare the count with an earlier
// export for that.
//
// The oversized-body error is 400, not 413, to keep all body problems under
// one status.
//
// The CSV export is made for spreadsheets (package report): a UTF-8 byte
// order mark, names beside ids, and every cell that starts with =, +, -, @,
// a tab, a carriage return or an apostrophe gets an apostrophe in front, so
// no cell is read as a formula. Dropping one leading apostrophe from every
// cell gives back the stored text, from which the hash chain recomputes.
package api
