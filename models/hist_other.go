//go:build !amd64

package models

// addRows is addRowsGo where there is no assembly version.
func addRows(hist []featHist, bins []uint8, cols int, gh []histBin, rows []int32, feats []int) {
	addRowsGo(hist, bins, cols, gh, rows, feats)
}
