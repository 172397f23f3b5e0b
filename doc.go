// Package loyalty is a client for the loyalty card API v2.0 of the digital wallet card
// platform: stamp, cashback, multipass, coupon, discount, gift, membership and reward cards
// (https://api.digitalwallet.cards/api/v2).
//
// # Getting started
//
// Create one client and share it; it is safe for concurrent use:
//
//	client, err := loyalty.NewClient(os.Getenv("LOYALTY_API_KEY"))
//	if err != nil { … }
//	card, resp, err := client.Cards.Get(ctx, "638920-251-210")
//	fmt.Println(card.Type, card.Balance.NumberStampsTotal, resp.ResponseID)
//
// Every method takes a context first and returns the value, a *Response (the response id
// support asks for, the page meta of lists, the attempts made) and an error. On an API error
// the *Response is returned too.
//
// # Authentication and sub-accounts
//
// The API key travels only in the X-API-Key header. It never appears in an error, a log line
// or the client's String, %v or slog form. A base URL with plain http:// is refused unless its
// host is loopback or WithInsecureHTTP is given.
//
// An agency acts as one of its companies through a derived client that shares the parent's
// connection pool and settings: client.ForCompany(company), or client.ForAPIKey(key). A
// company's APIKey is a Secret, masked in every printed and logged form, held in a closure so
// that printers walking a value by reflection see nothing of it either, and refused by
// json.Marshal (ErrSecretNotMarshalled) rather than silently lost; a new
// company's password and a marketplace credential's value are Secrets too (NewSecret). The
// client holds its own key and app token out of reflection's reach, and every *Response and
// error it returns carries neither, nor any secret the call sent, even when a server echoes
// one back.
//
// The marketplace endpoints authenticate with an app token (X-App-Token) alone: NewAppClient
// for an app without a merchant key, or WithAppToken on a merchant client. Their Accrue and
// Reverse carry a transaction id the server applies once, so they are retried after a lost
// answer, unlike card actions.
//
// # Card actions and the card-type table
//
// Each card action (add stamps, subtract points, redeem a coupon, …) is a method of
// client.Cards taking the card id, the quantity in the type the API takes, and optional
// *ActionOptions:
//
//	card, _, err := client.Cards.AddStamps(ctx, "638920-251-210", 2, &loyalty.ActionOptions{Comment: "till 3"})
//
// Before any request, the action is checked against the card's type with the table of the
// product docs (ActionTable, ActionAppliesTo). The type comes from the card or type given in
// the options, from any card the client has read before (a bounded cache; a card's type never
// changes), or else from one GET of the card (WithoutCardTypeLookup turns that off and leaves
// the server to judge). Template mechanics and membership limits refine the check when the
// template or the card's tier is at hand. A refusal is an *ActionNotAllowedError
// (ErrActionNotAllowed) naming the action, the card, its type and the types the action
// applies to; the server's own "Irrelevant accrual type" answer becomes the same error with
// ByServer set. Quantities of zero or less, NaN, infinities, counts beyond the API's 32-bit
// integers and amounts beyond a float are refused as
// ErrInvalidArgument. Nothing is sent in any of these cases.
//
// # Errors
//
// Answers of 400 and above are *APIError: status, the body's code and message, field errors,
// response id, method and path, Retry-After, and the start of the raw body when it was not
// JSON (the API answers unknown paths with an HTML page). Test the category with errors.Is
// against ErrNotFound, ErrUnauthorized, ErrForbidden, ErrConflict, ErrValidation,
// ErrBadRequest, ErrRateLimited or ErrServerError. Arguments the client can tell are wrong
// (an empty id, a customer with neither phone nor email, a page size over 1000) are refused
// with *ArgumentError (ErrInvalidArgument) and nothing is sent.
//
// # Pagination
//
// List methods return one page; All methods return an iter.Seq2 that fetches the next page
// only when the loop reaches it, and stops at break, at an empty page, at the meta's
// totalItems, or after yielding an error once. A server whose pages do not advance (it
// answers another page than asked, repeats the page before, or sends items past the total its
// meta announced) ends the walk with ErrNoProgress instead of looping forever:
//
//	for card, err := range client.Cards.All(ctx, &loyalty.CardListOptions{TemplateID: 42}) {
//		if err != nil { … }
//	}
//
// # Retries and the outcome-unknown rule
//
// The retry loop is go-retryablehttp's, with the SDK's own CheckRetry, Backoff and
// ErrorHandler. Requests that read or delete (GET, DELETE) are repeated after connection
// errors, attempt timeouts and 429, 502, 503 and 504 answers, with exponential backoff and
// jitter, honouring Retry-After up to a cap (WithMaxRetryAfter) and never below the minimum
// wait, within the caller's context. Requests that change state (POST, PATCH) carry no
// idempotency key, so sending one twice may add a stamp or points twice: they are repeated
// only when the server certainly did not act, that is after a 429 or when the request never
// reached the server, which the client knows from whether net/http handed the attempt a
// connection (a DNS failure, a refused dial, a TLS handshake that failed or stalled). When such
// a request times out, loses its connection or gets a 5xx, the error is an
// *OutcomeUnknownError (ErrOutcomeUnknown): read the card or its operations before deciding to
// send it again. Certificate errors and requests net/http cannot send are never retried.
// WithRetryHooks hands in a go-retryablehttp logger, log hooks or CheckRetry, which cannot
// weaken these rules.
//
// A DELETE whose first answer was lost and whose retry is answered 404 succeeded: the first
// attempt deleted the object. The call returns no error and sets Response.DeletedEarlier.
//
// # Once
//
// Cards.ApplyOnce applies a card action at most once per reference (a receipt id), across
// calls, goroutines and clients of the process, and across processes that share a Ledger: it
// claims the reference in the ledger, looks it up in the card's history before the first
// send, and after a lost answer finds out from the history whether the action was applied
// before it sends again. A repeat returns the card and ErrAlreadyApplied. Every judgement is
// made on the server's clock; "not applied" needs evidence (the card unchanged since before
// the attempt, or the history shown to cover the card's last change) and waits until the
// attempt can no longer be in flight at the server (OnceOptions.InFlight). Customers.FindOrCreate,
// Cards.FindOrIssue and Companies.CreateOnce do the same for creates. The README's "When the
// outcome is unknown" says what each covers and costs.
//
// # Redirects
//
// Redirects are never followed, whatever http.Client is given: net/http would pass the
// X-API-Key header on to whatever host the Location names, and turn a POST into a GET. A 3xx
// answer is a *RedirectError naming the Location; it usually means a wrong base URL.
//
// # Concurrency and rate limits
//
// The client never changes after NewClient. Its transport keeps up to 256 idle connections
// per host, so bulk work at high concurrency reuses connections instead of opening one per
// call; a failed request never empties that pool. Clients derived with ForAPIKey and
// ForCompany share it; CloseIdleConnections releases its idle connections.
//
// The API answers 429 past about 10 requests a second per key. WithRateLimit keeps each key
// within a limit on the client side: the client waits before each attempt, as long as the
// context allows, and every client derived for the same key draws from the same limiter.
//
// # Endpoints without a method
//
// Client.Do sends a Request to any path below /api/v2 with the same key, retries, redirect
// rule, rate limit and error types, and decodes the answer's data into a value of yours.
//
// # Webhooks
//
// client.Webhooks subscribes a URL to events; WebhookHandler (or ParseEvent) receives them as
// typed Events. It refuses a delivery that fails VerifyRequest before reading its body, then
// one too large, too slow, failing Verify or malformed, answering each with its status alone.
// Deliveries come at least once: Event.Key drops repeats. The platform's signature scheme is
// unconfirmed, so VerifyToken checks a secret token in the subscribed URL instead. Delivery
// timestamps are not signed and the receiver's clock may be off: no age check is made unless
// MaxAge asks for one.
//
// # Testing with loyaltytest
//
// The API has no sandbox. Package loyaltytest runs an in-memory fake of all 54 endpoints on
// loopback, with balances that card actions really change, companies with their own keys, and
// fault injection per route (latency, 429, 5xx, dropped connections, malformed JSON):
//
//	srv := loyaltytest.NewServer()
//	t.Cleanup(srv.Close)
//	card, _, err := srv.Client.Cards.AddStamps(ctx, cardID, 1, nil)
//
// A test that meets a 429 with Retry-After waits for it; WithRetryAfterScale(0.001) on the
// test's client makes each second of it a millisecond. The examples of this package run
// against the fake.
//
// # Package layout
//
// The client: client.go (Client, its constructors, ForAPIKey and ForCompany), options.go,
// call.go (the request pipeline every method goes through: send, mask, decode, the error
// types), request.go (Client.Do), response.go (Response and decoding), errors.go (every error
// type), secret.go and scrub.go (secrets kept out of every returned value), pagination.go,
// ratelimit.go, timestamp.go and ids.go.
//
// The operations layer: operations.go (the card-type × action table and the check every
// card action passes before anything is sent), cardtype.go, typecache.go.
//
// The resources, one file each: cards.go, card_actions.go (the card actions), customers.go,
// companies.go, templates.go, tariffs.go, pushes.go, sms.go, history.go (the API's
// "operations": the card history, and FindReference), statistics.go, profile.go,
// marketplace.go, webhooks.go, webhook_events.go and webhook_receiver.go.
//
// Once: reference.go (the reference an action carries in its comment), apply_once.go
// (ApplyOnce), create_once.go (the core of FindOrCreate, FindOrIssue and CreateOnce, which
// are beside their services), ledger.go (Ledger and the claim every "once" call holds) and
// memory_ledger.go (the default ledger).
//
// Each file's tests are in its _test.go twin; a test file named for a behaviour instead
// (once_test.go, leak_test.go) says in its first line what it covers.
package loyalty
