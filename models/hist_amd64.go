package models

import "fmt"

// addRows is addRowsGo with its innermost loop in assembly
// (hist_amd64.s). Go adds a bin's gradient and hessian with two scalar
// loads, adds and stores; the assembly adds both with one SSE2 ADDPD, which
// halves the stores that bound the loop: training spends most of its time
// here. The results are the same to the bit: each lane of ADDPD is the
// IEEE addition Go does (TestAddRowsAssembly). The arguments are checked
// here, since the assembly does not check its indexes.
func addRows(hist []featHist, bins []uint8, cols int, gh []histBin, rows []int32, feats []int) {
	if len(rows) == 0 || len(feats) == 0 {
		return
	}
	n := len(gh)
	if cols <= 0 || len(bins) < n*cols || len(hist) < cols {
		panic(fmt.Sprintf("models: addRows: %d bins, %d gradients, %d columns, %d histograms", len(bins), n, cols, len(hist)))
	}
	for _, f := range feats {
		if f < 0 || f >= cols {
			panic(fmt.Sprintf("models: addRows: feature %d of %d", f, cols))
		}
	}
	for _, i := range rows {
		if i < 0 || int(i) >= n {
			panic(fmt.Sprintf("models: addRows: row %d of %d", i, n))
		}
	}
	addRowsSSE2(&hist[0][0], &bins[0], cols, &gh[0], rows, feats)
}

// addRowsSSE2 is implemented in hist_amd64.s. rows and feats are not empty,
// and every index is in range.
//
//go:noescape
func addRowsSSE2(hist *histBin, bins *uint8, cols int, gh *histBin, rows []int32, feats []int)
