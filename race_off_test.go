//go:build !race

// raceEnabled: tests whose figures the race detector changes know it is on.

package loyalty

// raceEnabled is set when the tests run under the race detector, whose own allocations blur
// what a test measures of the client's.
const raceEnabled = false
