package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// decimalCommaFlag is --csv-decimal-comma, for the commands that write a
// table: a CSV for Excel where the decimal mark is a comma, which opens a
// comma-separated file as one column.
type decimalCommaFlag struct {
	on  bool
	out string // the flag that names the output it applies to
}

// register adds the flag for the output named by the flag out.
func (d *decimalCommaFlag) register(f *pflag.FlagSet, out string) {
	d.out = out
	f.BoolVar(&d.on, "csv-decimal-comma", false, "write the .csv "+out+" file separated by semicolons, its numbers with decimal commas (Excel where the decimal mark is a comma, R's read.csv2); abscopal reads it back")
}

// check refuses the flag with an output that is not CSV, or none.
func (d *decimalCommaFlag) check(path string) error {
	if d.on && !strings.EqualFold(filepath.Ext(path), ".csv") {
		return usageError{fmt.Errorf("--csv-decimal-comma writes CSV: give a .csv %s file (got %q)", d.out, path)}
	}
	return nil
}
