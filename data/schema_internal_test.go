package data

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestValueSize: a Value fits what the compiler keeps in registers, at most
// four words and four fields (cmd/compile/internal/ssa.CanSSA). With its
// bools ahead of the float it was 40 bytes, went through memory wherever
// it was passed or returned, and the feature pipeline took 1.6 times as
// long.
func TestValueSize(t *testing.T) {
	if size, fields := unsafe.Sizeof(Value{}), reflect.TypeFor[Value]().NumField(); size > 4*unsafe.Sizeof(uintptr(0)) || fields > 4 {
		t.Errorf("a Value is %d bytes in %d fields; at most 4 words and 4 fields stay in registers", size, fields)
	}
}

// TestFormatNumber: numbers in messages read as a person writes them, a
// whole one in plain digits (issue 17: 9.223372036854776e+18 was shown for
// an integer).
func TestFormatNumber(t *testing.T) {
	for _, tt := range []struct {
		x    float64
		want string
	}{
		{3, "3"}, {-2, "-2"}, {1e18, "1000000000000000000"}, {9223372036854775807, "9223372036854775808"},
		{3.9, "3.9"}, {0.1, "0.1"}, {1e-7, "1e-07"}, {1e25, "1e+25"}, {45.5, "45.5"},
	} {
		if got := formatNumber(tt.x); got != tt.want {
			t.Errorf("formatNumber(%v) = %q, want %q", tt.x, got, tt.want)
		}
	}
}
