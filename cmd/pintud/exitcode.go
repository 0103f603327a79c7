package main

import "errors"

// pintud's exit statuses. systemd reads them: the unit lists exitRefuse in
// RestartPreventExitStatus=, so a pintud that cannot start until a person
// acts stays stopped (the unit "failed", the reason in the journal) instead
// of restarting in a loop; every other failure is restarted within the
// unit's start limits.
const (
	// exitOK: stopped by SIGINT or SIGTERM after relocking every door, or a
	// one-shot mode (-check-config, -restore, -hwcheck) that succeeded.
	exitOK = 0
	// exitFailure: anything else; worth a restart (a device that vanished,
	// a socket another pintud holds, a broken commit).
	exitFailure = 1
	// exitUsage: the command line is wrong.
	exitUsage = 2
	// exitRefuse: pintud refuses to start until a person acts: the config
	// is invalid, or the state file or its file system is damaged or from
	// a newer pintud (see refusal). Restarting cannot help.
	exitRefuse = 3
)

// refuseError marks an error that means "do not start until a person acts".
type refuseError struct{ err error }

func (e *refuseError) Error() string { return e.err.Error() }
func (e *refuseError) Unwrap() error { return e.err }

// refuse wraps err as a reason to stay stopped; nil stays nil.
func refuse(err error) error {
	if err == nil {
		return nil
	}
	return &refuseError{err}
}

// exitCode maps run's error to pintud's exit status.
func exitCode(err error) int {
	_, refused := errors.AsType[*refuseError](err)
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage
	case refused:
		return exitRefuse
	}
	if _, ok := refusal(err); ok {
		return exitRefuse
	}
	return exitFailure
}
