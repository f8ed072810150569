package radiobiology_test

import (
	"fmt"

	"github.com/abscopal/abscopal/radiobiology"
)

// The biologically effective dose and the equivalent dose in 2-Gy
// fractions of two SBRT schedules and a conventional course, at the
// tumour's alpha/beta of 10 Gy.
func ExampleBED() {
	for _, c := range []struct {
		dose      float64
		fractions int
	}{{24, 3}, {50, 4}, {60, 30}} {
		bed := radiobiology.BED(c.dose, c.fractions, radiobiology.TumourAlphaBetaGy)
		eqd2 := radiobiology.EQD2(c.dose, c.fractions, radiobiology.TumourAlphaBetaGy)
		fmt.Printf("%g Gy in %d: BED10 %.1f Gy, EQD2 %.2f Gy, ablative %v\n", c.dose, c.fractions, bed, eqd2, bed >= radiobiology.AblativeMinBED10Gy)
	}
	// Output:
	// 24 Gy in 3: BED10 43.2 Gy, EQD2 36.00 Gy, ablative false
	// 50 Gy in 4: BED10 112.5 Gy, EQD2 93.75 Gy, ablative true
	// 60 Gy in 30: BED10 72.0 Gy, EQD2 60.00 Gy, ablative false
}

// The effective dose to immune cells of a conventional thoracic course
// (Jin et al.): mean lung 15 Gy, heart 10 Gy, body 5 Gy, in 30 fractions.
func ExampleEDIC() {
	fmt.Printf("EDIC %.3f Gy\n", radiobiology.EDIC(15, 10, 5, 30))
	// Output: EDIC 6.065 Gy
}
