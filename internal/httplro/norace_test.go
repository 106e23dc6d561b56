//go:build !race

package httplro

const raceEnabled = false
