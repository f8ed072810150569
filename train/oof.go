package train

import (
	"errors"
	"fmt"
	"slices"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
)

// WriteOOF writes the out-of-fold predictions of runs made on records with
// spec and the same folds (one run of train, or compare's runs of several
// algorithms) to path, Parquet or CSV by its extension, atomically: per
// labelled row, in input order, the id, the fold (from 1), the label, the
// value of the column the folds were made by if they were, and for each run the calibrated probability (column named as in names) and
// the model's own (name_uncalibrated). They are what the reported metrics
// were computed from, for analyses of one's own. opts carries the file's
// metadata (and for a CSV, its decimal comma).
func WriteOOF(path string, spec *features.Spec, records []features.Record, idKind data.Kind, names []string, runs []*Result, opts data.WriteOptions) error {
	if len(runs) == 0 || len(names) != len(runs) {
		return errors.New("write out-of-fold predictions: a name for each run, at least one")
	}
	rows, _, _ := Labeled(spec, records)
	first := runs[0]
	for i, r := range runs {
		if len(r.OOF) != len(rows) || !slices.Equal(r.Fold, first.Fold) || !slices.Equal(r.Labels, first.Labels) {
			return fmt.Errorf("write out-of-fold predictions: run %s was not made on these rows and folds", names[i])
		}
	}
	id := spec.ID
	if id == "" {
		id = "row"
	}
	cols := []data.ColumnSpec{{Name: id, Kind: idKind, Optional: true, Distinct: true}, {Name: "fold", Kind: data.KindInt}, {Name: spec.Target.Column, Kind: data.KindBool}}
	// With folds by a column, its value names each fold.
	by := first.Options.FoldsBy
	if by != "" {
		cols = append(cols, data.ColumnSpec{Name: by, Kind: first.Options.ByKind, Optional: true})
	}
	fixed := len(cols)
	for _, n := range names {
		cols = append(cols, data.ColumnSpec{Name: n, Kind: data.KindFloat}, data.ColumnSpec{Name: n + "_uncalibrated", Kind: data.KindFloat})
	}
	w, err := data.CreateRows(path, cols, opts)
	if err != nil {
		return err
	}
	vals := make([]data.Value, len(cols))
	for i, r := range rows {
		vals[0] = data.Float(float64(i + 1))
		if spec.ID != "" {
			vals[0] = r.Value(spec.ID)
		}
		vals[1], vals[2] = data.Float(float64(first.Fold[i]+1)), data.Bool(first.Labels[i] == 1)
		if by != "" {
			vals[3] = r.Value(by)
		}
		for k, run := range runs {
			vals[fixed+2*k], vals[fixed+1+2*k] = data.Float(run.OOF[i]), data.Float(run.RawOOF[i])
		}
		if err := w.WriteRow(vals); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}
