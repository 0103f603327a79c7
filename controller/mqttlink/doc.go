// Package mqttlink connects a [controller.Controller] to an MQTT broker
// (Mosquitto) with paho: it publishes the audit log and each door's state,
// takes signed remote commands and answers them, fills gaps in the event
// stream on request, and announces the doors to Home Assistant.
//
// # Topics
//
// With prefix P (default pintu/<site slug>) and a door D:
//
//	P/D/availability        online / offline, retained; the last will
//	P/D/state               {"lock","contact","lockdown","alarms","people_inside","inside"}, retained
//	P/D/events              every audit event of door D as JSON with its seq, QoS 1
//	P/bridge/events         audit events that name no door (people, cards, visits, start/stop)
//	P/D/cmd                 signed commands in (package remote); never retained
//	P/D/cmd/result          {"id","accepted","reason","detail",...}, QoS 1
//	P/D/access              the Home Assistant event entity: one message per access read
//	P/D/last_access         the last access read, retained
//	P/D/ha/lock/set         the opt-in Home Assistant lock entity's commands
//	P/bridge/availability   online / offline, retained
//	P/bridge/request/events {"from","to","txid"}: ask for a range of the audit log
//	P/bridge/response/events/TXID  {"txid","from","to","events":[...]} (at most MaxGapFill events)
//
// # Delivery
//
// Events reach the broker through the store's outbox ([Outbox]): the store
// queues each event in the transaction that commits it, and the link removes
// it only after the broker's PUBACK. The link publishes a small window of
// events in sequence order over its one connection and acknowledges the
// prefix the broker confirmed; after an outage or a restart it starts again
// from the oldest unacknowledged event. Delivery is therefore at least once
// and in order of first delivery: a consumer drops an event whose seq it has
// already seen, and asks for a range on P/bridge/request/events when it sees
// a gap (say, events published while it was not subscribed).
//
// paho's callbacks never block: they copy the message and hand it to a
// bounded queue drained by goroutines of the link. When a queue is full the
// message is dropped and counted; a dropped command is answered "busy".
//
// # Commands and their limit
//
// Every command payload the controller sees becomes an audit event, signed
// or not, so the link takes at most Config.CommandBurst payloads per
// Config.CommandPer from each command topic (default 5 a minute) before
// anything about them is checked; topics of doors that do not exist here
// share one limit. The rest are dropped unchecked, answered rate_limited when
// they parse as a command, counted, and recorded as one event per topic a
// minute through [Conditions]. A flood on one door's topic therefore also
// crowds out that door's coordinator until the flood stops; other doors'
// topics are not affected. The Home Assistant lock entity has a limit of its
// own (3 a minute per door) with the same treatment.
//
// A retained command is never executed; it is audited the first time the
// broker hands it over and ignored (with a debug line) on every later
// subscribe, by topic and command id, until it is cleared on the broker
// (mosquitto_pub -r -n -t TOPIC).
//
// # Connection state
//
// [Link.State] says whether the link is connected, connecting or down,
// since when, why its last attempt failed, and how many events wait in the
// outbox. Each failed attempt is logged with its cause: the first, each
// change of cause, and once a minute while it repeats. After
// Config.DownAfter (default 5 minutes) without a connection the link raises
// mqtt_down through [Conditions], and clears it when it connects again.
//
// # Caveats
//
// The broker's ACL is what keeps strangers from writing to P/+/cmd at all.
// A door cannot be called "bridge". The MQTT topic is not signed: the
// controller refuses a command whose door differs from its topic's. A link
// that connects and loses its connection again within DownAfter, over and
// over, never raises mqtt_down; its log shows the losses.
package mqttlink
