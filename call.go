// The request pipeline: every call of every service is a call value that Client.do sends
// through the transport (retries, rate limit, timeouts), then masks, decodes and turns into
// the public error types.

package loyalty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-querystring/query"
	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// call describes one API request. Services fill it; only Client.do sends it.
type call struct {
	method string
	path   string // below /api/v2/, with every path parameter already escaped
	query  any    // a go-querystring struct, url.Values, or nil
	body   any    // marshalled to JSON, or nil
	out    any    // where the answer's data goes, or nil
	class  transport.Class
	// app marks a marketplace call: authenticated by X-App-Token alone, answered without
	// the envelope.
	app bool
	// automation marks a call to /api/automation (webhooks), whose answers may or may not
	// have the envelope.
	automation bool
	// secrets are values the body carries that must never come back in an error (a server
	// may echo them).
	secrets []string
	// items is the most items a list answer may have: the page size asked for, or
	// MaxItemsPerPage when 0.
	items int
}

func (r *call) prefix() string {
	if r.automation {
		return automationPrefix
	}
	return apiPrefix
}

// fullPath is the request path as errors and logs show it: no host, no query string.
func (r *call) fullPath() string {
	return r.prefix() + r.path
}

// do sends r. Its callers have checked the client and the context (service.ready).
func (c *Client) do(ctx context.Context, r *call) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("loyalty: %s %s: not sent: %w", r.method, r.fullPath(), err)
	}
	req := transport.Request{Method: r.method, UserAgent: c.userAgent, Class: r.class.Resolve(r.method)}
	switch {
	case r.app && c.appToken.get() == "":
		return nil, invalid("appToken", "the marketplace needs an app token (NewAppClient or WithAppToken)")
	case r.app:
		req.AuthHeader, req.AuthValue, req.RateKey = "X-App-Token", c.appToken.get(), c.appKey
	case c.apiKey.get() == "":
		return nil, invalid("apiKey", "this client has only an app token; it can call the marketplace only")
	default:
		req.AuthHeader, req.AuthValue, req.RateKey = "X-Api-Key", c.apiKey.get(), c.account // X-API-Key, written as net/http keeps it
	}
	req.URL = c.base + r.prefix() + r.path
	if r.query != nil {
		v, ok := r.query.(url.Values)
		if !ok {
			var err error
			if v, err = query.Values(r.query); err != nil {
				return nil, invalid("query", err.Error())
			}
		}
		if len(v) > 0 {
			req.URL += "?" + v.Encode()
		}
	}
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, invalid("body", err.Error())
		}
		req.Body = b
	}

	start := c.now() // for the log line's duration
	res, err := c.transport.Do(ctx, &req)
	if res.Response == nil {
		err = c.transportError(ctx, r, req.Class, err)
		c.log(ctx, r, 0, attemptsOf(err), start, err)
		if audit != nil {
			audit(c.secrets(nil, r), nil, err)
		}
		return nil, err
	}
	// The answer is masked before anyone sees it: its request carries no credential, body or
	// query string, and a secret a server echoes in a header or the body is hidden.
	var buf [4]string
	secrets := c.secrets(buf[:0], r)
	res.Response.Request = transport.ScrubbedRequest(res.Response.Request)
	scrubHeader(res.Response.Header, secrets)
	out := &Response{Response: res.Response, Attempts: res.Attempts}
	if err == nil {
		res.Body = scrubBytes(res.Body, secrets)
		err = c.decode(r, &res, out)
		res.Release()
	} else {
		err = c.transportError(ctx, r, req.Class, err)
	}
	// A state change answered 5xx, or 303 See Other ("done, look there"), may have been
	// applied: say so rather than invite a second accrual. (A lost answer body already says
	// so, from transportError.)
	var redirect *RedirectError
	if req.Class == transport.Unsafe && !IsOutcomeUnknown(err) && (errors.Is(err, ErrServerError) ||
		errors.As(err, &redirect) && redirect.StatusCode == http.StatusSeeOther) {
		err = &OutcomeUnknownError{Method: r.method, Path: r.fullPath(), Attempts: res.Attempts, Err: err}
	}
	c.log(ctx, r, res.Response.StatusCode, res.Attempts, start, err)
	if audit != nil {
		audit(c.secrets(nil, r), out, err)
	}
	return out, err
}

// audit, when set, sees every answer and error a call returns, with the secrets that must not
// be in them. The test binary sets it once, before any test runs, to scan everything the
// suite gets back; it is nil otherwise.
var audit func(secrets []string, resp *Response, err error)

func attemptsOf(err error) int {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.Attempts
	}
	var ou *OutcomeUnknownError
	if errors.As(err, &ou) {
		return ou.Attempts
	}
	return 0
}

// transportError explains a request that got no usable answer. For a state-changing request
// it says whether the server may have acted.
func (c *Client) transportError(ctx context.Context, r *call, class transport.Class, err error) error {
	var te *transport.Error
	if !errors.As(err, &te) {
		return fmt.Errorf("loyalty: %s %s: %w", r.method, r.fullPath(), err)
	}
	cause := te.Err
	if errors.Is(cause, transport.ErrBodyTooLarge) {
		cause = fmt.Errorf("%w (%v)", ErrResponseTooLarge, cause)
	}
	if te.MayHaveActed && class == transport.Unsafe {
		return &OutcomeUnknownError{Method: r.method, Path: r.fullPath(), Attempts: te.Attempts, Err: cause}
	}
	if ctx.Err() != nil && !errors.Is(cause, ctx.Err()) {
		cause = fmt.Errorf("%w (%v)", ctx.Err(), cause)
	}
	return &RequestError{Method: r.method, Path: r.fullPath(), Attempts: te.Attempts, StatusCode: te.StatusCode, Err: cause,
		Hint: c.unreachable(cause)}
}

// unreachable is the hint for a request no server answered: the address, and where it came
// from.
func (c *Client) unreachable(cause error) string {
	var op *net.OpError
	if !errors.As(cause, &op) || op.Op != "dial" {
		return ""
	}
	server := "the server there"
	if u, err := url.Parse(c.base); err == nil && isLoopback(u.Hostname()) {
		server += " (the sandbox?)"
	}
	return "nothing answers at " + c.base + " (" + described("the base URL", c.baseSource) + "): check the address, and that " +
		server + " is running"
}

// refusedHint says what to do about a refusal the caller can mend: a credential refused, a
// route that needs another key.
func (c *Client) refusedHint(r *call, status int) string {
	switch {
	case r.app && (status == http.StatusUnauthorized || status == http.StatusForbidden):
		return described("the marketplace app token", c.appSource) + " was refused: use your marketplace app's token"
	case status == http.StatusUnauthorized:
		return described("the API key", c.keySource) + " was refused: use the key shown in the dashboard under settings, " +
			"integrations (not the marketplace app token, which goes in LOYALTY_APP_TOKEN)"
	case status == http.StatusForbidden && (strings.HasPrefix(r.path, "companies") || strings.HasPrefix(r.path, "profile/agency")):
		return "this route needs the agency's key; the key in use (" + described("the API key", c.keySource) + ") is not the agency's: " +
			"a company's key acts for its own company only"
	}
	return ""
}

// secrets lists what must never come back in a returned value: the client's credentials and
// the secrets the call itself sent (a password, a credential's value). It appends to out,
// which the caller may keep on its stack.
func (c *Client) secrets(out []string, r *call) []string {
	for _, s := range [...]string{c.apiKey.get(), c.appToken.get()} {
		if s != "" {
			out = append(out, s)
		}
	}
	for _, s := range r.secrets {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (c *Client) log(ctx context.Context, r *call, status, attempts int, start time.Time, err error) {
	level := slog.LevelDebug
	if err != nil {
		level = slog.LevelWarn
	}
	if !c.logger.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{
		slog.String("method", r.method), slog.String("path", r.fullPath()), slog.Int("status", status),
		slog.Int("attempts", attempts), slog.Duration("duration", c.now().Sub(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, level, "loyalty request", attrs...)
}

// fetch sends r with a fresh T as its destination: the shape of every method that answers
// one object.
func fetch[T any](ctx context.Context, c *Client, r call) (*T, *Response, error) {
	v := new(T)
	r.out = v
	resp, err := c.do(ctx, &r)
	if err != nil {
		return nil, resp, err
	}
	return v, resp, nil
}
