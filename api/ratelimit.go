package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"
)

// maxLimited bounds the clients the rate limiter remembers: past it, those
// whose bucket has refilled (idle for a burst's worth of time) are
// forgotten, which costs them nothing.
const maxLimited = 10000

// rateLimiter gives each client a token bucket (golang.org/x/time/rate): a
// named client (its token's or certificate's name) one of its own, any
// other one per peer address. The address is the connection's, never a
// forwarding header a client could forge; behind a proxy it is the proxy's,
// which is then limited as one client: name the clients.
type rateLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newRateLimiter(perSecond float64, burst int) *rateLimiter {
	if burst < 1 {
		burst = max(1, int(math.Ceil(perSecond)))
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, buckets: map[string]*rate.Limiter{}}
}

// allow takes a token from key's bucket, or says how long until one is due.
func (l *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= maxLimited {
			l.forgetIdle(now)
		}
		b = rate.NewLimiter(l.limit, l.burst)
		l.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// forgetIdle drops the buckets that have refilled; if every one is in use
// (a flood from as many addresses), all of them.
func (l *rateLimiter) forgetIdle(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxLimited {
		clear(l.buckets)
	}
}

// rateLimit answers 429, with Retry-After, to a client over its rate. It
// runs after auth, which names the client.
func (s *Server) rateLimit(c *gin.Context) {
	if s.limiter == nil {
		c.Next()
		return
	}
	client := c.GetString(logClient)
	key := "client " + client
	if client == "" {
		key = "address " + c.RemoteIP()
	}
	if s.limited(c, key, client) {
		return
	}
	c.Next()
}

// refuse answers 401 to a request auth turned down, which spends a token of
// its address's bucket first: with a rate limit, guessing tokens goes no
// faster than the limit from any one address (named clients have buckets
// of their own, which a flood of bad tokens from their address leaves
// alone).
func (s *Server) refuse(c *gin.Context, why string) {
	if s.limiter != nil && s.limited(c, "address "+c.RemoteIP(), "") {
		return
	}
	abort(c, http.StatusUnauthorized, apiError{Code: codeUnauthorized, Message: why})
}

// limited takes a token from key's bucket, or answers 429 and reports true.
func (s *Server) limited(c *gin.Context, key, client string) bool {
	ok, wait := s.limiter.allow(key, time.Now())
	if ok {
		return false
	}
	secs := int(math.Ceil(wait.Seconds()))
	c.Header("Retry-After", strconv.Itoa(secs))
	s.metrics.rateLimited.WithLabelValues(client).Inc()
	abort(c, http.StatusTooManyRequests, apiError{Code: codeRateLimited,
		Message: fmt.Sprintf("over %g requests per second (burst %d) from this client; retry after %d s", float64(s.limiter.limit), s.limiter.burst, secs)})
	return true
}
