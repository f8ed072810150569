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
type decimalCommaFlag bool

func (d *decimalCommaFlag) register(f *pflag.FlagSet) {
	f.BoolVar((*bool)(d), "csv-decimal-comma", false, "write the .csv output separated by semicolons, its numbers with decimal commas (Excel where the decimal mark is a comma, R's read.csv2); abscopal reads it back")
}

// check refuses the flag with an output that is not CSV.
func (d decimalCommaFlag) check(out string) error {
	if bool(d) && !strings.EqualFold(filepath.Ext(out), ".csv") {
		return usageError{fmt.Errorf("--csv-decimal-comma writes CSV; --out %s is not a .csv file", out)}
	}
	return nil
}
