package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

func newPredictCmd() *cobra.Command {
	var (
		decimalComma           decimalCommaFlag
		registry, ref, in, out string
		contributions, asJSON  bool
		intervals, curve       bool
		format, shard          string
		shardBase              int
	)
	cmd := &cobra.Command{
		Use:   "predict --registry DIR --model NAME[@ALIAS|:VERSION] --data FILE --out SCORES.parquet",
		Short: "Score a Parquet or CSV file with a published model (streaming)",
		Long: `predict streams the rows of FILE through a model's feature pipeline, classifier
and calibration, and writes the id, the calibrated probability, the model name
and version, and the number of imputed inputs for each row (Parquet or CSV; a
CSV file's metadata, the synthetic label among it, goes to OUT.meta.json).
Where the target has no meaning for a patient of a cohort file (an abscopal
response without radiotherapy), the probability is null and the column reason
says why, as the API does. With --contributions, each row also gets the
model's bias and every feature's contribution to the score in log-odds
(contribution_FEATURE; a GBM's are SHAP values), which add up to it: what a
notebook's summary plot of the model across patients needs. The input is
read in batches: its size is not limited by memory.

A time-to-event model (train --target os or pfs) writes instead each row's
predicted median time to the event (median_months; null when the predicted
curve stays above one half) and its probability of being event-free at 6, 12
and 24 months (survival_6, survival_12, survival_24); --curve adds the curve,
month by month (curve_1, curve_2, ...); --contributions, each feature's
contribution to the log hazard ratio.

With --format fhir and --out FILE.ndjson, each row's answer is a FHIR R4
RiskAssessment, one per line (the bulk data format): the same probabilities,
for a time-to-event model the probability of the event by each of its times
(docs/fhir.md).

With --shard i/n, only the i-th of n parts of a Parquet file is scored (its
row groups from (i-1)*G/n to i*G/n): n processes, a Kubernetes indexed Job's
pods say, score a large file between them, and their outputs in order are the
single run's, row for row (docs/deployment.md).

On stderr, or as JSON on stdout with --json (for a scheduled job to act on),
a summary: the rows scored, and by feature the values imputed, the levels
never seen in training and the values outside the training range, and the
case mix against the training rows (population stability index).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if registry == "" || ref == "" || in == "" || out == "" {
				return usageError{errors.New("--registry, --model, --data and --out are required")}
			}
			var part [2]int
			if shardBase != 0 && shardBase != 1 {
				return usageError{fmt.Errorf("--shard-base %d: 1 (parts 1 to n) or 0 (0 to n-1, a Kubernetes JOB_COMPLETION_INDEX)", shardBase)}
			}
			if shard != "" {
				if _, err := fmt.Sscanf(shard, "%d/%d", &part[0], &part[1]); err != nil || fmt.Sprintf("%d/%d", part[0], part[1]) != shard ||
					part[1] < 1 || part[0] < shardBase || part[0] > part[1]-1+shardBase {
					return usageError{fmt.Errorf("--shard %q: want i/n, the i-th of n parts, %d <= i <= n%s (2/8)", shard, shardBase, map[int]string{0: "-1", 1: ""}[shardBase])}
				}
				part[0] += 1 - shardBase
			}
			score := workflow.Score
			switch format {
			case "fhir":
				if !strings.EqualFold(filepath.Ext(out), ".ndjson") {
					return usageError{fmt.Errorf("--out %s: --format fhir writes NDJSON, one RiskAssessment per line: name the file .ndjson", out)}
				}
				if contributions || curve || decimalComma.on {
					return usageError{errors.New("--contributions, --curve and --decimal-comma are for a table: a RiskAssessment names the outcome and its probability")}
				}
				score = workflow.ScoreFHIR
			case "":
				if err := data.CheckExtension(out); err != nil {
					return usageError{fmt.Errorf("--out %w", err)}
				}
				if err := decimalComma.check(out); err != nil {
					return err
				}
			default:
				return usageError{fmt.Errorf("--format %q: fhir, or leave it out for the table --out names (.parquet or .csv)", format)}
			}
			reg, err := openRegistry(cmd.Context(), registry)
			if err != nil {
				return err
			}
			sum, err := score(cmd.Context(), reg, ref, in, out,
				models.ScoreOptions{Contributions: contributions, DecimalComma: decimalComma.on, Intervals: intervals, Curve: curve, Shard: part})
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), sum)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "scored %d rows with %s:%s (%s) into %s\n", sum.Rows, sum.Model, sum.Version, sum.Outcome, out)
			if sum.Undefined > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d of them without a probability: %s has no meaning for them (column reason)\n", sum.Undefined, sum.Target)
			}
			printInputs(cmd.ErrOrStderr(), sum.Inputs, sum.Rows-sum.Undefined)
			printCaseMix(cmd.ErrOrStderr(), sum.CaseMix)
			return nil
		},
	}
	cmd.Flags().StringVar(&registry, "registry", "", registryFlagHelp)
	cmd.Flags().StringVar(&ref, "model", "", "model: NAME (the production alias, else the latest), NAME@ALIAS or NAME:VERSION")
	cmd.Flags().StringVar(&in, "data", "", "input Parquet or CSV file")
	cmd.Flags().StringVar(&out, "out", "", "output file, .parquet or .csv (written atomically)")
	cmd.Flags().BoolVar(&intervals, "intervals", false, "also write interval_low and interval_high: the central 95% of the probabilities of the model's bootstrap models (a model trained with --instability and --intervals); for a time-to-event model, median_months_low and median_months_high, of their medians (null: not reached)")
	cmd.Flags().BoolVar(&curve, "curve", false, "a time-to-event model: also write the survival curve, a column per month (curve_1, curve_2, ...)")
	cmd.Flags().BoolVar(&contributions, "contributions", false, "also write the bias and each feature's contribution to the score (log-odds)")
	decimalComma.register(cmd.Flags(), "--out")
	cmd.Flags().StringVar(&shard, "shard", "", "i/n: score only the i-th of n parts of a Parquet file, by row group; the parts' outputs, concatenated in order, are the whole file's")
	cmd.Flags().IntVar(&shardBase, "shard-base", 1, "the first part's number in --shard: 1, or 0 for a Kubernetes indexed Job's $(JOB_COMPLETION_INDEX)")
	cmd.Flags().StringVar(&format, "format", "", "fhir: a FHIR R4 RiskAssessment per row, to a .ndjson file; default: the table --out names")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the summary (rows, inputs, case mix) as JSON on stdout")
	return cmd
}
