// Package pintu is the root of Pintu, an access-control controller for a
// server-room door. The daemon is cmd/pintud, the operator CLI cmd/pintuctl,
// and the domain lives in package controller; see README.md.
package pintu
