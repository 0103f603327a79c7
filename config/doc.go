// Package config owns pintud's configuration file: its YAML schema, the
// defaults a new user gets, and the validation that names every problem by
// file, line and key path. It turns the file into a [File], which carries what
// cmd/pintud needs to wire drivers and the API socket, and into the domain's
// [controller.Config] through [File.Controller].
//
// [Parse] and [Load] read a file; [Default] is the embedded configuration
// pintud uses when it is given none (one door on simulated hardware).
// example.yaml in this directory documents every key with its default and is
// what an installer copies to /etc/pintu/pintud.yaml.
//
// All problems in a file are reported at once, as [Errors], so an installer
// fixes them in one edit:
//
//	pintud.yaml:12: doors[0].readers[1].direction: "sideways" is not entry or exit
//
// # Caveats
//
// A key written with no value (or null) counts as absent and gets its
// default; an empty list counts as given, so "room_access: []" means no role
// enters alone.
//
// Booleans are only true and false: YAML 1.1's yes, no, on and off are
// refused rather than guessed at, because a guess on a door is a security
// decision.
//
// Anchors and aliases work; merge keys (<<) do not. Relative paths
// (state_dir, api.socket) are relative to pintud's working directory, not to
// the file.
//
// Only the simulated driver ("sim") exists so far. Hardware drivers add their
// options to [Device] and to the schema in the same pass.
package config
