package loyalty

import (
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"

	retryablehttp "github.com/hashicorp/go-retryablehttp"
)

type config struct {
	appToken        string
	baseURL         string
	allowHTTP       bool
	httpClient      *http.Client
	uaSuffix        string
	retryMax        int
	waitMin         time.Duration
	waitMax         time.Duration
	maxRetryAfter   time.Duration
	logger          *slog.Logger
	timeout         time.Duration
	timeoutSet      bool
	retryAfterScale float64
	typeCacheSize   int
	noTypeLookup    bool
	noActionCheck   bool
	limiter         RateLimiter
	hooks           RetryHooks
	ledger          Ledger
	// keySource, baseSource and appSource say where the key, the base URL and the app token
	// came from, for the hints of errors a wrong one causes ("LOYALTY_API_KEY").
	keySource, baseSource, appSource string
}

// attemptTimeout is the per-attempt timeout to enforce: WithTimeout's, or the default unless
// the caller's own http.Client sets one (0 leaves theirs).
func (c *config) attemptTimeout() time.Duration {
	if c.timeoutSet || c.httpClient == nil || c.httpClient.Timeout == 0 {
		return c.timeout
	}
	return 0
}

// Option configures a Client. Options check their arguments: NewClient returns the first
// error one reports.
type Option func(*config) error

// fromEnv names an environment variable as where a setting came from.
func fromEnv(set func(*config, string), variable string) Option {
	return func(c *config) error { set(c, variable); return nil }
}

// WithSources says where the API key, the marketplace app token and the base URL given to
// the client came from (a file's path, a variable's name), so that the errors a wrong one
// causes name it: "the API key from /home/ann/.config/loyalty/credentials was refused". An
// empty source leaves that setting's as it was. A program that reads its settings from a
// file of its own passes it, after WithBaseURL; NewClientFromEnv names its variables itself.
func WithSources(apiKey, appToken, baseURL string) Option {
	from := func(s string) string { return "from " + s }
	return func(c *config) error {
		if apiKey != "" {
			c.keySource = from(apiKey)
		}
		if appToken != "" {
			c.appSource = from(appToken)
		}
		if baseURL != "" {
			c.baseSource = from(baseURL)
		}
		return nil
	}
}

// WithBaseURL points the client at another API address, such as a loyaltytest server. The URL
// must be absolute. Plain http is refused except to a loopback host, since the API key would
// travel in clear; WithInsecureHTTP lifts that. The URL has no path, or /api/v2 (which is
// accepted and ignored): any other path is refused, since every call would then miss the API.
func WithBaseURL(rawURL string) Option {
	return func(c *config) error { c.baseURL, c.baseSource = rawURL, "WithBaseURL"; return nil }
}

// WithInsecureHTTP allows a plain http:// base URL to a host that is not loopback. The API key
// is then readable by anyone on the path: use it only inside a trusted network.
func WithInsecureHTTP() Option {
	return func(c *config) error { c.allowHTTP = true; return nil }
}

// WithHTTPClient makes the client send through hc's transport and cookie jar, and use
// hc.Timeout as the per-attempt timeout unless WithTimeout is given. hc itself is not
// modified. Redirects are never followed, whatever hc.CheckRedirect says: the API key must
// not travel to another host. Without it the client builds a pooled transport sized for bulk
// concurrency.
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

// WithRetryWait bounds the exponential backoff between retries (default 250ms to 5s). The
// n-th retry waits between min·2ⁿ⁻¹ and twice that, at random, never below min nor above max.
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

// WithRetryAfterScale multiplies every wait the server asks for with Retry-After. It is for
// tests: a test that meets a 429 from loyaltytest with Retry-After: 1 passes
// WithRetryAfterScale(0.001) and waits a millisecond. Whether a wait is within
// WithMaxRetryAfter is judged before scaling. The default is 1.
func WithRetryAfterScale(scale float64) Option {
	return func(c *config) error {
		if !(scale > 0) || math.IsInf(scale, 0) {
			return invalid("retryAfterScale", "must be a positive number")
		}
		c.retryAfterScale = scale
		return nil
	}
}

// WithRateLimit keeps the client within perSecond requests a second per API key, with bursts
// of up to burst requests, waiting (as long as the call's context allows) before each
// attempt, retries included. The API answers 429 past about 10 requests a second per key.
// The limit belongs to the key: clients derived with ForAPIKey or ForCompany for the same
// key share one bucket, and each company key has its own. It is NewMemoryRateLimiter, for one
// process; WithRateLimiter shares a limit between processes. The default is no limit.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) error {
		switch {
		case !(perSecond > 0) || math.IsInf(perSecond, 0):
			return invalid("rateLimit", "must be a positive number of requests a second")
		case burst < 1:
			return invalid("rateLimit", "burst must be 1 or more")
		}
		c.limiter = NewMemoryRateLimiter(perSecond, burst)
		return nil
	}
}

// WithRateLimiter makes the client ask l before every attempt, retries included: a limiter
// that several processes share (loyaltyredis.NewRateLimiter) keeps them all within one key's limit.
// Clients derived with ForAPIKey or ForCompany ask the same limiter, each under its own key.
func WithRateLimiter(l RateLimiter) Option {
	return func(c *config) error {
		if l == nil {
			return invalid("rateLimiter", "must not be nil")
		}
		c.limiter = l
		return nil
	}
}

// WithRetryHooks hands go-retryablehttp settings you already have to the client's retry
// engine, which is go-retryablehttp: a Logger or LeveledLogger, request and response log
// hooks, and a CheckRetry. None of them sees the API key, a body or a query string, and none
// can make the client send again a state change that may have reached the server (see
// RetryHooks). WithLogger's slog records go on as before.
func WithRetryHooks(h RetryHooks) Option {
	return func(c *config) error {
		if h.Logger != nil {
			switch h.Logger.(type) {
			case retryablehttp.Logger, retryablehttp.LeveledLogger:
			default:
				return invalid("retryHooks.logger", fmt.Sprintf("is a %T, not a retryablehttp.Logger or LeveledLogger", h.Logger))
			}
		}
		c.hooks = h
		return nil
	}
}

// RetryHooks are go-retryablehttp settings for WithRetryHooks.
type RetryHooks struct {
	// Logger is a retryablehttp.Logger or retryablehttp.LeveledLogger, for the library's own
	// records of each attempt and retry; every URL in them has its query string masked.
	Logger any
	// RequestLogHook is called before each attempt, with a copy of the request that carries
	// its headers but the credential's, no body and no query string. Changing the copy
	// changes nothing that is sent.
	RequestLogHook retryablehttp.RequestLogHook
	// ResponseLogHook is called with each answer before the client reads it: a copy without
	// its body, whose Request is masked as above.
	ResponseLogHook retryablehttp.ResponseLogHook
	// CheckRetry is asked after each attempt where sending it again is safe (a read or a
	// delete, a keyed marketplace call, a request that never reached the server, a 429), and
	// decides there: it may retry more (a 500 to a read) or less. A POST or PATCH that may
	// have reached the server is never sent again, whatever it says; nor a redirect, nor a
	// failure no retry can mend. Its error is ignored, and the response it sees has no body.
	CheckRetry retryablehttp.CheckRetry
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

// WithoutActionCheck turns the client's card-type check of card actions off: every action is
// sent as it is and the server judges it (its refusal is still an *ActionNotAllowedError with
// ByServer set). It is the switch for an account on which the table is wrong (a template the
// API changed, the assumed subtract-purchase row). ActionOptions.SkipCheck does the same for
// one call.
func WithoutActionCheck() Option {
	return func(c *config) error { c.noActionCheck = true; return nil }
}

// WithCardTypeCacheSize bounds how many card types the client remembers for the action check
// (default 100,000, about 80 bytes a card: 8 MB when full); 0 turns the cache off. The
// cache keeps exactly that many once full (CLOCK eviction), so a working set of up to n
// cards never needs a second look-up.
func WithCardTypeCacheSize(n int) Option {
	return func(c *config) error {
		if n < 0 || n > 1<<30 {
			return invalid("cardTypeCacheSize", "must be 0 to 2^30")
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
		if c.appSource == "" {
			c.appSource = "WithAppToken"
		}
		return nil
	}
}

// WithLedger makes the "once" helpers (Cards.ApplyOnce, Cards.FindOrIssue,
// Customers.FindOrCreate, Companies.CreateOnce) claim their references in l: a ledger that
// several processes share (loyaltyredis.NewLedger) makes "once" hold across all of them. The
// default is one in-memory ledger for the whole process (NewMemoryLedger). Clients derived
// with ForAPIKey or ForCompany use the same ledger, each under its own account.
func WithLedger(l Ledger) Option {
	return func(c *config) error {
		if l == nil {
			return invalid("ledger", "must not be nil")
		}
		c.ledger = l
		return nil
	}
}
