//go:build race

package controller_test

// raceBuild is set when the race detector, which slows the property test
// about fivefold, is on.
const raceBuild = true
