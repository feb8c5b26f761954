//go:build race

package template

// raceEnabled: the race detector's shadow memory does not fit an address-space cap.
const raceEnabled = true
