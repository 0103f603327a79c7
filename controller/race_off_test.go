//go:build !race

package controller_test

const raceBuild = false
