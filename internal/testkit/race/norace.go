//go:build !race

// Package race reports whether the tests run under the race detector, so
// that a test whose subject is not concurrency and whose work the detector
// makes several times slower (a statistical check on thousands of
// patients, a crash test of many processes) runs in the plain suite only,
// as the Go standard library's own slow tests do (internal/race).
package race

// Enabled reports whether the race detector is on.
const Enabled = false
