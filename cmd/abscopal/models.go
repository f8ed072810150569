package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/internal/cardhtml"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/workflow"
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
	cmd.PersistentFlags().StringVar(&registry, "registry", "", registryFlagHelp)
	reg := func(ctx context.Context) (*models.Registry, error) {
		if registry == "" {
			return nil, usageError{errors.New("--registry is required")}
		}
		return openRegistry(ctx, registry)
	}

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List every version of every model, with its aliases, cross-validated AUC, Brier score and calibration slope, and the MAPE of its stability analysis",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := reg(cmd.Context())
			if err != nil {
				return err
			}
			entries, err := workflow.ListModels(r)
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
				if sm := e.Survival; sm != nil {
					// A time-to-event model: Harrell's C where a classifier
					// has its AUC, the integrated Brier score for its Brier.
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\tC %.3f (%.3f-%.3f)\tIBS %.4f\t-\t-\t-\t%s\n", e.Name, e.Version, strings.Join(e.Aliases, ","), e.Algo, e.Target,
						e.Rows, sm.C, sm.CLow, sm.CHigh, sm.IBS, data)
					continue
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
			r, err := reg(cmd.Context())
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
			r, err := reg(cmd.Context())
			if err != nil {
				return err
			}
			r.Actor = actor()
			// A name no model or alias can have is the command line's
			// mistake (exit 2), as train's --name is.
			for i, what := range []string{"model name", "alias"} {
				if !models.ValidName(args[i]) {
					return usageError{fmt.Errorf("%s %q: use 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit, and not v<N>", what, args[i])}
				}
			}
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
			r, err := reg(cmd.Context())
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
exits 1 if any is faulty. It removes what a publish or an alias move killed
midway left behind (a .publish-* directory, an alias's temporary file), when
it is over a minute old, and says so.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := reg(cmd.Context())
			if err != nil {
				return err
			}
			v, err := workflow.Verify(r, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, c := range v.Checks {
				switch {
				case c.Fault != "":
					fmt.Fprintf(out, "FAULT  %s: %s\n", c.What, c.Fault)
				case c.Removed:
					fmt.Fprintf(out, "removed %s (left by a publish or an alias move that was killed)\n", c.What)
				case c.Leftover:
					fmt.Fprintf(out, "kept   %s (under a minute old: another process may be writing it)\n", c.What)
				default:
					fmt.Fprintf(out, "ok     %s\n", c.What)
				}
			}
			if v.Faults > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "abscopal: %d %s in registry %s\n", v.Faults, plural(v.Faults, "fault", "faults"), r.Location())
				return exitError{1}
			}
			return nil
		},
	}
	cmd.AddCommand(list, show, alias, history, verify, newReproduceCmd(reg), newRecalibrateCmd(reg))
	return cmd
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

// plural is one or many, by n.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
