package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/models"
	"github.com/spf13/cobra"
)

func newPredictCmd() *cobra.Command {
	var registry, ref, in, out string
	cmd := &cobra.Command{
		Use:   "predict --registry DIR --model NAME[@ALIAS|:VERSION] --data FILE --out SCORES.parquet",
		Short: "Score a Parquet file with a published model (streaming)",
		Long: `predict streams the rows of FILE through a model's feature pipeline, classifier
and calibration, and writes the id, the calibrated probability, the model name
and version, and the number of imputed inputs for each row (Parquet or CSV; a
CSV file's metadata, the synthetic label among it, goes to OUT.meta.json).
Where the target has no meaning for a patient of a cohort file (an abscopal
response without radiotherapy), the probability is null and the column reason
says why, as the API does. The input is read in batches: its size is not
limited by memory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if registry == "" || ref == "" || in == "" || out == "" {
				return usageError{errors.New("--registry, --model, --data and --out are required")}
			}
			ext := strings.ToLower(filepath.Ext(out))
			if ext != ".parquet" && ext != ".csv" {
				return usageError{fmt.Errorf("--out %s: the extension must be .parquet or .csv", out)}
			}
			m, err := (&models.Registry{Dir: registry}).Load(ref)
			if err != nil {
				return err
			}
			b := m.Bundle
			spec := *b.Pipeline.Spec // a copy: OpenSource may trim its kept columns
			src, err := features.OpenSource(cmd.Context(), in, &spec, false)
			if err != nil {
				return err
			}
			defer src.Close()
			cols := []data.ColumnSpec{
				{Name: spec.ID, Kind: src.Kind(spec.ID), Optional: true},
				{Name: "probability", Kind: data.KindFloat, Optional: true},
				{Name: "model", Kind: data.KindString},
				{Name: "version", Kind: data.KindString},
				{Name: "imputed_inputs", Kind: data.KindInt, Optional: true},
				{Name: "reason", Kind: data.KindString, Optional: true}, // why the probability is null
			}
			md := map[string]string{"abscopal.model": b.Name + ":" + m.Version, "abscopal.target": b.Target}
			if b.Training.Synthetic || src.Synthetic() {
				md["abscopal.synthetic"] = "true"
			}
			var w data.RowWriter
			if ext == ".csv" {
				w, err = data.CreateCSV(out, cols, data.WriteOptions{Metadata: md})
			} else {
				w, err = data.CreateTable(out, cols, data.WriteOptions{Metadata: md})
			}
			if err != nil {
				return err
			}
			n, undefined := 0, 0
			vals := make([]data.Value, len(cols))
			err = src.Each(cmd.Context(), func(r features.Record) error {
				vals[0], vals[2], vals[3] = r.Value(spec.ID), data.String(b.Name), data.String(m.Version)
				why := ""
				if pr, ok := r.(features.PatientRecord); ok { // a cohort file
					why = pr.P.Undefined(b.Target)
				}
				if why != "" {
					vals[1], vals[4], vals[5] = data.Null, data.Null, data.String(why)
					undefined++
				} else {
					p := m.Predict(r)
					vals[1], vals[4], vals[5] = data.Float(p.Probability), data.Float(float64(len(p.Notes.Imputed))), data.Null
				}
				n++
				return w.WriteRow(vals)
			})
			if err != nil {
				w.Abort()
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "scored %d rows with %s:%s (%s) into %s\n", n, b.Name, m.Version, b.Target, out)
			if undefined > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d of them without a probability: %s has no meaning for them (column reason)\n", undefined, b.Target)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&registry, "registry", "", "registry directory")
	cmd.Flags().StringVar(&ref, "model", "", "model: NAME (the production alias, else the latest), NAME@ALIAS or NAME:VERSION")
	cmd.Flags().StringVar(&in, "data", "", "input Parquet file")
	cmd.Flags().StringVar(&out, "out", "", "output file, .parquet or .csv (written atomically)")
	return cmd
}
