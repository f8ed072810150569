package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/modeltest"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
	"github.com/gin-gonic/gin"
)

// BenchmarkPredict measures the predict handler in-process (no network):
// one SBRT patient, both targets.
func BenchmarkPredict(b *testing.B) {
	s := newServerB(b)
	h := s.Handler()
	b.ReportAllocs()
	for range b.N {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, jsonRequest("/v1/predict", sbrtPatient))
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// BenchmarkEcho is the peer: the same engine and middleware, no model work.
func BenchmarkEcho(b *testing.B) {
	s := newServerB(b)
	s.Engine().POST("/bench/echo", func(c *gin.Context) { // as bench/serve's echo
		b, err := io.ReadAll(c.Request.Body)
		if err != nil {
			c.AbortWithStatus(http.StatusBadRequest)
			return
		}
		c.Data(http.StatusOK, "application/json", b)
	})
	h := s.Handler()
	b.ReportAllocs()
	for range b.N {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, jsonRequest("/bench/echo", sbrtPatient))
	}
}

// BenchmarkPredictIntervals is BenchmarkPredict with ?intervals=true
// against a model that kept 200 bootstrap models (logistic, 1,200
// synthetic patients): the cost of an interval, a prediction per bootstrap
// model, beside BenchmarkPredict's.
func BenchmarkPredictIntervals(b *testing.B) {
	reg := &models.Registry{Dir: b.TempDir()}
	files := modeltest.FilesWith(b, "response", features.BuiltinSpec("objective_response"), 1200, 2,
		train.Options{Algo: "logistic", Folds: 3, Seed: 2, Bootstrap: 10, Instability: 200, Intervals: true})
	if _, err := reg.Publish("response", files); err != nil {
		b.Fatal(err)
	}
	h := newServer(b, Config{Registry: reg.Dir}).Handler()
	for _, q := range []string{"", "?intervals=true"} {
		b.Run("query="+q, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, jsonRequest("/v1/predict"+q, sbrtPatient))
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}

// BenchmarkPredictBatch is BenchmarkPredict with a batch of 100 patients a
// request: ns/patient beside BenchmarkPredict's ns/op is what a batch saves.
func BenchmarkPredictBatch(b *testing.B) {
	h := newServerB(b).Handler()
	body := `{"patients": [` + strings.TrimSuffix(strings.Repeat(sbrtPatient+",", 100), ",") + `]}`
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, jsonRequest("/v1/predict", body))
		if w.Code != 200 {
			b.Fatal(w.Code, w.Body.String())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(100*b.N), "ns/patient")
}

// jsonRequest is a POST of body as application/json, as the API requires.
func jsonRequest(path, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}
