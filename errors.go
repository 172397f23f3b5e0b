package loyalty

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// Sentinel errors for the common outcomes. Test for them with errors.Is; reach the details
// with errors.As and *APIError, *ArgumentError or *OutcomeUnknownError.
var (
	// ErrBadRequest matches a 400 answer, such as an action the card does not accept.
	ErrBadRequest = errors.New("loyalty: bad request")
	// ErrUnauthorized matches a 401 answer: the key is missing, wrong or revoked.
	ErrUnauthorized = errors.New("loyalty: unauthorized")
	// ErrForbidden matches a 403 answer: the key may not act on that resource.
	ErrForbidden = errors.New("loyalty: forbidden")
	// ErrNotFound matches a 404 answer about an object: the card, customer or company does
	// not exist.
	ErrNotFound = errors.New("loyalty: not found")
	// ErrEndpointNotFound matches a 404 answered with the API's HTML error page: the path
	// does not exist at this address, which usually means a wrong base URL or an endpoint
	// the API does not have. It does not match ErrNotFound, so "no such card" is never
	// confused with "no such endpoint".
	ErrEndpointNotFound = errors.New("loyalty: no such endpoint at this address")
	// ErrConflict matches a 409 answer, such as a duplicate customer.
	ErrConflict = errors.New("loyalty: conflict")
	// ErrValidation matches a 422 answer, and any error answer that lists field errors.
	ErrValidation = errors.New("loyalty: validation failed")
	// ErrRateLimited matches a 429 answer that was still refused after the retries allowed.
	ErrRateLimited = errors.New("loyalty: rate limited")
	// ErrServerError matches any 5xx answer.
	ErrServerError = errors.New("loyalty: server error")

	// ErrInvalidArgument matches every *ArgumentError: the client refused the call itself and
	// sent nothing.
	ErrInvalidArgument = errors.New("loyalty: invalid argument")
	// ErrOutcomeUnknown matches every *OutcomeUnknownError: a request that changes state may or
	// may not have been applied.
	ErrOutcomeUnknown = errors.New("loyalty: outcome unknown")
	// ErrResponseTooLarge matches a call whose answer's body was over the client's cap
	// (16 MiB): it was not read, and comes back as a *RequestError, or an
	// *OutcomeUnknownError for a state change.
	ErrResponseTooLarge = errors.New("loyalty: response body too large")
)

// maxErrorBody bounds how much of an unexpected error body an *APIError keeps.
const maxErrorBody = 512

// FieldError is one problem the API reported about one input field. Field is empty when the
// API named no field.
type FieldError struct {
	Field   string
	Message string
}

// APIError is an answer from the API with a status of 400 or above.
//
// It never holds the request, its headers or the API key.
type APIError struct {
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Code is the body's own "code" member, when it had one.
	Code int
	// Message is the body's message, or the HTTP status text when the body had none.
	Message string
	// FieldErrors lists per-field problems, when the body carried any.
	FieldErrors []FieldError
	// ResponseID identifies the answer for the API's support.
	ResponseID string
	// Method and Path locate the request (the path carries no query string).
	Method string
	Path   string
	// RetryAfter is the wait the server asked for in its Retry-After header, if any.
	RetryAfter time.Duration
	// Attempts counts the requests sent, retries included.
	Attempts int
	// Body keeps the start of the raw body when it was not the JSON error shape the client
	// expected (an HTML page for an unknown path, say).
	Body string
	// URL is set on a 404 answered with an HTML page instead of JSON (ErrEndpointNotFound):
	// the full address called, without its query string, so a wrong base URL shows.
	URL string
	// Hint says what usually mends the refusal, when the client can tell: which credential
	// was refused and where it came from, which key a route needs. Error() ends with it.
	Hint string
}

// Error reports the failure on one line: method, path, status, message, the first field
// errors (three at most, each cut short) and the response id.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "loyalty: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.Message != "" {
		b.WriteString(" ")
		b.WriteString(oneLine(e.Message, 200))
	}
	if fields := e.fieldSummary(); fields != "" {
		b.WriteString(": ")
		b.WriteString(fields)
	}
	if e.ResponseID != "" {
		fmt.Fprintf(&b, " (responseId %s)", e.ResponseID)
	}
	if e.Hint != "" {
		b.WriteString(": ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// maxFieldsShown bounds the field errors an APIError's message lists.
const maxFieldsShown = 3

// fieldSummary lists the first field errors as "field: message; …", unless the message
// already says just that.
func (e *APIError) fieldSummary() string {
	var parts []string
	for i, f := range e.FieldErrors {
		if i == maxFieldsShown {
			parts = append(parts, fmt.Sprintf("and %d more", len(e.FieldErrors)-maxFieldsShown))
			break
		}
		part := oneLine(f.Message, 100)
		if f.Field != "" {
			part = oneLine(f.Field, 60) + ": " + part
		}
		parts = append(parts, part)
	}
	s := strings.Join(parts, "; ")
	if s == e.Message || len(e.FieldErrors) == 1 && e.FieldErrors[0].Message == e.Message {
		return ""
	}
	return s
}

// oneLine keeps s to one line of at most n bytes.
func oneLine(s string, n int) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return truncate(s, n)
}

// Is reports whether the error belongs to the category of target, one of the sentinels above.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound && e.URL == ""
	case ErrEndpointNotFound:
		return e.StatusCode == http.StatusNotFound && e.URL != ""
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrValidation:
		return e.StatusCode == http.StatusUnprocessableEntity || len(e.FieldErrors) > 0
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServerError:
		return e.StatusCode >= 500
	}
	return false
}

// IsNotFound reports whether err is, or wraps, a 404 answer.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsRateLimited reports whether err is, or wraps, a 429 answer.
func IsRateLimited(err error) bool { return errors.Is(err, ErrRateLimited) }

// IsOutcomeUnknown reports whether err says a state-changing request may have been applied.
func IsOutcomeUnknown(err error) bool { return errors.Is(err, ErrOutcomeUnknown) }

// ArgumentError is the client's refusal of a call whose arguments cannot be right. Nothing was
// sent.
type ArgumentError struct {
	// Name is the argument or field at fault, such as "id" or "firstName".
	Name string
	// Problem says what is wrong with it.
	Problem string
}

// Error names the argument and the problem.
func (e *ArgumentError) Error() string {
	return "loyalty: invalid argument " + e.Name + ": " + e.Problem
}

// Is makes errors.Is(err, ErrInvalidArgument) true.
func (e *ArgumentError) Is(target error) bool { return target == ErrInvalidArgument }

func invalid(name, problem string) error { return &ArgumentError{Name: name, Problem: problem} }

// OutcomeUnknownError reports a state-changing request (POST, PATCH) whose answer was lost
// after it may have reached the server: a timeout, a connection reset, a 5xx. The client does
// not repeat such a request, because repeating a stamp or a points accrual could apply it
// twice. Read the card or its operations to learn whether it was applied.
type OutcomeUnknownError struct {
	// Method and Path name the request; the path never carries the query string.
	Method string
	Path   string
	// Attempts counts the requests sent, retries included.
	Attempts int
	// Err is the failure seen; it may be an *APIError (for a 5xx answer).
	Err error
	// Finding is what CardsService.ApplyOnce learned from the history before giving up,
	// and LookupErr why it could learn no more; both nil for a plain call.
	Finding   *Finding
	LookupErr error
}

// Error says what to do before sending the request again.
func (e *OutcomeUnknownError) Error() string {
	where := "loyalty: "
	if e.Method != "" {
		where += e.Method + " " + e.Path + ": "
	}
	s := where + "outcome unknown, the request may have been applied " +
		"(check the operations history before sending it again): " + fmt.Sprint(e.Err)
	if e.Finding != nil {
		s += "; the history could not tell: " + e.Finding.Reason
	}
	if e.LookupErr != nil {
		s += "; looking it up failed: " + e.LookupErr.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrOutcomeUnknown) true.
func (e *OutcomeUnknownError) Is(target error) bool { return target == ErrOutcomeUnknown }

// Unwrap gives the underlying failure, so errors.As reaches an *APIError inside.
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// ErrAlreadyApplied matches every *AlreadyAppliedError.
var ErrAlreadyApplied = errors.New("loyalty: already applied")

// AlreadyAppliedError is ApplyOnce's answer to a reference that was applied before: by an
// earlier call, another goroutine, or another process (as the ledger or the card's history
// shows). Nothing was sent. The card returned beside it is the card as it is now, when it
// could be read.
type AlreadyAppliedError struct {
	// CardID and Reference name the action.
	CardID    string
	Reference string
	// Finding says how it is known: the ledger, or the history row in Finding.Operation.
	Finding *Finding
}

// Error names the reference and the card, and says nothing was sent.
func (e *AlreadyAppliedError) Error() string {
	s := fmt.Sprintf("loyalty: reference %q was already applied to card %s; nothing was sent", e.Reference, e.CardID)
	if e.Finding != nil && e.Finding.Reason != "" {
		s += " (" + e.Finding.Reason + ")"
	}
	return s
}

// Is makes errors.Is(err, ErrAlreadyApplied) true.
func (e *AlreadyAppliedError) Is(target error) bool { return target == ErrAlreadyApplied }

// Refusals about the state of the card rather than its type: the action fits the card, but
// not now. Test for them with errors.Is; each comes as a *CardStateError that keeps the
// server's message and its *APIError.
var (
	// ErrCardState matches every *CardStateError.
	ErrCardState = errors.New("loyalty: refused by the card's state")
	// ErrVisitAlreadyRegistered: the card already has today's visit ("A visit has already
	// been registered today", seen from the live API).
	ErrVisitAlreadyRegistered = errors.New("loyalty: a visit was already registered today")
	// ErrCouponAlreadyRedeemed: the coupon was redeemed before. The wording is assumed.
	ErrCouponAlreadyRedeemed = errors.New("loyalty: coupon already redeemed")
	// ErrInsufficientBalance: the card holds less than the action takes away. The wording
	// is assumed.
	ErrInsufficientBalance = errors.New("loyalty: balance too small")
)

// stateRefusals maps the wording of a refusal (lower case, a substring) to its sentinel.
// Only the first is confirmed from the live API; extend the table as wordings are seen.
var stateRefusals = []struct {
	contains string
	err      error
}{
	{"already been registered today", ErrVisitAlreadyRegistered},
	{"visit has already been registered", ErrVisitAlreadyRegistered},
	{"already redeemed", ErrCouponAlreadyRedeemed},
	{"insufficient", ErrInsufficientBalance},
	{"not enough", ErrInsufficientBalance},
}

// CardStateError is the server's refusal of a card action because of the card's state: a
// visit already registered today, a coupon already redeemed, a balance too small. Nothing was
// applied.
type CardStateError struct {
	// Action is the action refused, on the card CardID.
	Action Action
	CardID string
	// Reason is the sentinel the message matched, such as ErrVisitAlreadyRegistered.
	Reason error
	// Message is the server's own words.
	Message string
	// Err is the server's *APIError.
	Err error
}

// Error names the action, the card and the server's message.
func (e *CardStateError) Error() string {
	return fmt.Sprintf("loyalty: %s on card %s refused: %s", e.Action, e.CardID, e.Message)
}

// Is matches ErrCardState and the Reason.
func (e *CardStateError) Is(target error) bool { return target == ErrCardState || target == e.Reason }

// Unwrap gives the *APIError.
func (e *CardStateError) Unwrap() error { return e.Err }

// cardStateRefusal turns a 4xx whose message is a known state refusal into a *CardStateError.
func cardStateRefusal(apiErr *APIError, a Action, id string) error {
	msg := strings.ToLower(apiErr.Message)
	for _, r := range stateRefusals {
		if strings.Contains(msg, r.contains) {
			return &CardStateError{Action: a, CardID: id, Reason: r.err, Message: apiErr.Message, Err: apiErr}
		}
	}
	return nil
}

// RedirectError is an answer with a 3xx status. The client never follows a redirect: the API
// key must not travel to another host, and a POST must not silently become a GET. A redirect
// usually means the base URL is wrong (http instead of https, a missing path, a proxy). It is
// never retried. To a POST or PATCH it comes inside an *OutcomeUnknownError when the status
// (303) says the server acted.
type RedirectError struct {
	// StatusCode is the 3xx status the server answered.
	StatusCode int
	// Location is where the server pointed, without its query string.
	Location string
	// Method and Path name the request; the path never carries the query string.
	Method string
	Path   string
	// Attempts counts the requests sent, retries included.
	Attempts int
}

// Error names the request, the status and where it pointed.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("loyalty: %s %s: %d redirect to %q not followed (check the base URL)", e.Method, e.Path, e.StatusCode, e.Location)
}

// RequestError is a request that got no usable answer: the connection failed, the attempt
// timed out, the context ended, or the answer's body could not be read. For a POST or PATCH
// whose effect is unknown the error is an *OutcomeUnknownError instead.
type RequestError struct {
	// Method and Path name the request; the path never carries the query string.
	Method string
	Path   string
	// Attempts counts the requests sent, retries included; 0 when none left the client.
	Attempts int
	// StatusCode is the status of an answer whose body was then lost, or 0.
	StatusCode int
	// Err is the failure, without the URL.
	Err error
	// Hint says what usually mends it, when the client can tell: for an address where
	// nothing answers, the address and where it came from. Error() ends with it.
	Hint string
}

// Error names the request and the failure.
func (e *RequestError) Error() string {
	s := fmt.Sprintf("loyalty: %s %s: %v", e.Method, e.Path, e.Err)
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

// Unwrap gives the failure, such as context.DeadlineExceeded or a *net.OpError.
func (e *RequestError) Unwrap() error { return e.Err }

// DecodeError reports a success answer whose body could not be read as the documented JSON.
// The request itself succeeded: for a card action, the action was applied.
type DecodeError struct {
	// What names what was being decoded, such as "loyalty.Card".
	What       string
	StatusCode int
	ResponseID string
	Method     string
	Path       string
	Err        error
}

// Error names the request and what could not be decoded.
func (e *DecodeError) Error() string {
	s := fmt.Sprintf("loyalty: %s %s: decoding %s from %d answer: %v", e.Method, e.Path, e.What, e.StatusCode, e.Err)
	if e.ResponseID != "" {
		s += " (responseId " + e.ResponseID + ")"
	}
	return s
}

// Unwrap gives the JSON decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// errorBody is every error shape seen from the API: {message, code, responseId},
// {"errors": [...]} from the marketplace, and the usual PHP framework variants.
type errorBody struct {
	Code       json.RawMessage `json:"code"`
	Message    string          `json:"message"`
	Detail     string          `json:"detail"`
	Title      string          `json:"title"`
	Error      json.RawMessage `json:"error"`
	ResponseID string          `json:"responseId"`
	Errors     json.RawMessage `json:"errors"`
	Violations json.RawMessage `json:"violations"`
}

// newAPIError builds the error for a status >= 400 from whatever body came with it.
func newAPIError(resp *http.Response, body []byte, method, path string) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, Method: method, Path: path}
	if d, ok := transport.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		e.RetryAfter = d
	}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil {
		e.ResponseID = eb.ResponseID
		e.Code = lenientInt(eb.Code)
		e.Message = firstNonEmpty(eb.Message, eb.Detail, eb.Title, lenientString(eb.Error))
		e.FieldErrors = append(parseFieldErrors(eb.Errors), parseFieldErrors(eb.Violations)...)
		if e.Message == "" && len(e.FieldErrors) > 0 {
			e.Message = e.FieldErrors[0].Message
		}
	}
	if e.Message == "" && len(e.FieldErrors) == 0 {
		// Not the shape we know: keep the start of it for whoever debugs this.
		e.Body = truncate(string(body), maxErrorBody)
		e.Message = http.StatusText(resp.StatusCode)
		if resp.StatusCode == http.StatusNotFound && len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) && resp.Request != nil {
			u := *resp.Request.URL
			u.RawQuery, u.Fragment, u.User = "", "", nil
			e.URL = u.String()
			e.Message = "no such endpoint at " + e.URL + " (the server answered its HTML 404 page; check the base URL)"
		}
	}
	return e
}

// parseFieldErrors reads field errors as a list of strings, a list of objects, or a map of
// field to message(s).
func parseFieldErrors(raw json.RawMessage) []FieldError {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		var out []FieldError
		for _, item := range list {
			var s string
			if json.Unmarshal(item, &s) == nil {
				out = append(out, FieldError{Message: s})
				continue
			}
			var o struct {
				Field        string `json:"field"`
				Property     string `json:"property"`
				PropertyPath string `json:"propertyPath"`
				Message      string `json:"message"`
				Title        string `json:"title"`
			}
			if json.Unmarshal(item, &o) == nil {
				out = append(out, FieldError{
					Field:   firstNonEmpty(o.Field, o.PropertyPath, o.Property),
					Message: firstNonEmpty(o.Message, o.Title),
				})
			}
		}
		return out
	}
	var byField map[string]json.RawMessage
	if json.Unmarshal(raw, &byField) != nil {
		return nil
	}
	var out []FieldError
	for field, v := range byField {
		var msgs []string
		if json.Unmarshal(v, &msgs) != nil {
			msgs = []string{lenientString(v)}
		}
		for _, m := range msgs {
			out = append(out, FieldError{Field: field, Message: m})
		}
	}
	// Map order is random; a stable order makes errors comparable and logs diffable.
	slices.SortStableFunc(out, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return out
}

func lenientString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

// lenientInt reads a number sent as a JSON number or a numeric string ("400").
func lenientInt(raw json.RawMessage) int {
	var n json.Number
	if json.Unmarshal(bytes.Trim(raw, `"`), &n) != nil {
		return 0
	}
	f, err := n.Float64()
	if err != nil {
		return 0
	}
	return int(f)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// truncate cuts s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// ActionNotAllowedError is the refusal of a card action that does not fit the card: its type,
// its template's mechanics, or its membership limits. When the client refused it, nothing was
// sent. When the server refused it ("Irrelevant accrual type"), ByServer is true and Err holds
// the server's *APIError.
type ActionNotAllowedError struct {
	Action Action
	CardID string
	// CardType is the card's type, or CardTypeUnknown when the server refused a card whose type
	// the client did not know.
	CardType CardType
	// AllowedTypes are the card types the action applies to.
	AllowedTypes []CardType
	// Reason says what did not fit.
	Reason   string
	ByServer bool
	Err      error
}

// Error names the action, the card, its type and the types the action applies to.
func (e *ActionNotAllowedError) Error() string {
	who := "client"
	if e.ByServer {
		who = "server"
	}
	names := make([]string, len(e.AllowedTypes))
	for i, t := range e.AllowedTypes {
		names[i] = t.String()
	}
	s := fmt.Sprintf("loyalty: %s refused by the %s for card %s (type %s): %s; %s applies to %s cards",
		e.Action, who, e.CardID, e.CardType, e.Reason, e.Action, strings.Join(names, ", "))
	if takes := methodsFor(e.CardType); takes != "" {
		s += "; a " + e.CardType.String() + " card takes " + takes
	}
	return s
}

// Is makes errors.Is(err, ErrActionNotAllowed) true.
func (e *ActionNotAllowedError) Is(target error) bool { return target == ErrActionNotAllowed }

// Unwrap gives the server's *APIError when the server refused.
func (e *ActionNotAllowedError) Unwrap() error { return e.Err }

// ErrActionNotAllowed matches every *ActionNotAllowedError.
var ErrActionNotAllowed = errors.New("loyalty: action not allowed for this card")

// ErrBadDelivery matches every refusal of ParseEvent and WebhookHandler: a delivery that is
// malformed, too large, too old, or fails verification.
var ErrBadDelivery = errors.New("loyalty: bad webhook delivery")

type deliveryError struct {
	status int
	reason string
}

// Error says why the delivery was refused.
func (e *deliveryError) Error() string { return "loyalty: bad webhook delivery: " + e.reason }

// Is makes errors.Is(err, ErrBadDelivery) true.
func (e *deliveryError) Is(target error) bool { return target == ErrBadDelivery }

func badDelivery(status int, format string, args ...any) error {
	return &deliveryError{status: status, reason: fmt.Sprintf(format, args...)}
}

// ErrLedger matches every failure of the ledger itself (a Redis that cannot be reached, say).
// The call it guarded sent nothing new: a ledger that cannot answer is never taken as
// permission to send.
var ErrLedger = errors.New("loyalty: the once-ledger failed")

// ledgerError wraps a ledger's own failure so that errors.Is(err, ErrLedger) holds.
type ledgerError struct {
	op  string
	err error
}

func (e *ledgerError) Error() string { return "loyalty: once-ledger " + e.op + ": " + e.err.Error() }

func (e *ledgerError) Unwrap() error { return e.err }

func (e *ledgerError) Is(target error) bool { return target == ErrLedger }

// ErrNoProgress matches the error of an iterator (All) that stopped because the server's
// pages did not advance: it answered another page than the one asked for, sent a page equal
// to the one before, or kept sending items past the pages its meta announced. Without the
// check, a server that ignores the page parameter would keep a loop running forever.
var ErrNoProgress = errors.New("loyalty: the list makes no progress")

// ErrSecretNotMarshalled is json.Marshal's error for a value holding a non-empty Secret.
var ErrSecretNotMarshalled = errors.New(`loyalty: a Secret is not written to JSON (it would be lost, or leak): ` +
	`keep Reveal() in your secret store, and clear the field before marshalling`)
