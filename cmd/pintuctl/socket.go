package main

import "os"

// installedSocket and installedConfig are where the .deb's configuration
// puts pintud's socket, and the configuration itself.
const (
	installedSocket = "/run/pintu/pintud.sock"
	installedConfig = "/etc/pintu/pintud.yaml"
)

// defaultSocketPath is the socket pintuctl uses without -socket or
// PINTU_SOCKET: pintud -sim's in this directory if it is there, else the
// service's on a system with the package installed, else pintud -sim's.
func defaultSocketPath() string {
	if _, err := os.Stat(defaultSocket); err == nil {
		return defaultSocket
	}
	if _, err := os.Stat(installedConfig); err == nil {
		return installedSocket
	}
	return defaultSocket
}
