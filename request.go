package loyalty

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// Request is a call to any endpoint below /api/v2, for the parts of the API this package has
// no method for yet. Client.Do sends it.
type Request struct {
	// Method is GET, POST, PUT, PATCH or DELETE.
	Method string
	// Path is below /api/v2, such as "cards/638920-251-210/add-stamp" ("/api/v2/" in front
	// is accepted). It is taken as written: escape ids that may hold '/', '?' or '%' with
	// url.PathEscape.
	Path string
	// Query is sent as the query string.
	Query url.Values
	// Body is marshalled to JSON; nil sends no body.
	Body any
	// SafeToRepeat marks a POST, PUT or PATCH that the server applies once however often it
	// arrives, so it is retried like a GET. Leave it false for anything that accrues: a POST
	// whose answer is lost then comes back as *OutcomeUnknownError instead of being sent twice.
	SafeToRepeat bool
}

// Do sends req with the client's key, and with the same retry, redirect, rate-limit and
// logging rules as every other method. It decodes the answer's data member into out (a
// pointer, or nil to discard it) and returns the answer.
//
// Errors: the same as every method's: *ArgumentError (ErrInvalidArgument) for a method or
// path it will not send; *APIError for an answer of 400 or more (ErrNotFound, ErrValidation,
// …); *OutcomeUnknownError for a POST, PUT or PATCH not marked SafeToRepeat whose answer was
// lost; *RedirectError; *RequestError; *DecodeError.
func (c *Client) Do(ctx context.Context, req *Request, out any) (*Response, error) {
	if !c.usable() {
		return nil, errNoClient
	}
	if err := c.common.ready(ctx); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, invalid("request", "must not be nil")
	}
	switch req.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		return nil, invalid("request.method", "must be GET, POST, PUT, PATCH or DELETE")
	}
	path, err := rawPath(req.Path)
	if err != nil {
		return nil, err
	}
	r := call{method: req.Method, path: path, body: req.Body, out: out}
	if len(req.Query) > 0 {
		r.query = req.Query
	}
	if req.SafeToRepeat {
		r.class = transport.Idempotent
	}
	return c.do(ctx, &r)
}

// rawPath checks a caller's path: it must stay below /api/v2 of the base URL.
func rawPath(p string) (string, error) {
	p = strings.TrimPrefix(strings.TrimPrefix(p, "/"), "api/v2/")
	if p == "" {
		return "", invalid("request.path", "must name an endpoint below /api/v2")
	}
	if strings.ContainsAny(p, "?#\\") || strings.Contains(p, "://") {
		return "", invalid("request.path", "must be a path alone: put the query in Request.Query")
	}
	for _, seg := range strings.Split(p, "/") {
		if u, err := url.PathUnescape(seg); err != nil {
			return "", invalid("request.path", "is not a valid URL path")
		} else if u == "." || u == ".." {
			seg = u
		}
		switch seg {
		case "":
			return "", invalid("request.path", "must not have empty segments")
		case ".", "..":
			return "", invalid("request.path", "must not have relative segments")
		}
	}
	return p, nil
}
