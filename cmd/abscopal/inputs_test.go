package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/models"
)

// TestPrintInputsCounts: one row is "1 row", not "1 rows".
func TestPrintInputsCounts(t *testing.T) {
	var b bytes.Buffer
	printInputs(&b, []models.InputReport{{Feature: "alc", Imputed: 1}}, 1)
	if out := b.String(); !strings.Contains(out, "inputs of the 1 row scored") || !strings.Contains(out, "alc: missing, imputed, in 1 row (100.0%)") {
		t.Errorf("%q", out)
	}
	b.Reset()
	printInputs(&b, []models.InputReport{{Feature: "alc", Imputed: 2}}, 3)
	if out := b.String(); !strings.Contains(out, "inputs of the 3 rows scored") || !strings.Contains(out, "in 2 rows (66.7%)") {
		t.Errorf("%q", out)
	}
}
