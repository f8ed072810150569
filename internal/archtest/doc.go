// Package archtest holds the test that abscopal's packages import one
// another in one direction only, as DESIGN.md draws it. It has no code of
// its own.
package archtest
