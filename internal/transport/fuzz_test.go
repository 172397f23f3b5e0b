package transport

import (
	"net/http"
	"testing"
	"time"
)

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "0", "7", "-3", "soon", "9300000000", "99999999999999999999999", "Thu, 26 Nov 2026 12:00:42 GMT",
		"Thursday, 26-Nov-26 12:00:42 GMT", "Thu Nov 26 12:00:42 2026", " 5", "5 "} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	p := &policy{maxRetryAfter: 30 * time.Second, scale: 1}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, now)
		if ok && d < 0 {
			t.Fatalf("%q: a negative wait %v", v, d)
		}
		if !ok && d != 0 {
			t.Fatalf("%q: not read, but %v", v, d)
		}
		resp := &httpResponse{"Retry-After": v}
		if wait := p.backoff(time.Millisecond, time.Second, 0, resp.response()); wait < 0 || wait > p.maxRetryAfter && wait > time.Second {
			t.Fatalf("%q: a wait of %v, outside the cap and the backoff", v, wait)
		}
	})
}

// httpResponse builds a response with headers, for the fuzz target.
type httpResponse map[string]string

func (h httpResponse) response() *http.Response {
	resp := &http.Response{StatusCode: 429, Header: http.Header{}}
	for k, v := range h {
		resp.Header.Set(k, v)
	}
	return resp
}
