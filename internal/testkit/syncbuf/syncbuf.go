// Package syncbuf is a buffer a test reads while another goroutine writes
// to it: a served program's log (os/exec copies into it on its own
// goroutine) or a server's request log (written after the answer has gone).
package syncbuf

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// Buffer is a bytes.Buffer behind a lock. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what has been written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitFor returns the text once it holds sub n times, or after 5 s.
func (s *Buffer) WaitFor(sub string, n int) string {
	for deadline := time.Now().Add(5 * time.Second); ; {
		text := s.String()
		if strings.Count(text, sub) >= n || time.Now().After(deadline) {
			return text
		}
		time.Sleep(5 * time.Millisecond)
	}
}
