package transport

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
)

// Hooks are go-retryablehttp settings a user already has, handed to the retry engine. None of
// them sees a credential, a body or a query string, and none can weaken the retry rules.
type Hooks struct {
	// Logger is a retryablehttp.Logger or retryablehttp.LeveledLogger: the library's own
	// records of each attempt and retry, with every URL's query string masked.
	Logger any
	// RequestLogHook is called before each attempt with a copy of the request that carries
	// its headers but the credentials, no body and no query string.
	RequestLogHook retryablehttp.RequestLogHook
	// ResponseLogHook is called with each answer, before the SDK reads it: a copy with no
	// body, whose Request is masked as above.
	ResponseLogHook retryablehttp.ResponseLogHook
	// CheckRetry is asked after each attempt where repeating it is safe: a read, a request
	// that never reached the server, or a 429. It may then retry more or less than the SDK
	// would; a state change that may have reached the server is never sent again, whatever it
	// says. Its error is ignored. The response it sees has no body.
	CheckRetry retryablehttp.CheckRetry
}

// install puts the hooks on one call's client.
func (h Hooks) install(rc *retryablehttp.Client) {
	switch l := h.Logger.(type) {
	case retryablehttp.LeveledLogger:
		rc.Logger = leveled{l}
	case retryablehttp.Logger:
		rc.Logger = printf{l}
	}
	if hook := h.RequestLogHook; hook != nil {
		rc.RequestLogHook = func(l retryablehttp.Logger, req *http.Request, attempt int) {
			hook(l, ScrubbedRequest(req), attempt)
		}
	}
	if hook := h.ResponseLogHook; hook != nil {
		rc.ResponseLogHook = func(l retryablehttp.Logger, resp *http.Response) {
			hook(l, scrubbedResponse(resp))
		}
	}
}

// ScrubbedRequest is a copy of req to show a user's code: its method, its URL without the
// query string, its protocol and host, and a header of its own with every header but the
// credentials; no body, no context. Changing the copy changes nothing that is sent.
func ScrubbedRequest(req *http.Request) *http.Request {
	if req == nil {
		return nil
	}
	out := &http.Request{Method: req.Method, Proto: req.Proto, ProtoMajor: req.ProtoMajor, ProtoMinor: req.ProtoMinor,
		Host: req.Host, Header: publicHeader(req.Header), Body: http.NoBody, ContentLength: req.ContentLength}
	if req.URL != nil {
		out.URL = &url.URL{Scheme: req.URL.Scheme, Host: req.URL.Host, Path: req.URL.Path, RawPath: req.URL.RawPath}
	}
	return out
}

// credentialHeaders are the headers that carry a credential, in canonical form.
var credentialHeaders = map[string]bool{"X-Api-Key": true, "X-App-Token": true, "Authorization": true,
	"Proxy-Authorization": true, "Cookie": true}

// publicHeader is a copy of h without the headers that carry a credential: never nil, so a
// hook can Set on it.
func publicHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if !credentialHeaders[http.CanonicalHeaderKey(k)] {
			out[k] = append([]string(nil), vs...)
		}
	}
	return out
}

// scrubbedResponse is a copy of resp without its body, whose Request is scrubbed.
func scrubbedResponse(resp *http.Response) *http.Response {
	if resp == nil {
		return nil
	}
	out := *resp
	out.Body = http.NoBody
	out.Request = ScrubbedRequest(resp.Request)
	out.TLS = nil
	return &out
}

// urlQuery finds a query string in a URL the library writes into its records.
var urlQuery = regexp.MustCompile(`(https?://[^\s"'?]*)\?[^\s"']*`)

// scrub masks the query strings of the URLs in s.
func scrub(s string) string {
	if !urlQuery.MatchString(s) {
		return s
	}
	return urlQuery.ReplaceAllString(s, "$1?[redacted]")
}

func scrubAll(kv []any) []any {
	out := make([]any, len(kv))
	for i, v := range kv {
		switch v := v.(type) {
		case string:
			out[i] = scrub(v)
		case error:
			out[i] = scrub(v.Error())
		case fmt.Stringer:
			out[i] = scrub(v.String())
		default:
			out[i] = v
		}
	}
	return out
}

// leveled passes the library's records to a user's LeveledLogger with queries masked.
type leveled struct{ l retryablehttp.LeveledLogger }

func (w leveled) Error(msg string, kv ...any) { w.l.Error(scrub(msg), scrubAll(kv)...) }
func (w leveled) Info(msg string, kv ...any)  { w.l.Info(scrub(msg), scrubAll(kv)...) }
func (w leveled) Debug(msg string, kv ...any) { w.l.Debug(scrub(msg), scrubAll(kv)...) }
func (w leveled) Warn(msg string, kv ...any)  { w.l.Warn(scrub(msg), scrubAll(kv)...) }

// printf passes the library's records to a user's Logger with queries masked.
type printf struct{ l retryablehttp.Logger }

func (w printf) Printf(format string, args ...any) {
	w.l.Printf("%s", scrub(fmt.Sprintf(format, args...)))
}
