// Command abscopal predicts the response of non-small cell lung cancer to
// radiotherapy combined with immune checkpoint inhibitors. It generates
// synthetic cohorts, validates cohort files, engineers and exports features,
// trains and publishes models into a registry, scores files, and serves
// predictions over HTTP ("abscopal demo" does it all on synthetic data).
//
// Exit status: 0 on success, 1 when the input is invalid or the work fails,
// 2 for a usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/abscopal/abscopal/workflow"
	"github.com/spf13/cobra"
)

// exitError carries an exit status up to main without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// usageError marks errors in the command line itself (exit status 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit status. It is main
// without the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		fmt.Fprintf(stderr, "abscopal: interrupted (%v)\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "abscopal: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || errors.Is(err, workflow.ErrOptions) {
		return 2
	}
	return 1
}

// commandName is the command's path without the program's name ("models
// show"), for messages that run prefixes with "abscopal: ".
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// noArgs is cobra.NoArgs as a usage error (exit status 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("%s takes no arguments, got %q (usage: %s)", commandName(cmd), args[0], cmd.UseLine())}
	}
	return nil
}

// exactArgs is cobra.ExactArgs as a usage error (exit status 2) that gives
// the command's usage line.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError{fmt.Errorf("%s takes %d argument(s), got %d (usage: %s)", commandName(cmd), n, len(args), cmd.UseLine())}
		}
		return nil
	}
}

// unknownCommand runs when a command that only groups others (abscopal,
// abscopal models) is given a word that names none of them: a usage error
// (exit status 2) with cobra's suggestions, where cobra itself would print
// the help and exit 0 below the root. Alone, the command prints its help.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	cmd.SuggestionsMinimumDistance = 2 // cobra's default, which it sets only on its own path
	msg := fmt.Sprintf("unknown command %q (%s --help lists them)", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usageError{errors.New(msg)}
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "abscopal",
		Short: "Predict NSCLC response to radiotherapy combined with immune checkpoint inhibitors",
		Long: `abscopal builds and serves models of how a patient with non-small cell lung
cancer responds to radiotherapy combined with immune checkpoint inhibitors:
the probability of an abscopal (out-of-field) response and of an objective
response.

Synthetic cohorts (abscopal synth) are synthetic: models trained on them are
demonstrations, not clinical evidence.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE:          unknownCommand,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newDemoCmd(), newServeCmd(), newSynthCmd(), newValidateCmd(), newFeaturesCmd(), newTrainCmd(), newCompareCmd(), newModelsCmd(), newPredictCmd(), newEvaluateCmd(), newSampleSizeCmd(), newSchemaCmd(), newHealthcheckCmd(), newTokenCmd(stdout), newVersionCmd())
	return root
}
