// Package controller is Pintu's domain: people, cards and roles, the SOP visit
// workflow ("Akses Masuk Ruangan Server"), the access rule for escorted
// visitors, the door state machine, occupancy, alarms and the hash-chained
// audit events that record all of it.
//
// The package is pure: it imports only the standard library, takes time from
// its callers, and reaches storage and hardware through the small ports
// declared here ([Store], [EventLog], [Actuator]). Adapters in sub-packages
// implement those ports; drivers never see this package.
//
// One goroutine, started by [Controller.Run], owns all mutable state. Every
// other goroutine talks to it through the Controller's methods, which send a
// request on a channel and wait for the answer, so the order of inputs is the
// order of decisions.
//
// Every input that changes something becomes a [Change]: audit events plus the
// records they touch. The change is committed through the [Store] before it is
// applied in memory and before any relay moves; when the commit fails the
// change is dropped and an entry read is denied with [ReasonStorageFailure].
//
// # Caveats
//
// Occupancy is only as good as the taps: a person who leaves without badging
// out (tailgating the door) stays "inside" until an admin records the exit.
// Alarms other than occupancy alarms are runtime state and are re-derived after
// a restart from occupancy and the visit windows.
package controller
