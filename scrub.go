package loyalty

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// A server may echo what it was sent: a key in an error message, a password in a field error.
// What comes back is masked before anyone sees it, in every form the secret could travel in.

// forms are the ways secret may come back: as it is, JSON-escaped the way Go writes it and
// the way PHP does (which writes "/" as "\/"), and percent-encoded. A key of letters, digits,
// '-' and '_' has only the first.
func forms(secret string) []string {
	out := []string{secret}
	add := func(f string) {
		for _, have := range out {
			if have == f {
				return
			}
		}
		out = append(out, f)
	}
	if !plain(secret) {
		quoted, _ := json.Marshal(secret)
		escaped := string(quoted[1 : len(quoted)-1])
		add(escaped)
		add(strings.ReplaceAll(escaped, "/", `\/`))
		add(strings.ReplaceAll(secret, "/", `\/`))
		add(url.QueryEscape(secret))
		add(url.PathEscape(secret))
	}
	return out
}

// plain reports a secret that every encoding writes as it is: printable ASCII, none of it
// escaped by JSON, a URL's query or path. Every answer is searched for every secret, so this
// is a table look-up per byte.
func plain(secret string) bool {
	for i := 0; i < len(secret); i++ {
		if escapes[secret[i]] {
			return false
		}
	}
	return true
}

// escapes marks the bytes that some encoding of a secret changes.
var escapes = func() (t [256]bool) {
	for b := range t {
		t[b] = b > 0x7e || b < 0x20 || strings.IndexByte(`/"\<>&+ %?#=`, byte(b)) >= 0
	}
	return t
}()

// scrubBytes masks every form of each secret in b, in place when it can.
func scrubBytes(b []byte, secrets []string) []byte {
	for _, s := range secrets {
		if !bytes.Contains(b, []byte(s)) && plain(s) {
			continue // the common case: a plain key, not there
		}
		for _, f := range forms(s) {
			if bytes.Contains(b, []byte(f)) {
				b = bytes.ReplaceAll(b, []byte(f), []byte(redacted))
			}
		}
	}
	return b
}

// scrubString masks every form of each secret in s.
func scrubString(s string, secrets []string) string {
	for _, secret := range secrets {
		if len(s) < len(secret) || !strings.Contains(s, secret) && plain(secret) {
			continue // the common case: a plain key, not there (every form is at least as long)
		}
		for _, f := range forms(secret) {
			if strings.Contains(s, f) {
				s = strings.ReplaceAll(s, f, redacted)
			}
		}
	}
	return s
}

// scrubHeader masks secrets in an answer's header values.
func scrubHeader(h http.Header, secrets []string) {
	for k, vs := range h {
		for i, v := range vs {
			if masked := scrubString(v, secrets); masked != v {
				h[k][i] = masked
			}
		}
	}
}

// redact masks secrets in everything the error says.
func (e *APIError) redact(secrets []string) {
	e.Message = scrubString(e.Message, secrets)
	e.Body = scrubString(e.Body, secrets)
	for i := range e.FieldErrors {
		e.FieldErrors[i].Field = scrubString(e.FieldErrors[i].Field, secrets)
		e.FieldErrors[i].Message = scrubString(e.FieldErrors[i].Message, secrets)
	}
}
