package loyalty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/go-querystring/query"
	"github.com/hashicorp/go-retryablehttp"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// DefaultBaseURL is the API's production address. Every path starts with /api/v2 below it.
const DefaultBaseURL = "https://api.digitalwallet.cards"

const (
	apiPrefix = "/api/v2/"
	// maxResponseBytes caps a response body: a larger one is an error, not an out-of-memory.
	maxResponseBytes = 16 << 20
	defaultTimeout   = 30 * time.Second
	// defaultIdleConnsPerHost fits bulk work: net/http's default of 2 would make a client
	// running dozens of requests at once open and close a connection for nearly every call.
	defaultIdleConnsPerHost = 100
)

// Client talks to the loyalty card API. Create one with NewClient and share it: it holds a
// connection pool, never changes after construction, and is safe for concurrent use.
//
// Each resource is reached through a service field, such as client.Cards.
type Client struct {
	apiKey    string
	appToken  string
	base      string // scheme://host[/prefix], without a trailing slash
	userAgent string
	logger    *slog.Logger
	http      *retryablehttp.Client

	// cardTypes remembers the type of every card the client has seen, for the action check.
	cardTypes   *typeCache
	lookupTypes bool

	common service

	// Cards issues, reads, updates and deletes cards, and applies card actions.
	Cards *CardsService
	// Customers manages the people cards are issued to.
	Customers *CustomersService
	// Companies manages an agency's sub-accounts.
	Companies *CompaniesService
	// Tariffs reads the plans companies can be put on.
	Tariffs *TariffsService
	// Templates reads card templates and manages their reward tiers.
	Templates *TemplatesService
	// Pushes sends and reads push notifications to wallet cards.
	Pushes *PushesService
	// SMS sends text messages to customers.
	SMS *SMSService
	// Operations reads the history of card operations.
	Operations *OperationsService
	// Statistics reads revenue figures.
	Statistics *StatisticsService
	// Profile reads and changes the account's and the agency's profile.
	Profile *ProfileService
	// Marketplace is the API of marketplace apps, authenticated by an app token.
	Marketplace *MarketplaceService
}

// service is what every resource service is: a handle on the shared client.
type service struct{ client *Client }

type config struct {
	appToken      string
	baseURL       string
	allowHTTP     bool
	httpClient    *http.Client
	uaSuffix      string
	retryMax      int
	waitMin       time.Duration
	waitMax       time.Duration
	maxRetryAfter time.Duration
	logger        *slog.Logger
	timeout       time.Duration
	timeoutSet    bool
	// retryAfterUnit is what one second of Retry-After means; tests shrink it.
	retryAfterUnit time.Duration
	typeCacheSize  int
	noTypeLookup   bool
}

// Option configures a Client. Options check their arguments: NewClient returns the first
// error one reports.
type Option func(*config) error

// WithBaseURL points the client at another API address, such as a loyaltytest server. The URL
// must be absolute. Plain http is refused except to a loopback host, since the API key would
// travel in clear; WithInsecureHTTP lifts that. A trailing /api/v2 is accepted and ignored.
func WithBaseURL(rawURL string) Option {
	return func(c *config) error { c.baseURL = rawURL; return nil }
}

// WithInsecureHTTP allows a plain http:// base URL to a host that is not loopback. The API key
// is then readable by anyone on the path: use it only inside a trusted network.
func WithInsecureHTTP() Option {
	return func(c *config) error { c.allowHTTP = true; return nil }
}

// WithHTTPClient makes the client send through hc's transport, redirect policy and cookie
// jar. hc itself is not modified. Without it the client builds a pooled transport sized for
// bulk concurrency.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return invalid("httpClient", "must not be nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithUserAgent appends suffix (your application's name and version, say) to the
// User-Agent header loyalty-go/<version>.
func WithUserAgent(suffix string) Option {
	return func(c *config) error {
		if strings.ContainsAny(suffix, "\r\n") {
			return invalid("userAgent", "must be a single line")
		}
		c.uaSuffix = strings.TrimSpace(suffix)
		return nil
	}
}

// WithRetryMax sets how many times a failed request may be repeated (default 3); 0 disables
// retries. Which failures are retried depends on the request: see the package documentation.
func WithRetryMax(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return invalid("retryMax", "must not be negative")
		}
		c.retryMax = n
		return nil
	}
}

// WithRetryWait bounds the exponential backoff between retries (default 250ms to 5s).
func WithRetryWait(minWait, maxWait time.Duration) Option {
	return func(c *config) error {
		if minWait < 0 || maxWait < minWait {
			return invalid("retryWait", "want 0 <= min <= max")
		}
		c.waitMin, c.waitMax = minWait, maxWait
		return nil
	}
}

// WithMaxRetryAfter caps how long the client waits when the server answers Retry-After
// (default 30s). A server asking for longer gets no retry: the *APIError is returned at once
// with its RetryAfter, and the caller decides.
func WithMaxRetryAfter(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return invalid("maxRetryAfter", "must not be negative")
		}
		c.maxRetryAfter = d
		return nil
	}
}

// WithLogger sends one record per request (method, path, status, attempts, duration) and one
// per retry to l. Headers, bodies and query strings are never logged. The default logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return invalid("logger", "must not be nil")
		}
		c.logger = l
		return nil
	}
}

// WithTimeout bounds each attempt of a request (default 30s). The caller's context bounds the
// whole call, retries and waits included.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalid("timeout", "must be positive")
		}
		c.timeout, c.timeoutSet = d, true
		return nil
	}
}

// WithoutCardTypeLookup stops the client from reading a card (one GET) to learn its type
// before a card action, when the type is neither given nor already known. The action is then
// sent unchecked and the server judges it; a refusal still comes back as
// *ActionNotAllowedError.
func WithoutCardTypeLookup() Option {
	return func(c *config) error { c.noTypeLookup = true; return nil }
}

// WithCardTypeCacheSize bounds how many card types the client remembers for the action check
// (default 100,000, a few MB); 0 turns the cache off.
func WithCardTypeCacheSize(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return invalid("cardTypeCacheSize", "must not be negative")
		}
		c.typeCacheSize = n
		return nil
	}
}

// WithAppToken sets the marketplace app token, sent as X-App-Token to the marketplace
// endpoints (and only there). NewAppClient is the way to a client that has no merchant key.
func WithAppToken(token string) Option {
	return func(c *config) error {
		c.appToken = strings.TrimSpace(token)
		if c.appToken == "" {
			return invalid("appToken", "must not be empty")
		}
		return nil
	}
}

// NewClient returns a client that authenticates with apiKey, the key shown in the dashboard
// under settings, integrations.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, invalid("apiKey", "must not be empty")
	}
	return newClient(apiKey, opts)
}

// NewAppClient returns a client for a marketplace app that holds an app token and no merchant
// key: only client.Marketplace works with it; every other call is refused before sending.
func NewAppClient(appToken string, opts ...Option) (*Client, error) {
	return newClient("", append([]Option{WithAppToken(appToken)}, opts...))
}

func newClient(apiKey string, opts []Option) (*Client, error) {
	cfg := config{
		baseURL:        DefaultBaseURL,
		retryMax:       3,
		waitMin:        250 * time.Millisecond,
		waitMax:        5 * time.Second,
		maxRetryAfter:  30 * time.Second,
		timeout:        defaultTimeout,
		retryAfterUnit: time.Second,
		typeCacheSize:  defaultTypeCacheSize,
	}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	base, err := normalizeBaseURL(cfg.baseURL, cfg.allowHTTP)
	if err != nil {
		return nil, err
	}
	ua := "loyalty-go/" + Version
	if cfg.uaSuffix != "" {
		ua += " " + cfg.uaSuffix
	}
	logger := cfg.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		apiKey:    apiKey,
		appToken:  cfg.appToken,
		base:      base,
		userAgent: ua,
		logger:    logger,
		http:      newRetryClient(&cfg, logger),

		cardTypes:   newTypeCache(cfg.typeCacheSize),
		lookupTypes: !cfg.noTypeLookup,
	}
	c.init()
	return c, nil
}

// NewClientFromEnv is NewClient with the key from LOYALTY_API_KEY and, when set, the base URL
// from LOYALTY_BASE_URL. Options given here override both.
func NewClientFromEnv(opts ...Option) (*Client, error) {
	key := os.Getenv("LOYALTY_API_KEY")
	if strings.TrimSpace(key) == "" {
		return nil, invalid("LOYALTY_API_KEY", "environment variable is not set")
	}
	if base := os.Getenv("LOYALTY_BASE_URL"); base != "" {
		opts = append([]Option{WithBaseURL(base)}, opts...)
	}
	return NewClient(key, opts...)
}

// ForAPIKey returns a client that acts with another key, such as an agency acting as one of
// its companies. It shares this client's connection pool, retry policy, logger and settings.
func (c *Client) ForAPIKey(apiKey string) (*Client, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, invalid("apiKey", "must not be empty")
	}
	d := new(Client)
	*d = *c
	d.apiKey = apiKey
	d.init()
	return d, nil
}

// ForCompany returns a client that acts as the company (an agency's sub-account), with the
// company's own key from its APIKey. It shares this client's connection pool and settings.
func (c *Client) ForCompany(company *Company) (*Client, error) {
	if company == nil || company.APIKey == "" {
		return nil, invalid("company.apiKey", "the company carries no API key (read it with Companies.Get)")
	}
	return c.ForAPIKey(company.APIKey.Reveal())
}

func (c *Client) init() {
	c.common.client = c
	c.Cards = (*CardsService)(&c.common)
	c.Customers = (*CustomersService)(&c.common)
	c.Companies = (*CompaniesService)(&c.common)
	c.Tariffs = (*TariffsService)(&c.common)
	c.Templates = (*TemplatesService)(&c.common)
	c.Pushes = (*PushesService)(&c.common)
	c.SMS = (*SMSService)(&c.common)
	c.Operations = (*OperationsService)(&c.common)
	c.Statistics = (*StatisticsService)(&c.common)
	c.Profile = (*ProfileService)(&c.common)
	c.Marketplace = (*MarketplaceService)(&c.common)
}

func normalizeBaseURL(raw string, allowHTTP bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !u.IsAbs() || u.Host == "" {
		return "", invalid("baseURL", "must be an absolute http(s) URL")
	}
	switch {
	case u.User != nil:
		return "", invalid("baseURL", "must not carry credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return "", invalid("baseURL", "must not have a query or fragment")
	case u.Scheme == "https":
	case u.Scheme == "http":
		if !allowHTTP && !isLoopback(u.Hostname()) {
			return "", invalid("baseURL", "plain http to a non-loopback host would send the API key in clear (use https, or WithInsecureHTTP)")
		}
	default:
		return "", invalid("baseURL", "scheme must be http or https")
	}
	path := strings.TrimSuffix(strings.TrimRight(u.EscapedPath(), "/"), "/api/v2")
	return u.Scheme + "://" + u.Host + path, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newTransport is http.DefaultTransport (proxy from the environment, HTTP/2, dial and TLS
// timeouts) with a pool sized for many requests at once.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 4 * defaultIdleConnsPerHost
	t.MaxIdleConnsPerHost = defaultIdleConnsPerHost
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// poolGuard hides the transport's CloseIdleConnections from retryablehttp, which calls it
// after every failed request: on a shared client that would empty the pool under all the
// other requests in flight.
type poolGuard struct{ rt http.RoundTripper }

func (g poolGuard) RoundTrip(r *http.Request) (*http.Response, error) { return g.rt.RoundTrip(r) }

func newRetryClient(cfg *config, logger *slog.Logger) *retryablehttp.Client {
	var hc http.Client
	if cfg.httpClient != nil {
		hc = *cfg.httpClient // a copy: the caller's client is not ours to change
	}
	rt := hc.Transport
	if rt == nil {
		if cfg.httpClient != nil {
			rt = http.DefaultTransport
		} else {
			rt = newTransport()
		}
	}
	hc.Transport = poolGuard{rt}
	if hc.Timeout == 0 || cfg.timeoutSet {
		hc.Timeout = cfg.timeout
	}
	p := &retryPolicy{maxRetryAfter: cfg.maxRetryAfter, unit: cfg.retryAfterUnit, logger: logger}
	return &retryablehttp.Client{
		HTTPClient:     &hc,
		Logger:         nil, // it would print URLs to stderr; we log through slog instead
		RetryWaitMin:   cfg.waitMin,
		RetryWaitMax:   cfg.waitMax,
		RetryMax:       cfg.retryMax,
		CheckRetry:     p.checkRetry,
		Backoff:        p.backoff,
		ErrorHandler:   retryablehttp.PassthroughErrorHandler,
		RequestLogHook: countAttempt,
	}
}

// Format keeps the API key out of every fmt verb, %#v and %+v included.
func (c *Client) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, "loyalty.Client{baseURL: %q, apiKey: %s, appToken: %s}", c.base, Secret(c.apiKey), Secret(c.appToken))
}

// String describes the client without its API key.
func (c *Client) String() string { return fmt.Sprintf("%v", c) }

// LogValue keeps the API key out of slog records.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("baseURL", c.base), slog.String("apiKey", Secret(c.apiKey).String()),
		slog.String("appToken", Secret(c.appToken).String()))
}

const redacted = "[redacted]"

// Response is the HTTP answer to a call, with what the API's envelope adds to it. Its body
// has already been read and closed. On an API error it is returned beside the error.
type Response struct {
	*http.Response
	// ResponseID identifies the answer for the API's support.
	ResponseID string
	// CreatedAt is when the API produced the answer.
	CreatedAt Timestamp
	// Meta is the pagination of a list answer, nil for everything else.
	Meta *ListMeta
	// Attempts counts the requests sent for this call, retries included.
	Attempts int
}

// ListMeta is the pagination block of a list answer.
type ListMeta struct {
	CurrentPage  int `json:"currentPage"`
	ItemsPerPage int `json:"itemsPerPage"`
	TotalItems   int `json:"totalItems"`
}

// envelope is the wrapper around every success body of /api/v2. Data holds a pointer to the
// caller's value, so it is decoded in place.
type envelope struct {
	ResponseID string    `json:"responseId"`
	CreatedAt  Timestamp `json:"createdAt"`
	Data       any       `json:"data"`
	Meta       *ListMeta `json:"meta"`
}

// call describes one API request. Services fill it; only Client.do sends it.
type call struct {
	method string
	path   string // below /api/v2/, with every path parameter already escaped
	query  any    // a go-querystring struct, or nil
	body   any    // marshalled to JSON, or nil
	out    any    // where the answer's data goes, or nil
	class  retryClass
	// app marks a marketplace call: authenticated by X-App-Token alone, answered without
	// the envelope.
	app bool
}

func (c *Client) do(ctx context.Context, r *call) (*Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("loyalty: %s %s: not sent: %w", r.method, r.fullPath(), err)
	}
	if r.app && c.appToken == "" {
		return nil, invalid("appToken", "the marketplace needs an app token (NewAppClient or WithAppToken)")
	}
	if !r.app && c.apiKey == "" {
		return nil, invalid("apiKey", "this client has only an app token; it can call the marketplace only")
	}
	u := c.base + apiPrefix + r.path
	if r.query != nil {
		v, err := query.Values(r.query)
		if err != nil {
			return nil, invalid("query", err.Error())
		}
		if len(v) > 0 {
			u += "?" + v.Encode()
		}
	}
	var body any
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, invalid("body", err.Error())
		}
		body = b
	}
	r.class = classOf(r.method, r.class)
	st := &callState{Context: ctx, class: r.class}
	req, err := retryablehttp.NewRequestWithContext(st, r.method, u, body)
	if err != nil {
		return nil, invalid("request", err.Error())
	}
	if r.app {
		req.Header.Set("X-App-Token", c.appToken)
	} else {
		req.Header.Set("X-API-Key", c.apiKey)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		err = c.transportError(ctx, r, st, err)
		c.log(ctx, r, 0, st.attempts, start, err)
		return nil, err
	}
	defer drainAndClose(resp.Body)

	out := &Response{Response: resp, Attempts: st.attempts}
	buf, err := readBody(resp.Body)
	bodyLost := err != nil
	if err == nil {
		err = c.decode(r, resp, buf.Bytes(), out)
		buf.release()
	}
	// A state change answered 5xx, or whose answer was cut off before a refusal could be read,
	// may have been applied: say so rather than invite a second accrual.
	if err != nil && r.class == retryUnsafe && (errors.Is(err, ErrServerError) || bodyLost && resp.StatusCode < 400) {
		err = &OutcomeUnknownError{Method: r.method, Path: r.fullPath(), Attempts: st.attempts, Err: err}
	}
	c.log(ctx, r, resp.StatusCode, st.attempts, start, err)
	return out, err
}

// fullPath is the request path as errors and logs show it: no host, no query string.
func (r *call) fullPath() string { return apiPrefix + r.path }

// decode turns a read body into r.out, or into an *APIError for a status of 400 and above.
func (c *Client) decode(r *call, resp *http.Response, data []byte, out *Response) error {
	if resp.StatusCode >= 400 {
		e := newAPIError(resp, c.scrub(data), r.method, r.fullPath())
		e.Attempts = out.Attempts
		out.ResponseID = e.ResponseID
		return e
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil // 204, or an empty 200: nothing to decode, nothing wrong
	}
	var env envelope
	var err error
	if r.app {
		if r.out != nil {
			err = json.Unmarshal(data, r.out)
		}
	} else {
		env.Data = r.out
		err = json.Unmarshal(data, &env)
		out.ResponseID, out.CreatedAt, out.Meta = env.ResponseID, env.CreatedAt, env.Meta
	}
	if err == nil || tolerable(err, r.app) {
		if err != nil {
			c.logger.Warn("loyalty: ignored a field of unexpected type", "method", r.method, "path", r.fullPath(), "error", err.Error())
		}
		return nil
	}
	return &DecodeError{What: strings.TrimPrefix(fmt.Sprintf("%T", r.out), "*"), StatusCode: resp.StatusCode,
		ResponseID: env.ResponseID, Method: r.method, Path: r.fullPath(), Err: err}
}

// tolerable reports a type mismatch inside the data (a number where a string was documented,
// say). encoding/json has then decoded everything else, and the live API is known to differ
// from its description in such details, so one odd field must not cost the whole answer.
func tolerable(err error, bare bool) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te) && (strings.Contains(te.Field, ".") || bare && te.Field != "")
}

// transportError explains a request that got no answer. For a state-changing request it
// says whether the server may have acted.
func (c *Client) transportError(ctx context.Context, r *call, st *callState, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its text repeats the full URL, query string included
	}
	if st.mayHaveActed && r.class == retryUnsafe && !notSent(err) {
		return &OutcomeUnknownError{Method: r.method, Path: r.fullPath(), Attempts: st.attempts, Err: err}
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return fmt.Errorf("loyalty: %s %s: %w", r.method, r.fullPath(), err)
}

// scrub removes the API key and app token from a body in case a server echoes them back.
func (c *Client) scrub(b []byte) []byte {
	for _, secret := range [...]string{c.apiKey, c.appToken} {
		if secret != "" && bytes.Contains(b, []byte(secret)) {
			b = bytes.ReplaceAll(b, []byte(secret), []byte(redacted))
		}
	}
	return b
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
		slog.Int("attempts", attempts), slog.Duration("duration", time.Since(start)),
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.logger.LogAttrs(ctx, level, "loyalty request", attrs...)
}

// bodyBuffer holds a response body while it is decoded. Buffers are pooled: reading every
// body into a fresh, growing slice was most of the SDK's cost over a hand-written call.
type bodyBuffer struct {
	bytes.Buffer
	limit io.LimitedReader
}

var bodyPool = sync.Pool{New: func() any { return new(bodyBuffer) }}

// readBody reads a whole body, refusing one over maxResponseBytes. The caller releases the
// buffer once it no longer uses its bytes.
func readBody(body io.Reader) (*bodyBuffer, error) {
	b := bodyPool.Get().(*bodyBuffer)
	b.Reset()
	b.limit = io.LimitedReader{R: body, N: maxResponseBytes + 1}
	_, err := b.ReadFrom(&b.limit)
	b.limit.R = nil
	if err != nil {
		b.release()
		return nil, fmt.Errorf("loyalty: reading response: %w", err)
	}
	if b.Len() > maxResponseBytes {
		b.release()
		return nil, fmt.Errorf("%w (over %d bytes)", ErrResponseTooLarge, maxResponseBytes)
	}
	return b, nil
}

// release returns the buffer to the pool, unless a rare huge body made it too big to keep.
func (b *bodyBuffer) release() {
	if b.Cap() <= 1<<20 {
		bodyPool.Put(b)
	}
}

// drainAndClose reads what is left of a body (up to a bound) so its connection goes back to
// the pool.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}

// Ptr returns a pointer to v. Optional request fields whose zero value is meaningful are
// pointers: loyalty.Ptr(loyalty.GenderUnknown) sends 0, a nil pointer sends nothing.
func Ptr[T any](v T) *T { return &v }

// segment validates and escapes one path parameter.
func segment(name, v string) (string, error) {
	switch strings.TrimSpace(v) {
	case "":
		return "", invalid(name, "must not be empty")
	case ".", "..":
		return "", invalid(name, "must not be a relative path element")
	}
	return url.PathEscape(v), nil
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
