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
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/predict", strings.NewReader(sbrtPatient)))
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
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/bench/echo", strings.NewReader(sbrtPatient)))
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
				h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/v1/predict"+q, strings.NewReader(sbrtPatient)))
				if w.Code != 200 {
					b.Fatal(w.Code, w.Body.String())
				}
			}
		})
	}
}
