// Servers that misbehave (never answer, trickle, lie about their pages): every call ends, typed.

package loyalty

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hijack takes the raw connection of a request, to misbehave below HTTP.
func hijack(t *testing.T, w http.ResponseWriter) net.Conn {
	conn, _, err := http.NewResponseController(w).Hijack()
	require.NoError(t, err)
	return conn
}

// typed reports whether err is one of the SDK's own error types.
func typed(err error) bool {
	var (
		apiErr   *APIError
		reqErr   *RequestError
		decErr   *DecodeError
		unknown  *OutcomeUnknownError
		redirect *RedirectError
	)
	return errors.As(err, &apiErr) || errors.As(err, &reqErr) || errors.As(err, &decErr) || errors.As(err, &unknown) || errors.As(err, &redirect)
}

// TestMisbehavingServers: each server ends the call in a typed error within the caller's
// deadline, with no panic; TestMain checks that nothing leaks.
func TestMisbehavingServers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		handler func(t *testing.T, stop <-chan struct{}) http.HandlerFunc
		post    bool  // send a card action rather than a read
		want    error // a sentinel the error must match, or nil for any typed error
		unknown bool  // the error must say the outcome is unknown
	}{
		{"a body that trickles a byte a second", func(t *testing.T, stop <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "4096")
				for _, b := range []byte(`{"data":{"id":"1"`) {
					if _, err := w.Write([]byte{b}); err != nil {
						return
					}
					http.NewResponseController(w).Flush()
					select {
					case <-time.After(time.Second):
					case <-stop:
						return
					case <-r.Context().Done():
						return
					}
				}
			}
		}, false, context.DeadlineExceeded, false},
		{"a body that stops mid-JSON", func(t *testing.T, _ <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "500")
				_, _ = w.Write([]byte(`{"code":200,"data":{"id":"1-2-3","bal`))
				http.NewResponseController(w).Flush()
				_ = hijack(t, w).Close()
			}
		}, false, nil, false},
		{"Content-Length longer than the body", func(t *testing.T, _ <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				conn := hijack(t, w)
				_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"data\":{}}"))
				_ = conn.Close()
			}
		}, false, nil, false},
		{"Content-Length shorter than the body", func(t *testing.T, _ <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				conn := hijack(t, w)
				_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{\"data\":{\"id\":\"1-2-3\"}}"))
				_ = conn.Close()
			}
		}, false, nil, false},
		{"a 200 whose envelope says 500", func(t *testing.T, _ <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`{"code":500,"message":"Internal error","responseId":"r-1","data":null}`))
			}
		}, false, ErrServerError, false},
		{"a 200 whose envelope says 500, to an action", func(t *testing.T, _ <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`{"code":"500","message":"Internal error"}`))
			}
		}, true, ErrServerError, true},
		{"an envelope without data", func(t *testing.T, _ <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`{"code":200,"responseId":"r-1"}`))
			}
		}, false, nil, false},
		{"data null", func(t *testing.T, _ <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"code":200,"data": null}`)) }
		}, false, nil, false},
		{"an array for an object", func(t *testing.T, _ <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(`{"code":200,"data":[{"id":"1"}]}`))
			}
		}, false, nil, false},
		{"gzip that is not gzip", func(t *testing.T, _ <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Encoding", "gzip")
				_, _ = w.Write([]byte("this is not gzip at all"))
			}
		}, false, nil, false},
		{"a header block of 1 MB", func(t *testing.T, _ <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				conn := hijack(t, w)
				_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nX-Junk: " + strings.Repeat("x", 1<<20) + "\r\nContent-Length: 2\r\n\r\n{}"))
				_ = conn.Close()
			}
		}, false, nil, false},
		{"a connection reset between header and body, to an action", func(t *testing.T, _ <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				conn := hijack(t, w)
				_, _ = conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n"))
				if tcp, ok := conn.(*net.TCPConn); ok {
					_ = tcp.SetLinger(0) // RST, not FIN
				}
				_ = conn.Close()
			}
		}, true, nil, true},
		{"a server that never answers", func(t *testing.T, stop <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-stop:
				case <-r.Context().Done():
				}
			}
		}, false, context.DeadlineExceeded, false},
		{"a server that never answers an action", func(t *testing.T, stop <-chan struct{}) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-stop:
				case <-r.Context().Done():
				}
			}
		}, true, context.DeadlineExceeded, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stop := make(chan struct{})
			c, ts := setup(t, WithRetryMax(1))
			ts.handle("/api/v2/cards/", tt.handler(t, stop))
			t.Cleanup(func() { close(stop) })
			const deadline = 700 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			var err error
			require.NotPanics(t, func() {
				if tt.post {
					_, _, err = c.Cards.AddStamps(ctx, "1-2-3", 1, &ActionOptions{CardType: CardTypeStamp})
				} else {
					_, _, err = c.Cards.Get(ctx, "1-2-3")
				}
			})
			require.Error(t, err)
			assert.True(t, typed(err), "a typed error: %T %v", err, err)
			// The deadline ends the call; the margin is for a loaded machine, far below what a
			// hang would take (the trickle alone would take over an hour).
			assert.Less(t, time.Since(start), deadline+10*time.Second, "within the caller's deadline")
			if tt.want != nil {
				assert.ErrorIs(t, err, tt.want)
			}
			assert.Equal(t, tt.unknown, IsOutcomeUnknown(err), "%v", err)
			assert.NotContains(t, err.Error(), testKey)
		})
	}
}

func TestMisbehavingListServer(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("GET /api/v2/cards", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"code":200,"data":{"id":"1"}}`))
	})
	_, _, err := c.Cards.List(context.Background(), nil)
	var decErr *DecodeError
	require.ErrorAs(t, err, &decErr, "an object where a list belongs")
}
