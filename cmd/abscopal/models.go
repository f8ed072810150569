package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/internal/cardhtml"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/stats"
	"github.com/spf13/cobra"
)

func newModelsCmd() *cobra.Command {
	var registry string
	cmd := &cobra.Command{
		Use:   "models list|show|alias|history|verify|reproduce|recalibrate",
		Short: "List, show, alias, verify, reproduce and recalibrate the models of a registry",
		Args:  cobra.ArbitraryArgs,
		RunE:  unknownCommand,
	}
	cmd.PersistentFlags().StringVar(&registry, "registry", "", "registry directory")
	reg := func() (*models.Registry, error) {
		if registry == "" {
			return nil, usageError{errors.New("--registry is required")}
		}
		return &models.Registry{Dir: registry}, nil
	}

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List every version of every model, with its aliases, cross-validated AUC, Brier score and calibration slope, and the MAPE of its stability analysis",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := reg()
			if err != nil {
				return err
			}
			entries, err := listModels(r)
			if err != nil {
				return err
			}
			if listJSON {
				return printJSON(cmd.OutOrStdout(), entries)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			// The cross-validated metrics side by side, so that algorithms
			// trained on the same data and seed (the same folds) compare.
			fmt.Fprintln(tw, "MODEL\tVERSION\tALIASES\tALGO\tTARGET\tROWS\tAUC (CV, 95% CI)\tBRIER\tCAL. SLOPE\tICI\tMAPE\tDATA")
			for _, e := range entries {
				if e.Error != "" {
					fmt.Fprintf(tw, "%s\t%s\t%s\t(unreadable: %s)\n", e.Name, e.Version, strings.Join(e.Aliases, ","), e.Error)
					continue
				}
				data := "real"
				if e.Synthetic {
					data = "SYNTHETIC"
				}
				if e.RecalibratedFrom != "" {
					data += ", recalibrated " + e.RecalibratedFrom
				}
				cv := e.CrossValidated
				mape := "-" // trained without a stability analysis
				if e.Instability != nil {
					mape = fmt.Sprintf("%.3f", e.Instability.MAPE)
				}
				ici := "-" // trained before abscopal measured it
				if len(cv.Smooth) > 0 {
					ici = fmt.Sprintf("%.3f", cv.ICI)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%.3f (%.3f-%.3f)\t%.4f\t%.3f\t%s\t%s\t%s\n", e.Name, e.Version, strings.Join(e.Aliases, ","), e.Algo, e.Outcome,
					e.Rows, cv.AUC, cv.AUCLow, cv.AUCHigh, cv.Brier, cv.CalSlope, ici, mape, data)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON (one object per version, its cross-validated metrics whole) instead of the table")

	var (
		asJSON   bool
		htmlPath string
	)
	show := &cobra.Command{
		Use:   "show NAME[@ALIAS|:VERSION]",
		Short: "Print a model's card (or, with --json, its training record and metrics; with --html, write it as one HTML file)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && htmlPath != "" {
				return usageError{errors.New("--json and --html: give one")}
			}
			if htmlPath != "" && strings.ToLower(filepath.Ext(htmlPath)) != ".html" {
				return usageError{fmt.Errorf("--html %s: the extension must be .html", htmlPath)}
			}
			r, err := reg()
			if err != nil {
				return err
			}
			m, files, err := r.LoadFiles(args[0])
			if err != nil {
				return err
			}
			b := m.Bundle
			if htmlPath != "" {
				page, err := cardhtml.Render(fmt.Sprintf("Model card: %s:%s", b.Name, m.Version), files["card.md"], files)
				if err != nil {
					return fmt.Errorf("%s:%s: %w", b.Name, m.Version, err)
				}
				if err := data.WriteFileAtomic(htmlPath, page); err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "wrote the card of %s:%s, its plots inlined, to %s\n", b.Name, m.Version, htmlPath)
				return nil
			}
			if !asJSON {
				fmt.Fprintf(cmd.OutOrStdout(), "<!-- %s:%s -->\n%s", b.Name, m.Version, files["card.md"])
				return nil
			}
			out := map[string]any{"name": b.Name, "version": m.Version, "algo": b.Algo, "target": b.Target, "outcome": b.Outcome(),
				"training": b.Training, "metrics": b.Metrics, "inputs": b.Pipeline.Outputs}
			if b.Recalibrated != nil {
				out["recalibrated"] = b.Recalibrated
			}
			return printJSON(cmd.OutOrStdout(), out)
		},
	}
	show.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of the card")
	show.Flags().StringVar(&htmlPath, "html", "", "write the card to this .html file instead, its plots inlined: one file to send")

	alias := &cobra.Command{
		Use:   "alias NAME ALIAS VERSION",
		Short: "Point an alias (production, staging, ...) at a version (v3, or 3)",
		Args:  exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := reg()
			if err != nil {
				return err
			}
			r.Actor = actor()
			version := models.CanonicalVersion(args[2])
			if err := r.SetAlias(args[0], args[1], version); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s@%s -> %s\n", args[0], args[1], version)
			return nil
		},
	}
	var historyJSON bool
	history := &cobra.Command{
		Use:   "history NAME",
		Short: "List every move of a model's aliases: when, from which version to which, by whom",
		Long: `history lists every move of a model's aliases, oldest first, as "models alias"
recorded them in the registry (NAME/ALIAS_HISTORY): which version answered as
production on a given day, and who made it so. Moves made before the history
was kept are not in it.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := reg()
			if err != nil {
				return err
			}
			if _, err := r.Versions(args[0]); err != nil {
				return err
			}
			changes, err := r.AliasHistory(args[0])
			if err != nil {
				return err
			}
			if historyJSON {
				return printJSON(cmd.OutOrStdout(), append([]models.AliasChange{}, changes...))
			}
			if len(changes) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: no alias moves recorded\n", args[0])
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TIME (UTC)\tALIAS\tVERSION\tBEFORE\tBY")
			for _, c := range changes {
				before := c.Previous
				if before == "" {
					before = "-"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Time.Format(time.DateTime), c.Alias, c.Version, before, c.By)
			}
			return tw.Flush()
		},
	}
	history.Flags().BoolVar(&historyJSON, "json", false, "print JSON")
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check every version against its MANIFEST and every alias against its version; exit 1 on any fault",
		Long: `verify reads every version of every model of the registry, checks each file
against the version's MANIFEST (SHA-256) and decodes its bundle, and checks
that each alias points at a version that exists: an audit to run after a copy,
a restore or on a schedule. It prints one line per version and alias, and
exits 1 if any is faulty.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := reg()
			if err != nil {
				return err
			}
			names, err := r.Names()
			if err != nil {
				return err
			}
			out, faults := cmd.OutOrStdout(), 0
			fault := func(format string, a ...any) {
				faults++
				fmt.Fprintf(out, "FAULT  "+format+"\n", a...)
			}
			for _, n := range names {
				versions, err := r.Versions(n)
				if err != nil {
					fault("%s: %v", n, err)
					continue
				}
				for _, v := range versions {
					if _, err := r.Load(n + ":" + v); err != nil {
						fault("%s:%s: %v", n, v, err)
						continue
					}
					fmt.Fprintf(out, "ok     %s:%s\n", n, v)
				}
				aliases, err := r.Aliases(n)
				if err != nil {
					fault("%s: aliases: %v", n, err)
					continue
				}
				for _, a := range slices.Sorted(maps.Keys(aliases)) {
					if v := aliases[a]; !slices.Contains(versions, v) {
						fault("%s@%s: points at %q, which is not a version", n, a, v)
					} else {
						fmt.Fprintf(out, "ok     %s@%s -> %s\n", n, a, v)
					}
				}
			}
			if faults > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "abscopal: %d faults in registry %s\n", faults, r.Dir)
				return exitError{1}
			}
			return nil
		},
	}
	cmd.AddCommand(list, show, alias, history, verify, newReproduceCmd(reg), newRecalibrateCmd(reg))
	return cmd
}

// listEntry is one version in "models list".
type listEntry struct {
	Name      string   `json:"name"`
	Version   string   `json:"version"`
	Aliases   []string `json:"aliases"`
	Algo      string   `json:"algo,omitempty"`
	Target    string   `json:"target,omitempty"`
	Outcome   string   `json:"outcome,omitempty"` // with its threshold: pneumonitis_grade >= 2
	Rows      int      `json:"rows,omitempty"`
	Synthetic bool     `json:"trained_on_synthetic_data"`
	// RecalibratedFrom names the version whose model this one recalibrates;
	// the cross-validated metrics are that version's.
	RecalibratedFrom string        `json:"recalibrated_from,omitempty"`
	CrossValidated   stats.Metrics `json:"cross_validated,omitzero"`
	// Instability is the stability analysis of a version trained with
	// --instability.
	Instability *stats.Instability `json:"instability,omitempty"`
	Error       string             `json:"error,omitempty"` // why the version cannot be loaded
}

// listModels reads every version of every model of r, with its aliases; a
// version that cannot be loaded is listed with the reason.
func listModels(r *models.Registry) ([]listEntry, error) {
	names, err := r.Names()
	if err != nil {
		return nil, err
	}
	entries := []listEntry{}
	for _, n := range names {
		versions, err := r.Versions(n)
		if err != nil {
			entries = append(entries, listEntry{Name: n, Aliases: []string{}, Error: err.Error()})
			continue
		}
		aliases, _ := r.Aliases(n)
		for _, v := range versions {
			e := listEntry{Name: n, Version: v, Aliases: []string{}}
			for a, av := range aliases {
				if av == v {
					e.Aliases = append(e.Aliases, a)
				}
			}
			sort.Strings(e.Aliases)
			m, err := r.Load(n + ":" + v)
			if err != nil {
				e.Error = err.Error()
			} else {
				b := m.Bundle
				e.Algo, e.Target, e.Outcome, e.Rows, e.Synthetic = b.Algo, b.Target, b.Outcome(), b.Training.Rows, b.Synthetic()
				e.CrossValidated, e.Instability = recordedMetrics(b)
				if b.Recalibrated != nil {
					e.RecalibratedFrom = b.Recalibrated.From
				}
			}
			entries = append(entries, e)
		}
	}
	return entries, nil
}

// recordedMetrics returns the cross-validated metrics of the calibrated
// model that training recorded in b, and its stability analysis if any.
func recordedMetrics(b *models.Bundle) (stats.Metrics, *stats.Instability) {
	var m struct {
		CV          stats.Metrics      `json:"cross_validated"`
		Instability *stats.Instability `json:"instability"`
	}
	json.Unmarshal(b.Metrics, &m) // written by train.Bundle; zeros if absent
	return m.CV, m.Instability
}

// actor names the user moving an alias, for the registry's alias history:
// the login name, else $USER, else "unknown".
func actor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
