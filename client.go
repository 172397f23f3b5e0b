package loyalty

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

// DefaultBaseURL is the API's production address. Every path starts with /api/v2 below it.
const DefaultBaseURL = "https://api.digitalwallet.cards"

const (
	apiPrefix = "/api/v2/"
	// automationPrefix is the webhooks' API family, beside v2 and with the same key.
	automationPrefix = "/api/automation/"
	defaultTimeout   = 30 * time.Second
)

// Client talks to the loyalty card API. Create one with NewClient and share it: it holds a
// connection pool, never changes after construction, and is safe for concurrent use.
//
// Each resource is reached through a service field, such as client.Cards.
type Client struct {
	// apiKey and appToken are held where reflection cannot print them (see hidden).
	apiKey    hidden
	appToken  hidden
	base      string // scheme://host[/prefix], without a trailing slash
	userAgent string
	logger    *slog.Logger
	transport *transport.Transport
	// account names the key's account in the ledger and the rate limiter: a digest of the
	// base URL and the key, never the key.
	account string
	// keySource, baseSource and appSource say where the key, the base URL and the app token
	// came from ("LOYALTY_API_KEY", "WithBaseURL"), for the hints of errors.
	keySource, baseSource, appSource string
	// appKey is the rate key of the app token, for the marketplace calls.
	appKey string
	// ledger is where the "once" helpers claim references; attemptTimeout bounds one attempt,
	// the least time the server may still be working on a request the client gave up on.
	ledger         Ledger
	attemptTimeout time.Duration
	// now reads the clock for logged durations; tests replace it.
	now func() time.Time

	// cardTypes remembers the type of every card the client has seen, for the action check.
	cardTypes    *typeCache
	fetchTypes   bool
	checkActions bool
	// typeFetches coalesces concurrent type look-ups of one card: one GET in flight per card.
	// Each derived client has its own, as each key sees its own cards.
	// templates keeps the templates read, for Purchase, and companyIndex the agency's
	// companies by email, for CreateOnce; each derived client has its own.
	templates    *templateCache
	companyIndex *companyIndex
	// clock remembers the server's time at the last once-look-up, to guess the next one's days
	// of history; derived clients share it (one server).
	clock       *serverClock
	typeFetches *singleflight.Group

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
	// Webhooks subscribes URLs to the platform's events.
	Webhooks *WebhooksService
}

// service is what every resource service is: a handle on the shared client.
type service struct{ client *Client }

// errNoClient refuses calls through a Client that did not come from a constructor.
var errNoClient = invalid("client", "is not set up: create it with NewClient, NewClientFromEnv or NewAppClient")

// ready refuses a call that cannot be made: through a zero or nil Client, or without a
// context. Every service method starts with it, so a caller's slip is an error, not a panic.
func (s *service) ready(ctx context.Context) error {
	if s == nil || !s.client.usable() {
		return errNoClient
	}
	if ctx == nil {
		return invalid("ctx", "must not be nil (use context.Background() or context.TODO())")
	}
	return nil
}

// begin is ready for a method whose request validates itself: it also refuses a nil or
// invalid request, before anything is sent.
func begin[R any, PR interface {
	*R
	validate() error
}](s *service, ctx context.Context, req PR) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	if req == nil {
		return invalid("request", "must not be nil")
	}
	return req.validate()
}

// usable reports whether c came from a constructor.
func (c *Client) usable() bool { return c != nil && c.transport != nil }

// NewClient returns a client that authenticates with apiKey, the key shown in the dashboard
// under settings, integrations. It sends nothing.
//
// Errors: ErrInvalidArgument (an *ArgumentError naming the option) for an empty key, a nil
// option, or an option's bad value: a base URL that is not absolute http(s), or plain http
// to a host that is not loopback, say.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, invalid("apiKey", "must not be empty")
	}
	return newClient(apiKey, opts)
}

// Where a client's settings come from when nothing says otherwise.
const (
	keyGiven  = "the API key given to NewClient"
	baseGiven = "the default base URL"
)

// NewAppClient returns a client for a marketplace app that holds an app token and no merchant
// key: only client.Marketplace works with it; every other call is refused before sending.
//
// Errors: ErrInvalidArgument for an empty token, a nil option or an option's bad value.
func NewAppClient(appToken string, opts ...Option) (*Client, error) {
	given := fromEnv(func(c *config, s string) { c.appSource = s }, "the app token given to NewAppClient")
	return newClient("", append([]Option{given, WithAppToken(appToken)}, opts...))
}

func newClient(apiKey string, opts []Option) (*Client, error) {
	cfg := config{
		keySource:     keyGiven,
		baseSource:    baseGiven,
		baseURL:       DefaultBaseURL,
		retryMax:      3,
		waitMin:       250 * time.Millisecond,
		waitMax:       5 * time.Second,
		maxRetryAfter: 30 * time.Second,
		timeout:       defaultTimeout,
		typeCacheSize: defaultTypeCacheSize,
	}
	for i, opt := range opts {
		if opt == nil {
			return nil, invalid("options", fmt.Sprintf("option %d is nil", i))
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	base, err := normalizeBaseURL(cfg.baseURL, cfg.baseSource, cfg.allowHTTP)
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
		apiKey:     hide(apiKey),
		appToken:   hide(cfg.appToken),
		base:       base,
		userAgent:  ua,
		logger:     logger,
		account:    accountDigest(base, apiKey),
		keySource:  sourceOf(cfg.keySource),
		baseSource: sourceOf(cfg.baseSource),
		appSource:  sourceOf(cfg.appSource),
		appKey:     accountDigest(base, "app\x00"+cfg.appToken),
		ledger:     cfg.ledger,
		transport: transport.New(transport.Config{
			HTTPClient:      cfg.httpClient,
			Timeout:         cfg.attemptTimeout(),
			RetryMax:        cfg.retryMax,
			WaitMin:         cfg.waitMin,
			WaitMax:         cfg.waitMax,
			MaxRetryAfter:   cfg.maxRetryAfter,
			RetryAfterScale: cfg.retryAfterScale,
			Limiter:         cfg.limiter,
			Logger:          logger,
			Hooks:           transport.Hooks(cfg.hooks),
		}),

		cardTypes:    newTypeCache(cfg.typeCacheSize),
		fetchTypes:   !cfg.noTypeLookup,
		checkActions: !cfg.noActionCheck,
		typeFetches:  new(singleflight.Group),
		clock:        new(serverClock),
		templates:    new(templateCache),
		companyIndex: new(companyIndex),
		now:          time.Now,
	}
	if c.ledger == nil {
		c.ledger = defaultLedger()
	}
	c.attemptTimeout = cfg.attemptTimeout()
	if c.attemptTimeout == 0 && cfg.httpClient != nil {
		c.attemptTimeout = cfg.httpClient.Timeout
	}
	c.init()
	return c, nil
}

// NewClientFromEnv is NewClient with the key from LOYALTY_API_KEY and, when set, the base URL
// from LOYALTY_BASE_URL. Options given here override both. It returns the client, and sends
// nothing. Errors a wrong key or address causes name the variable.
//
// Errors: ErrInvalidArgument when LOYALTY_API_KEY is not set or is empty, and as NewClient.
func NewClientFromEnv(opts ...Option) (*Client, error) {
	key, set := os.LookupEnv("LOYALTY_API_KEY")
	switch {
	case !set:
		return nil, invalid("LOYALTY_API_KEY", "the environment variable is not set (export it with the key from the dashboard)")
	case strings.TrimSpace(key) == "":
		return nil, invalid("LOYALTY_API_KEY", "is set, but empty")
	}
	env := []Option{fromEnv(func(c *config, s string) { c.keySource = s }, "LOYALTY_API_KEY")}
	if base := os.Getenv("LOYALTY_BASE_URL"); base != "" {
		env = append(env, WithBaseURL(base), fromEnv(func(c *config, s string) { c.baseSource = s }, "LOYALTY_BASE_URL"))
	}
	return NewClient(key, append(env, opts...)...)
}

// described names a setting by where it came from: "the API key from LOYALTY_API_KEY", or a
// source that is a phrase of its own ("the key given to ForAPIKey").
func described(kind, source string) string {
	if strings.HasPrefix(source, "from ") {
		return kind + " " + source
	}
	return source
}

// sourceOf words where a setting came from: a variable is "from LOYALTY_API_KEY", an option
// "from WithBaseURL"; anything else is already a phrase.
func sourceOf(s string) string {
	if strings.HasPrefix(s, "LOYALTY_") || strings.HasPrefix(s, "With") {
		return "from " + s
	}
	return s
}

// ForAPIKey returns a client that acts with another key, such as an agency acting as one of
// its companies. It shares this client's connection pool, retry policy, logger, rate limiter,
// ledger and settings; the new key gets its own rate-limit bucket, card-type cache and ledger
// entries.
//
// Errors: ErrInvalidArgument for an empty key, or the "[redacted]" placeholder a printed
// secret shows instead of its value.
func (c *Client) ForAPIKey(apiKey string) (*Client, error) {
	if !c.usable() {
		return nil, errNoClient
	}
	apiKey = strings.TrimSpace(apiKey)
	switch apiKey {
	case "":
		return nil, invalid("apiKey", "must not be empty")
	case redacted:
		return nil, invalid("apiKey", `is the "`+redacted+`" placeholder a printed secret shows, not a key: `+
			`keep company.APIKey.Reveal() in your own secret store`)
	}
	d := new(Client)
	*d = *c
	d.apiKey = hide(apiKey)
	d.keySource = "the key given to ForAPIKey"
	d.account = accountDigest(c.base, apiKey)
	// Each key sees its own cards: a type another key's client learned would refuse, or
	// reveal, a card this key may not even see.
	d.cardTypes = newTypeCache(c.cardTypes.capacity())
	d.typeFetches = new(singleflight.Group)
	d.templates = new(templateCache)
	d.companyIndex = new(companyIndex)
	d.init()
	return d, nil
}

// ForCompany returns a client that acts as the company (an agency's sub-account), with the
// company's own key from its APIKey. It shares this client's connection pool and settings.
//
// Errors: ErrInvalidArgument for a nil company, or one that carries no key (read it with
// Companies.Get).
func (c *Client) ForCompany(company *Company) (*Client, error) {
	switch {
	case !c.usable():
		return nil, errNoClient
	case company == nil:
		return nil, invalid("company", "must not be nil")
	case company.APIKey.IsZero():
		return nil, invalid("company.apiKey", "the company carries no API key (read it with Companies.Get)")
	}
	d, err := c.ForAPIKey(company.APIKey.Reveal())
	if err == nil {
		d.keySource = fmt.Sprintf("company %d's key, given to ForCompany", company.ID)
	}
	return d, err
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
	c.Webhooks = (*WebhooksService)(&c.common)
}

func normalizeBaseURL(raw, source string, allowHTTP bool) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || !u.IsAbs() || u.Host == "" {
		example := "https://api.digitalwallet.cards"
		if host, _, _ := strings.Cut(strings.TrimSpace(raw), "/"); host != "" && isLoopback(hostOnly(host)) {
			example = "http://" + host
		} else if host != "" && !strings.Contains(host, ":") {
			example = "https://" + host
		}
		return "", invalid("baseURL", fmt.Sprintf("%s (%s) must be an absolute http(s) URL, such as %s", shownURL(raw), sourceOf(source), example))
	}
	shown := shownURL(raw) + " (" + sourceOf(source) + ")"
	switch {
	case u.User != nil:
		return "", invalid("baseURL", shown+" must not carry credentials")
	case u.RawQuery != "" || u.Fragment != "":
		return "", invalid("baseURL", shown+" must not have a query or fragment")
	case u.Scheme == "https":
	case u.Scheme == "http":
		if !allowHTTP && !isLoopback(u.Hostname()) {
			return "", invalid("baseURL", shown+": plain http to a non-loopback host would send the API key in clear (use https, or WithInsecureHTTP)")
		}
	default:
		return "", invalid("baseURL", shown+": the scheme must be http or https")
	}
	// Every path of the API starts with /api/v2; any other path under the host would send
	// every call to a page that does not exist (/api/api/v2/cards), whose 404 reads as "not
	// found" for every card.
	switch strings.TrimRight(u.EscapedPath(), "/") {
	case "", "/api/v2":
	default:
		return "", invalid("baseURL", shown+" must have no path, or /api/v2 (the API's paths all start with /api/v2)")
	}
	return u.Scheme + "://" + u.Host, nil
}

// hostOnly is the host of host:port.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// shownURL quotes a URL a user gave, for an error, without what it may carry after the host's
// "@" (credentials).
func shownURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		scheme, _, found := strings.Cut(raw, "://")
		raw = raw[at+1:]
		if found {
			raw = scheme + "://[redacted]@" + raw
		}
	}
	return strconv.Quote(raw)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CloseIdleConnections closes the idle connections of the client's pool, which every client
// derived from it with ForAPIKey or ForCompany shares. Calls in flight finish; later calls
// open new connections. A program that makes many short-lived clients calls it when done with
// each, since an idle connection otherwise lingers for up to 90 seconds.
func (c *Client) CloseIdleConnections() {
	if c != nil && c.transport != nil {
		c.transport.CloseIdleConnections()
	}
}

// Format keeps the API key out of every fmt verb, %#v and %+v included.
func (c *Client) Format(f fmt.State, verb rune) {
	if c == nil {
		fmt.Fprint(f, "loyalty.Client(nil)")
		return
	}
	fmt.Fprintf(f, "loyalty.Client{baseURL: %q, apiKey: %s, appToken: %s}", c.base, masked(c.apiKey), masked(c.appToken))
}

// String describes the client without its API key.
func (c *Client) String() string { return fmt.Sprintf("%v", c) }

// LogValue keeps the API key out of slog records.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("loyalty.Client(nil)")
	}
	return slog.GroupValue(slog.String("baseURL", c.base), slog.String("apiKey", masked(c.apiKey)),
		slog.String("appToken", masked(c.appToken)))
}

// masked shows a credential as "[redacted]", or "" when there is none.
func masked(h hidden) string {
	if h.get() == "" {
		return ""
	}
	return redacted
}

// Ptr returns a pointer to v. Optional request fields whose zero value is meaningful are
// pointers: loyalty.Ptr(loyalty.GenderUnknown) sends 0, a nil pointer sends nothing.
func Ptr[T any](v T) *T { return &v }
