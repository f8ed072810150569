package workflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/features"
)

// ErrOptions is wrapped by the errors of options a use case cannot take,
// found before any work (an *OptionError): a caller that takes them from
// a command line reports a usage error.
var ErrOptions = errors.New("invalid options")

// OptionError is an option a use case cannot take. Its message is Err's
// alone: a caller names the option in its own terms (a flag).
type OptionError struct{ Err error }

func (e *OptionError) Error() string   { return e.Err.Error() }
func (e *OptionError) Unwrap() []error { return []error{ErrOptions, e.Err} }

// optionError is an *OptionError of the message format makes.
func optionError(format string, a ...any) error {
	return &OptionError{fmt.Errorf(format, a...)}
}

// FileSHA256 returns the SHA-256 of the file at path, in hex: what a bundle
// records of its training data.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// TrainingData is a training file's records as ReadTraining reads them.
type TrainingData struct {
	// Spec is the spec the records were read with, less what the file
	// cannot give (features.Source.Spec): the one to train with.
	Spec      *features.Spec
	Records   []features.Record
	Synthetic bool
	ByKind    data.Kind // of the subgroup column, if one was asked for
	IDKind    data.Kind // of the spec's id column
	// Dropped lists the built-in features the file's columns cannot give.
	Dropped []string
}

// ReadTraining reads every record of a training file, with the column by
// (a subgroup column, if not "") and the columns of the survival endpoints
// besides the spec's.
func ReadTraining(ctx context.Context, path string, spec *features.Spec, by string, survival []string) (*TrainingData, error) {
	var opts features.SourceOptions
	if by != "" {
		opts.Also = []string{by}
	}
	for _, name := range survival {
		if e, ok := data.EndpointOf(name); ok {
			opts.Also = append(opts.Also, e.Time, e.Event)
		}
	}
	opts.NeedTarget = true
	src, err := features.OpenSource(ctx, path, spec, opts)
	if err != nil {
		return nil, spec.AdviseSpec(err)
	}
	defer src.Close()
	td := &TrainingData{Spec: src.Spec(), Synthetic: src.Synthetic(), IDKind: src.Kind(spec.ID), Dropped: src.Dropped()}
	if td.Records, err = src.All(ctx); err != nil {
		return nil, err
	}
	if by != "" {
		td.ByKind = src.Kind(by)
	}
	return td, nil
}

// notice of the columns a file lacks, as the commands print it.
func droppedNotice(dropped []string) string {
	return fmt.Sprintf("left out (the file lacks their columns): %v", dropped)
}

// CheckEndpoints refuses a list of survival endpoints naming one that is
// not data.Endpoints', or one twice.
func CheckEndpoints(survival []string) error {
	seen := map[string]bool{}
	for _, e := range survival {
		if _, ok := data.EndpointOf(e); !ok || seen[e] {
			return optionError("survival endpoints %s: name each of %v once", strings.Join(survival, ","), data.EndpointNames())
		}
		seen[e] = true
	}
	return nil
}

// CheckOutput refuses an output path that cannot be written as Parquet or
// CSV, before any work.
func CheckOutput(path string) error {
	if err := data.CheckExtension(path); err != nil {
		return optionError("%w", err)
	}
	return data.CheckWritable(path)
}
