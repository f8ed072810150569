package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
