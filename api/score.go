package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/abscopal/abscopal/data"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/workflow"
	"github.com/gin-gonic/gin"
)

// scoreRoute is the route of batch scoring, whose body is a file and so
// has a limit of its own (Config.MaxUploadBytes).
const scoreRoute = "/v1/score"

// uploadTypes maps the media types /v1/score takes to the extension the
// readers know the format by.
var uploadTypes = map[string]string{
	"text/csv":                       ".csv",
	"application/vnd.apache.parquet": ".parquet",
	"application/x-parquet":          ".parquet",
}

// scoreTargets are the targets /v1/score scores, as its target parameter
// names them.
var scoreTargets = []string{data.ObjectiveResponse, data.AbscopalResponse, data.PneumonitisGrade}

// scoreResult is /v1/score's answer: what "abscopal predict --json" says,
// and the scores as "abscopal predict --out FILE.csv" writes them.
type scoreResult struct {
	Model     string `json:"model"`
	Version   string `json:"version"`
	Target    string `json:"target"`
	Outcome   string `json:"outcome"`
	Synthetic bool   `json:"trained_on_synthetic_data"`
	*models.Scored
	ScoresCSV string `json:"scores_csv"`
}

// scoreFile scores a file of patients (the body: CSV or Parquet in the
// cohort schema, or in the model's spec's columns) with the model that
// answers the target on /v1: the batch scoring of "abscopal predict", for
// a client that holds a file rather than JSON, the calculator's upload
// among them. The file lives in a temporary directory for the request only.
func (s *Server) scoreFile(c *gin.Context) {
	target := c.Query("target")
	if !isScoreTarget(target) {
		abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid, Field: "target",
			Message: fmt.Sprintf("target is one of %s, got %q", strings.Join(scoreTargets, ", "), target)})
		return
	}
	intervals, ok := wantIntervals(c)
	if !ok {
		return
	}
	ct := c.GetHeader("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	ext, ok := uploadTypes[mt]
	if !ok {
		abort(c, http.StatusUnsupportedMediaType, apiError{Code: codeMediaType,
			Message: fmt.Sprintf("Content-Type %q: send the file as text/csv or application/vnd.apache.parquet", ct)})
		return
	}
	set := s.models()
	m := set.byTarget[target]
	if m == nil {
		abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid, Field: "target",
			Message: "no model answers " + target + " on this server (/v1/models lists them)"})
		return
	}
	if intervals && len(m.Bootstrap) == 0 {
		abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid, Field: "intervals",
			Message: fmt.Sprintf("%s:%s kept no bootstrap models, so it gives no intervals", m.Bundle.Name, m.Version)})
		return
	}
	dir, err := os.MkdirTemp("", "abscopal-score-*")
	if err != nil {
		s.internal(c, "a temporary directory", err)
		return
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "upload"+ext), filepath.Join(dir, "scores.csv")
	if !s.saveUpload(c, in) {
		return
	}
	c.Set(logModels, m.Bundle.Name+":"+m.Version)
	sum, err := workflow.ScoreWith(c.Request.Context(), m, in, out, models.ScoreOptions{Intervals: intervals})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			abort(c, http.StatusServiceUnavailable, apiError{Code: codeUnavailable, Message: "the request ended before the file was scored"})
			return
		}
		// The readers' messages name the row, the column and what is
		// allowed; the temporary directory is the server's business.
		msg := strings.ReplaceAll(err.Error(), in, "the file")
		msg = strings.ReplaceAll(msg, dir+string(filepath.Separator), "")
		abort(c, http.StatusUnprocessableEntity, apiError{Code: codeInvalid, Message: msg})
		return
	}
	scores, err := os.ReadFile(out)
	if err != nil {
		s.internal(c, "reading the scores", err)
		return
	}
	c.PureJSON(http.StatusOK, scoreResult{Model: sum.Model, Version: sum.Version, Target: sum.Target, Outcome: sum.Outcome,
		Synthetic: m.Bundle.Synthetic(), Scored: sum.Scored, ScoresCSV: string(scores)})
}

func isScoreTarget(t string) bool {
	for _, x := range scoreTargets {
		if t == x {
			return true
		}
	}
	return false
}

// saveUpload writes the request's body to path, answering 413 past the
// upload limit and 400 for an empty body.
func (s *Server) saveUpload(c *gin.Context, path string) bool {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		s.internal(c, "the upload's file", err)
		return false
	}
	n, err := io.Copy(f, c.Request.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		abort(c, http.StatusRequestEntityTooLarge, apiError{Code: codeTooLarge, Message: "the file exceeds " + strconv.FormatInt(tooBig.Limit, 10) + " bytes (the server's --max-upload)"})
		return false
	case err != nil:
		abort(c, http.StatusBadRequest, apiError{Code: codeMalformed, Message: "the file could not be read from the request"})
		return false
	case n == 0:
		abort(c, http.StatusBadRequest, apiError{Code: codeMalformed, Message: "the body is empty: send the file of patients"})
		return false
	}
	return true
}

// internal answers 500 without the detail, which goes to the log under the
// request's id.
func (s *Server) internal(c *gin.Context, what string, err error) {
	s.log.Error("internal error", "request_id", c.GetString("request_id"), "what", what, "error", err)
	abort(c, http.StatusInternalServerError, apiError{Code: codeInternal, Message: "internal error; quote request id " + c.GetString("request_id")})
}
