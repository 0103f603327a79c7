// Package console is the web console that the office's staff use: served
// by pintud over TLS on console.listen, server-rendered HTML (templ), in
// Bahasa Indonesia or English (internal/catalog), with htmx and
// Server-Sent Events keeping the "today" screen live.
//
// It is an adapter: its handlers parse a request, call the controller as
// the signed-in person (controller.Actor via "console") and render. The
// controller decides and checks every action again, whatever a page
// offered; a page only hides what the person's roles would be refused.
//
// Sign-in: passwords are argon2id (controller/password), verified in the
// request's goroutine, never the controller's; the controller records every
// sign-in, failure, lockout and sign-out, and keeps the lockout counts.
// Sessions live server-side in the store (controller.ConsoleStore): the
// browser holds a random 256-bit id in an HttpOnly, Secure, SameSite=Strict
// cookie; the store holds its SHA-256. A session ends after the idle or
// absolute timeout, at sign-out, when the password changes or when its
// person is disabled; signing in always starts a new one.
//
// Every unsafe request passes Go's http.CrossOriginProtection; every page
// carries a Content-Security-Policy that allows scripts and styles only
// from the console's own files (static/, embedded), no inline code.
//
// # Caveats
//
// The people list reads every person to search them; with very many
// people, search narrows what is shown, not what is read.
//
// The events page finds a time range by binary search over sequence
// numbers, which assumes the log's times grow with them; an event logged
// while the clock was set back may fall outside a time search.
//
// A live screen left open does not count as activity: it ends with the
// idle timeout like any other.
package console
