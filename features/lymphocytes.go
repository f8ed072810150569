package features

// LymphopeniaGrade returns the CTCAE v5 grade of "lymphocyte count decreased"
// for an absolute lymphocyte count in 10^9/L: 0 for >= 1.0 (taking 1.0 as
// the lower limit of normal), 1 for [0.8, 1.0), 2 for [0.5, 0.8), 3 for
// [0.2, 0.5), 4 below 0.2.
func LymphopeniaGrade(alc float64) int {
	switch {
	case alc >= 1.0:
		return 0
	case alc >= 0.8:
		return 1
	case alc >= 0.5:
		return 2
	case alc >= 0.2:
		return 3
	default:
		return 4
	}
}
