package models

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAddRowsAssembly: the histogram kernel (in assembly on amd64) and its
// Go version give the same histograms to the bit, for every feature and for
// a sample of them, on rows in any order, repeated rows included.
func TestAddRowsAssembly(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, cols = 500, 7
	bins := make([]uint8, n*cols)
	for i := range bins {
		bins[i] = uint8(rng.IntN(256))
	}
	gh := make([]histBin, n)
	for i := range gh {
		gh[i] = histBin{rng.NormFloat64() * 1e3, rng.Float64() / 3}
	}
	rows := []int32{0, n - 1, 17, 17, 3}
	for range 300 {
		rows = append(rows, int32(rng.IntN(n)))
	}
	for _, feats := range [][]int{{0, 1, 2, 3, 4, 5, 6}, {6, 2, 3}, {4}} {
		got, want := make([]featHist, cols), make([]featHist, cols)
		addRows(got, bins, cols, gh, rows, feats)
		addRowsGo(want, bins, cols, gh, rows, feats)
		for f := range want {
			for b := range want[f] {
				g, w := got[f][b], want[f][b]
				if math.Float64bits(g.g) != math.Float64bits(w.g) || math.Float64bits(g.h) != math.Float64bits(w.h) {
					t.Fatalf("features %v: bin %d of feature %d: %v, Go %v", feats, b, f, g, w)
				}
			}
		}
		if used := len(feats); used == cols && want[0][bins[0]].h == 0 {
			t.Fatal("the test adds nothing")
		}
	}
	for _, bad := range [][]int32{{n}, {-1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("row %d of %d: no panic", bad[0], n)
				}
			}()
			addRows(make([]featHist, cols), bins, cols, gh, bad, []int{0})
		}()
	}
}

// BenchmarkAddRows times the histogram kernel against its Go version on
// 100,000 rows x 30 features (every other row, as a node's rows are), per
// bin update.
func BenchmarkAddRows(b *testing.B) {
	d := benchData(100000, 30, true)
	bd := binData(d, 255)
	gh := make([]histBin, d.Rows)
	for i := range gh {
		gh[i] = histBin{float64(i%7) - 3, 0.25}
	}
	var rows []int32
	for i := 0; i < d.Rows; i += 2 {
		rows = append(rows, int32(i))
	}
	feats := make([]int, d.Cols)
	for f := range feats {
		feats[f] = f
	}
	for _, k := range []struct {
		name string
		add  func([]featHist, []uint8, int, []histBin, []int32, []int)
	}{{"kernel", addRows}, {"go", addRowsGo}} {
		b.Run(k.name, func(b *testing.B) {
			hist := make([]featHist, d.Cols)
			for b.Loop() {
				k.add(hist, bd.bins, d.Cols, gh, rows, feats)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(rows)*d.Cols), "ns/update")
		})
	}
}
