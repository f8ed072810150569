package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

func newDemoCmd() *cobra.Command {
	var (
		f    serveFlags
		n    int
		seed uint64
		dir  string
		keep bool
	)
	cmd := &cobra.Command{
		Use:   "demo [--addr 127.0.0.1:8080]",
		Short: "Generate a SYNTHETIC cohort, train three models, and serve them",
		Long: `demo is abscopal's first run: it writes a synthetic cohort, trains the abscopal
response and objective response models (gbm) and a model of grade 2 or worse
pneumonitis (logistic), each with 5-fold CV and calibrated, into a registry,
prints example requests, and serves the API until Ctrl-C, on this machine
only unless --addr says otherwise (--addr :8080 for every interface). Its
temporary directory is removed when it stops, unless --keep (or --dir).

Everything it trains comes from SYNTHETIC data: a demonstration, not clinical
evidence.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			out := cmd.ErrOrStderr()
			ln, err := f.listen()
			if err != nil {
				return err
			}
			defer ln.Close() // on the paths that return before serving
			if dir == "" {
				if dir, err = os.MkdirTemp("", "abscopal-demo-"); err != nil {
					return err
				}
				if !keep {
					defer func() {
						os.RemoveAll(dir)
						fmt.Fprintf(out, "removed %s (--keep keeps it)\n", dir)
					}()
				}
			} else if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			fmt.Fprintf(out, "abscopal demo: SYNTHETIC data, not for clinical use\n")
			step := 0
			demo, err := workflow.Demo(ctx, workflow.DemoOptions{Dir: dir, Patients: n, Seed: seed,
				Step: func(msg string) { step++; fmt.Fprintf(out, "%d/6 %s\n", step, msg) },
				Trained: func(m workflow.DemoModel) {
					if s := m.Survival; s != nil {
						met := s.Result.Metrics
						fmt.Fprintf(out, "    %s:%s cross-validated Harrell's C %.3f (95%% CI %.3f-%.3f), integrated Brier score %.3f (null %.3f)\n",
							m.Name, s.Version, met.C, met.CLow, met.CHigh, met.IBS, met.NullIBS)
						return
					}
					met := m.Result.Metrics
					fmt.Fprintf(out, "    %s:%s cross-validated AUC %.3f (95%% CI %.3f-%.3f), calibration slope %.2f\n",
						m.Name, m.Version, met.AUC, met.AUCLow, met.AUCHigh, met.CalSlope)
				}})
			if err != nil {
				return err
			}
			cohort, registry := demo.Cohort, demo.Registry
			base := "http://" + ln.Addr().String()
			if a, ok := ln.Addr().(*net.TCPAddr); ok && a.IP.IsUnspecified() {
				base = fmt.Sprintf("http://localhost:%d", a.Port) // --addr :0 gives the port chosen
			}
			metrics := base // /metrics, on the API's address or its own
			if f.metricsAddr != "" {
				metrics = "http://" + f.metricsAddr
				if strings.HasPrefix(f.metricsAddr, ":") {
					metrics = "http://localhost" + f.metricsAddr
				}
			}
			fmt.Fprintf(out, `
Serving on %[1]s (Ctrl-C to stop).
%[6]s
Try:

  curl -s %[1]s/v1/predict -H 'Content-Type: application/json' -d '{"patient_id": "demo-1", "ici_class": "pd1", "pdl1_tps": 5, "mhc1_status": "high", "alc": 1.6, "rt_dose_gy": 24, "rt_fractions": 3, "rt_site": "lung", "rt_ici_sequence": "concurrent"}'
  curl -s %[1]s/v1/regimens/compare -H 'Content-Type: application/json' -d '{"patient": {"patient_id": "demo-2", "ici_class": "pd1", "pdl1_tps": 0, "alc": 1.1}, "rank_by": "abscopal_response"}'
  curl -s %[1]s/v1/models
  %[1]s/v1/models/response/files/card.html (in a browser: a model card, its plots and survival curves)
  curl -s %[1]s/v1/schema
  curl -s %[1]s/v2/models/abscopal/infer -H 'Content-Type: application/json' -d '{"inputs": [{"name": "ici_class", "datatype": "BYTES", "shape": [1], "data": ["pd1"]}, {"name": "rt_dose_gy", "datatype": "FP64", "shape": [1], "data": [24]}, {"name": "rt_fractions", "datatype": "INT64", "shape": [1], "data": [3]}, {"name": "rt_site", "datatype": "BYTES", "shape": [1], "data": ["lung"]}]}'
  curl -s %[5]s/metrics | grep abscopal_

Registry: %[2]s (abscopal models list --registry %[2]s)
Compare the algorithms on the demo cohort: abscopal compare --data %[3]s --target abscopal_response
Validate a model on new patients: abscopal synth --n 3000 --seed 7 --out %[4]s && abscopal evaluate --registry %[2]s --model abscopal --data %[4]s
`, base, registry, cohort, filepath.Join(dir, "new_patients.parquet"), metrics, calculator(f.ui, base))
			return f.serve(ctx, ln, registry, out)
		},
	}
	f.register(cmd, "127.0.0.1:8080")
	cmd.Flags().IntVar(&n, "n", 5000, "synthetic patients")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the cohort and the training")
	cmd.Flags().StringVar(&dir, "dir", "", "working directory, kept (default: a new temporary directory, removed on exit)")
	cmd.Flags().BoolVar(&keep, "keep", false, "keep the temporary directory (cohort and registry) on exit")
	return cmd
}

// calculator is the line that gives the what-if calculator's address.
func calculator(on bool, base string) string {
	if !on {
		return "The what-if calculator is off (--ui=false)."
	}
	return "Open the what-if calculator in a browser: " + base + "/"
}
