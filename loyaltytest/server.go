// Package loyaltytest runs an in-memory fake of the loyalty card API, for examples and for
// tests of code that uses the loyalty package, the way net/http/httptest runs a server:
//
//	srv := loyaltytest.NewServer()
//	defer srv.Close()
//	card, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{…})
//
// It serves all 54 endpoints on loopback with the API's envelope, pagination, id formats,
// error shapes and statuses, and refuses what the API's description refuses: date-times in
// any form but 2006-01-02T15:04:05-07:00 (no "Z", no fraction), outside the 32-bit TIMESTAMP
// range, integers written 2.0 or 1e1, members out of their documented length, bodies over
// 1 MiB (413). Companies have their own keys: the agency key sees its sub-accounts, a company
// key only its own data.
//
// # Card actions
//
// The fake keeps its own card-type table, written from the product docs (not taken from the
// loyalty package, so a wrong row there is caught, not confirmed). An action that does not
// fit the card or its template's mechanics is refused with "Irrelevant accrual type". What
// each action does to a card (each also writes an operations-history row):
//
//   - stamp: add-stamp/subtract-stamp move the stamps of the round; every StampsPerReward
//     stamps become a reward (numberRewardsUnused) and the round starts again at 0.
//     add-purchase (spend mechanics) gives a stamp per SpendPerStamp of the amount.
//     add-reward/subtract-reward move the rewards.
//   - cashback (assumed: the API does not document it): add-point takes the purchase amount
//     and credits CashbackPercent of it to the balance; add-transaction-amount,
//     subtract-transaction-amount and subtract-point move the balance by the amount given.
//     So add-point(100) on a 5% card adds 5, add-transaction-amount(100) adds 100.
//   - discount and gift: add-point/subtract-point move the balance.
//   - multipass and membership: visits count uses; a membership tier's VisitLimit bounds
//     subtract-visit, and set-membership-tier starts a new period.
//   - reward: add-scores, add-visit or add-purchase (by mechanics) raise the balance;
//     receive-reward spends a reward tier's threshold.
//   - coupon: redeem-coupon works once.
//   - marketplace accrue: stamp cards get a stamp, cashback cards their percentage of the
//     check, reward and discount cards the check amount; a phone or email with no card
//     registers the customer and issues a card from the first cashback template.
//
// # Default templates
//
// DefaultTemplates holds one template per card type and mechanics variant, named by the
// Template* constants (TemplateStampVisits, TemplateStampSpend, TemplateRewardPoints,
// TemplateRewardVisits, TemplateRewardSpend, TemplateMembershipOpen,
// TemplateMembershipLimited, and one of each other type), so every cell the card-type table
// allows has a card to try it on. Server.TemplateID gives the first of a type,
// Server.TemplateNamed one by name; WithTemplates replaces them.
//
// # Faults and shapes
//
// Faults are injected per route, and with Fault.Path per card: Latency (before handling,
// dropped when the client gives up), Hold (before handling, handled even if the client gave
// up: a proxy or queue in front of the API),
// Status with RetryAfter (nothing applied), DropBefore (not applied), DropAfter (applied,
// answer lost), DelayAnswer (applied, answer late), MalformedJSON (applied, body cut) and
// Redirect (a 3xx, nothing applied). Requests counts what each route received, so a test
// can prove that nothing was sent. WithRateLimit answers 429 past a rate per key,
// WithLatency delays every request as a round trip to the live API would,
// WithHistoryLag makes the operations history lag behind the cards, WithLiveShapes answers
// with numbers as strings and booleans as 0/1 as the live API does, and WithClock sets the
// time (WithClockOffset shifts it; the environment variable LOYALTYTEST_CLOCK_OFFSET, such as
// "49h", shifts the clock of every server made without either, so that a whole test suite
// can run against a server clock far from the machine's).
//
// # Webhooks
//
// The fake serves the webhooks' /api/automation routes (subscribe, unsubscribe, users/me)
// and delivers its own changes to the subscribed URLs in the platform's shape
// ({"timestamp", "event", "data"} with snake_case card payloads): CardIssuedEvent,
// CardBalanceUpdatedEvent, CardRemovedEvent, CustomerCreatedEvent, CompanyCreatedEvent and
// CompanyRemovedEvent. A delivery answered 5xx or not at all is tried up to 3 times.
// InjectWebhookFault drops or repeats deliveries, Deliveries reports them, and
// WaitForDeliveries waits for those in flight.
//
// # As a program: the sandbox
//
// cmd/loyalty-sandbox serves the fake on a port for any language, its state kept in a file
// across restarts (Save, NewServerFromState):
//
//	go run github.com/loyaltycards/loyalty-go/loyaltytest/cmd/loyalty-sandbox -state sandbox.json
//
// It prints the base URL, the agency key and the app token to export as LOYALTY_BASE_URL,
// LOYALTY_API_KEY and LOYALTY_APP_TOKEN, and serves the control routes of WithControl:
// faults over HTTP, and a report of the requests received and the objects created since a
// mark, by which CI proves that every example run twice does nothing twice. The same options
// (WithListener, WithKeys, WithOnChange, WithControl) build such a server in a Go program.
//
// # Statuses where the API's facts are silent
//
// A known path with another method: 405 with Allow. An unknown path: the API's HTML 404
// page. Any malformed or out-of-range query parameter (page, itemsPerPage, ids, dates): 400.
// An empty or non-JSON body where one is needed: 400. A body member of the wrong type or
// value: 422 with the member named. A duplicate customer: 409.
package loyaltytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/internal/pipenet"
)

// Server is a running fake of the API.
type Server struct {
	// URL is the base URL to give loyalty.WithBaseURL.
	URL string
	// APIKey is the agency's key; the server accepts it and every company key it issues.
	APIKey string
	// AppToken is the marketplace app token the server accepts.
	AppToken string
	// Client is a client for the agency, already pointed at the server, with the app token.
	Client *loyalty.Client

	srv     *httptest.Server
	closing chan struct{} // closed by Close: held requests stop waiting
	// pipe is the in-memory network of WithInMemoryNetwork, and pipeTransport the transport
	// every client of the server dials it with; nil on a loopback port.
	pipe          *pipenet.Listener
	pipeTransport *http.Transport
	// abort ends webhook deliveries in flight, for a Shutdown whose grace has passed.
	abort    context.Context
	abortNow context.CancelFunc
	hooksOut webhooks
	live     bool // answer in the live API's shapes (WithLiveShapes)
	latency  time.Duration
	mu       sync.Mutex // guards st
	st       *state
	hooks    hooks

	// onChange is called after every request that may have changed the state; control
	// mounts the sandbox's control routes (sandbox.go).
	onChange func()
	control  bool
	marked   mark

	// busy counts the requests being handled, for WaitIdle.
	busyMu sync.Mutex
	busy   int
	idle   *sync.Cond
}

// Option configures a Server.
type Option func(*settings)

type settings struct {
	templates  []Template
	now        func() time.Time
	rateLimit  int
	live       bool
	historyLag time.Duration
	latency    time.Duration
	// The sandbox's settings (sandbox.go).
	listener          net.Listener
	agencyKey, appTok string
	// readHeaderTimeout, readTimeout and idleTimeout bound what a connection may hold: the
	// sandbox is reached by strangers.
	readHeaderTimeout, readTimeout, idleTimeout time.Duration
	onChange                                    func()
	control                                     bool
	restore                                     func(*state) (agencyKey, appToken string)
}

// WithTemplates replaces the default templates (DefaultTemplates) of the agency and of every
// company created later.
func WithTemplates(templates ...Template) Option {
	return func(s *settings) { s.templates = append([]Template(nil), templates...) }
}

// WithRateLimit makes the server answer 429 (with Retry-After: 1) to a key that sends more
// than perSecond requests within a second of the server's clock, as the live API is believed
// to at about 10. Off by default, so that tests do not depend on timing; a test that pins the
// clock (WithClock) knows exactly which requests share a second.
func WithRateLimit(perSecond int) Option {
	return func(s *settings) { s.rateLimit = perSecond }
}

// WithLiveShapes makes the server answer as the live API has been seen to, rather than as its
// description says: every number in data and meta is a numeric string ("125.50", "12") and
// every boolean is 0 or 1. The client reads both; use it to check that your own code does too.
func WithLiveShapes() Option {
	return func(s *settings) { s.live = true }
}

// ClockOffsetEnv names the environment variable that shifts the clock of every server made
// without WithClock, such as "49h" or "-49h" (a Go duration): a whole test suite can then be
// run against a server whose clock is far from the machine's, as a real server's may be.
const ClockOffsetEnv = "LOYALTYTEST_CLOCK_OFFSET"

// WithLatency makes every request wait d before it is handled, as a round trip to the live
// API does (100 to 300 ms): in a testing/synctest bubble (see WithInMemoryNetwork), the
// virtual time a job takes, divided by d, is the number of requests it made one after
// another.
func WithLatency(d time.Duration) Option {
	return func(s *settings) { s.latency = d }
}

// WithHistoryLag makes the operations history lag behind the cards: a card action changes
// the card at once, and its history row shows only lag later, as a replicated history may.
// Use it to test code that recovers from a lost answer by reading the history
// (loyalty's CardsService.ApplyOnce, or your own).
func WithHistoryLag(lag time.Duration) Option {
	return func(s *settings) { s.historyLag = lag }
}

// WithClock makes the server read the time from now, for tests that check dates, or that
// move the server's clock by hand. It overrides ClockOffsetEnv.
func WithClock(now func() time.Time) Option {
	return func(s *settings) { s.now = now }
}

// WithClockOffset sets the server's clock off the machine's by d, as a real server's may be:
// the SDK must judge everything the server decides on the server's clock.
func WithClockOffset(d time.Duration) Option {
	return func(s *settings) { s.now = func() time.Time { return time.Now().Add(d) } }
}

// envClock is the default clock: the machine's, shifted by ClockOffsetEnv when it is set.
func envClock() func() time.Time {
	d, err := time.ParseDuration(os.Getenv(ClockOffsetEnv))
	if err != nil || d == 0 {
		return time.Now
	}
	return func() time.Time { return time.Now().Add(d) }
}

// NewServer starts a fake API on loopback. Close it when done (t.Cleanup(srv.Close)).
func NewServer(opts ...Option) *Server {
	set := settings{templates: DefaultTemplates(), now: envClock(),
		readHeaderTimeout: 5 * time.Second, readTimeout: 30 * time.Second, idleTimeout: 2 * time.Minute}
	for _, opt := range opts {
		opt(&set)
	}
	abort, abortNow := context.WithCancel(context.Background())
	s := &Server{
		abort:    abort,
		abortNow: abortNow,
		APIKey:   "lt_agency_" + randomHex(12),
		AppToken: "lt_app_" + randomHex(12),
		closing:  make(chan struct{}),
		onChange: set.onChange,
		control:  set.control,
	}
	if set.agencyKey != "" {
		s.APIKey = set.agencyKey
	}
	if set.appTok != "" {
		s.AppToken = set.appTok
	}
	s.idle = sync.NewCond(&s.busyMu)
	s.st = newState(set, s.APIKey)
	if set.restore != nil {
		s.APIKey, s.AppToken = set.restore(s.st)
	}
	s.hooks.faults = map[string][]*Fault{}
	s.hooks.counts = map[string]int{}
	s.hooks.limit = set.rateLimit
	s.live = set.live
	s.latency = set.latency
	s.hooks.windows = map[string]*window{}
	s.hooksOut.client = &http.Client{Timeout: 5 * time.Second,
		// A delivery is never sent on to where a redirect points: a subscriber's URL must not
		// make the server reach an address its key holders cannot.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if pl, ok := set.listener.(*pipenet.Listener); ok {
		s.pipe, s.pipeTransport = pl, pl.Transport()
	}
	s.srv = httptest.NewUnstartedServer(s.routes())
	s.srv.Config.ReadHeaderTimeout = set.readHeaderTimeout
	s.srv.Config.ReadTimeout = set.readTimeout
	s.srv.Config.IdleTimeout = set.idleTimeout
	s.srv.Config.MaxHeaderBytes = 64 << 10
	if set.listener != nil {
		_ = s.srv.Listener.Close()
		s.srv.Listener = set.listener
	}
	s.srv.Start()
	s.URL = s.srv.URL
	client, err := s.NewClient()
	if err != nil {
		panic("loyaltytest: " + err.Error()) // cannot happen: the URL is loopback and the key set
	}
	s.Client = client
	return s
}

// NewClient returns another agency client pointed at the server, with the given options
// added (and quick retries, so injected faults do not slow tests down).
func (s *Server) NewClient(opts ...loyalty.Option) (*loyalty.Client, error) {
	base := []loyalty.Option{
		loyalty.WithBaseURL(s.URL), loyalty.WithAppToken(s.AppToken),
		loyalty.WithRetryWait(time.Millisecond, 10*time.Millisecond),
	}
	if s.pipe != nil {
		base = append(base, loyalty.WithHTTPClient(s.HTTPClient()))
	}
	return loyalty.NewClient(s.APIKey, append(base, opts...)...)
}

// HTTPClient returns an http.Client that reaches the server, for requests of a test's own
// (the only way to reach it on an in-memory network).
func (s *Server) HTTPClient() *http.Client {
	if s.pipe != nil {
		return &http.Client{Transport: s.pipeTransport}
	}
	return &http.Client{}
}

// Close stops the server, once the requests it is handling and the webhook deliveries it
// has started have ended. A request a fault holds (Fault.Hold) stops waiting.
func (s *Server) Close() {
	close(s.closing)
	s.srv.Close()
	s.WaitForDeliveries()
	s.hooksOut.client.CloseIdleConnections()
	if s.pipeTransport != nil {
		s.pipeTransport.CloseIdleConnections()
	}
	s.abortNow()
}

// Shutdown stops the server as Close does, but waits for the requests being handled and the
// deliveries in flight only until ctx ends: then it closes every connection and abandons the
// deliveries, so that a body that never finishes arriving or a receiver that never answers
// cannot keep a program from ending. It returns ctx's error when it had to.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Close()
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.abortNow()
	s.srv.CloseClientConnections()
	<-done
	return ctx.Err()
}

// WaitIdle waits until the server has finished every request it has received, held and
// delayed ones included: a test that lets a client give up on a request the server still
// works on (Fault.Hold, Fault.DelayAnswer) waits here before it counts what was applied.
func (s *Server) WaitIdle() {
	s.busyMu.Lock()
	defer s.busyMu.Unlock()
	for s.busy > 0 {
		s.idle.Wait()
	}
}

// WaitForHistory waits until the operations history shows every row written so far
// (WithHistoryLag hides each for the lag, on the server's clock). With a clock that stands
// still (WithClock), rows the lag hides stay hidden: it returns once the clock has not moved
// for a while, and the caller moves it.
func (s *Server) WaitForHistory() {
	for {
		s.mu.Lock()
		var last time.Time
		for _, t := range s.st.allTenants() {
			for _, op := range t.ops {
				if op.visibleAt.After(last) {
					last = op.visibleAt
				}
			}
		}
		now := s.st.set.now()
		s.mu.Unlock()
		if !last.After(now) {
			return
		}
		select {
		case <-time.After(min(last.Sub(now), 50*time.Millisecond)):
		case <-s.closing:
			return
		}
		if !s.st.set.now().After(now) {
			return // the clock stands still
		}
	}
}

// working counts a request in, and returns the function that counts it out.
func (s *Server) working() func() {
	s.busyMu.Lock()
	s.busy++
	s.busyMu.Unlock()
	return func() {
		s.busyMu.Lock()
		s.busy--
		if s.busy == 0 {
			s.idle.Broadcast()
		}
		s.busyMu.Unlock()
	}
}

// TemplateID returns the id of the agency's first template of type t, or 0 when there is none.
func (s *Server) TemplateID(t loyalty.CardType) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tm := range s.st.agency.templates.list() {
		if tm.Type == t {
			return tm.ID
		}
	}
	return 0
}

// TemplateNamed returns the id of the agency's template with that name (such as
// TemplateStampSpend), or 0.
func (s *Server) TemplateNamed(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tm := range s.st.agency.templates.list() {
		if tm.Name == name {
			return tm.ID
		}
	}
	return 0
}

// AddCompany creates a sub-account of the agency directly (as Companies.Create would) and
// returns its id and API key.
func (s *Server) AddCompany(name string) (id int, apiKey string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	co := s.st.addCompany(name, 1, "month")
	return co.ID, co.APIKey
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// hooks are the test controls: faults to inject and requests received, per route.
type hooks struct {
	mu      sync.Mutex
	faults  map[string][]*Fault
	counts  map[string]int
	total   int
	limit   int
	windows map[string]*window
}

// window counts one key's requests in the current second, for WithRateLimit.
type window struct {
	second int64
	n      int
}

// limited reports whether key has used up this second's requests.
func (h *hooks) limited(key string, now time.Time) bool {
	if h.limit <= 0 {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.windows[key]
	if w == nil || w.second != now.Unix() {
		w = &window{second: now.Unix()}
		h.windows[key] = w
	}
	w.n++
	return w.n > h.limit
}

// Fault is a misbehaviour to inject into the answers of one route.
type Fault struct {
	// Latency delays the handling; a client that gives up meanwhile has its request dropped,
	// not applied.
	Latency time.Duration
	// Hold delays the handling, and then handles the request even if the client has given up
	// meanwhile: a proxy or a queue in front of the API that passes a request on late. The
	// client's attempt times out, and the request is applied after.
	Hold time.Duration
	// Status answers with this status and the API's error body instead of handling the
	// request (nothing is applied). With 429 or 503, RetryAfter is sent as Retry-After.
	Status     int
	RetryAfter int
	// DropBefore closes the connection once the request is read, before handling it: the
	// request is not applied.
	DropBefore bool
	// DropAfter handles the request, then closes the connection without answering: the
	// request is applied and its answer lost.
	DropAfter bool
	// MalformedJSON handles the request, then answers with a body that is not valid JSON.
	MalformedJSON bool
	// DelayAnswer handles the request, then waits this long before answering: a client
	// whose timeout is shorter gives up on a request that was applied.
	DelayAnswer time.Duration
	// Redirect answers with a redirect to this Location instead of handling the request
	// (Status, when it is a 3xx, is the status; 302 otherwise). The client must not follow.
	Redirect string
	// Path, when set, limits the fault to requests for that exact path (such as
	// "/api/v2/cards/638920-251-210/add-stamp"), so concurrent tests can aim at one card.
	Path string
	// Times is how many requests the fault affects; 0 means all of them until ClearFaults.
	Times int
}

// latency is the fault's Latency; none for no fault.
func (f *Fault) latency() time.Duration {
	if f == nil {
		return 0
	}
	return f.Latency
}

// InjectFault makes route misbehave. route is a method and path pattern as the API's
// description writes it, such as "POST /api/v2/cards/{id}/add-stamp". Faults on one route
// apply in the order injected.
func (s *Server) InjectFault(route string, f Fault) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.faults[route] = append(s.hooks.faults[route], &f)
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.faults = map[string][]*Fault{}
}

// Requests returns how many requests route received (see InjectFault for the form), faulted
// and refused ones included. Unknown paths count under "unknown".
func (s *Server) Requests(route string) int {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return s.hooks.counts[route]
}

// TotalRequests returns how many requests the server received.
func (s *Server) TotalRequests() int {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return s.hooks.total
}

// received counts a request and takes the fault that applies to it, if any.
func (h *hooks) received(route, path string) *Fault {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.counts[route]++
	h.total++
	queue := h.faults[route]
	for i, f := range queue {
		if f.Path != "" && f.Path != path {
			continue
		}
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				h.faults[route] = append(queue[:i:i], queue[i+1:]...)
			}
		}
		copied := *f
		return &copied
	}
	return nil
}
