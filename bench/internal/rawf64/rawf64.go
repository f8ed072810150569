// Package rawf64 writes float64 values as raw little-endian bytes, the
// layout numpy's fromfile reads with dtype "<f8": the benchmarks hand their
// matrices to their Python peers so, where a million rows of CSV take numpy
// a minute to parse.
package rawf64

import (
	"encoding/binary"
	"math"
	"os"
)

// Write writes xs to path (NaN stays NaN: a missing value).
func Write(path string, xs []float64) error {
	b := make([]byte, 8*len(xs))
	for i, x := range xs {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return os.WriteFile(path, b, 0o644)
}
