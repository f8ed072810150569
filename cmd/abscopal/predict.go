package main

import (
	"errors"
	"fmt"
	"io"
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
and version, and the number of imputed inputs for each row (Parquet or CSV).
The input is read in batches: its size is not limited by memory.`,
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
				{Name: "probability", Kind: data.KindFloat},
				{Name: "model", Kind: data.KindString},
				{Name: "version", Kind: data.KindString},
				{Name: "imputed_inputs", Kind: data.KindInt},
			}
			md := map[string]string{"abscopal.model": b.Name + ":" + m.Version, "abscopal.target": b.Target}
			if b.Training.Synthetic || src.Synthetic() {
				md["abscopal.synthetic"] = "true"
			}
			var w data.RowWriter
			if ext == ".csv" {
				w, err = data.CreateCSV(out, cols)
			} else {
				w, err = data.CreateTable(out, cols, data.WriteOptions{Metadata: md})
			}
			if err != nil {
				return err
			}
			n := 0
			vals := make([]data.Value, len(cols))
			for {
				batch, err := src.Next(cmd.Context())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					w.Abort()
					return err
				}
				for _, r := range batch {
					p := m.Predict(r)
					vals[0] = r.Value(spec.ID)
					vals[1] = data.Float(p.Probability)
					vals[2] = data.String(b.Name)
					vals[3] = data.String(m.Version)
					vals[4] = data.Float(float64(len(p.Notes.Imputed)))
					if err := w.WriteRow(vals); err != nil {
						w.Abort()
						return err
					}
					n++
				}
			}
			if err := w.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "scored %d rows with %s:%s (%s) into %s\n", n, b.Name, m.Version, b.Target, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&registry, "registry", "", "registry directory")
	cmd.Flags().StringVar(&ref, "model", "", "model: NAME (the production alias, else the latest), NAME@ALIAS or NAME:VERSION")
	cmd.Flags().StringVar(&in, "data", "", "input Parquet file")
	cmd.Flags().StringVar(&out, "out", "", "output file, .parquet or .csv (written atomically)")
	return cmd
}
