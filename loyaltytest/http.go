package loyaltytest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/internal/liveshape"
)

// route is one endpoint of the fake: its pattern, how it authenticates, and its handler.
type route struct {
	pattern string
	app     bool // marketplace: X-App-Token, no envelope
	handle  func(s *state, rq *request) (any, *apiError)
}

// request is what a handler sees: the request, its body, its tenant and its query.
type request struct {
	*http.Request
	body  []byte
	t     *tenant
	query url.Values
}

// apiError is an answer in the API's error shape.
type apiError struct {
	status  int
	message string
	fields  map[string]string
}

func fail(status int, format string, args ...any) *apiError {
	return &apiError{status: status, message: fmt.Sprintf(format, args...)}
}

func invalidField(field, message string) *apiError {
	return &apiError{status: http.StatusUnprocessableEntity, message: "Validation failed", fields: map[string]string{field: message}}
}

var (
	errIrrelevant = fail(http.StatusBadRequest, "Irrelevant accrual type")
	errForbidden  = fail(http.StatusForbidden, "Access denied")
)

func notFound(what string) *apiError { return fail(http.StatusNotFound, "%s not found", what) }

// created marks an answer of 201; page marks a list answer with its meta; bare marks a
// marketplace answer, sent without the envelope.
type (
	created struct{ v any }
	page    struct {
		items               []any
		current, per, total int
	}
	bare struct{ v any }
)

const notFoundPage = `<!DOCTYPE html>
<html><head><meta charset="UTF-8"><title>An Error Occurred: Not Found</title></head>
<body><h1>Oops! An Error Occurred</h1><h2>The server returned a "404 Not Found".</h2></body></html>
`

// maxBody is the largest request body the fake reads; a larger one is answered 413.
const maxBody = 1 << 20

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	byPath := http.NewServeMux() // the same paths, any method: tells 405 from 404
	allowed := map[string][]string{}
	for _, rt := range s.table() {
		mux.HandleFunc(rt.pattern, s.serve(rt))
		method, path, _ := strings.Cut(rt.pattern, " ")
		if allowed[path] == nil {
			byPath.HandleFunc(path, func(http.ResponseWriter, *http.Request) {})
		}
		allowed[path] = append(allowed[path], method)
	}
	if s.control {
		s.controlRoutes(mux)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := byPath.Handler(r); pattern != "" {
			// A known path with another method: what a real server framework answers.
			s.hooks.received("unknown", r.URL.Path)
			w.Header().Set("Allow", strings.Join(allowed[pattern], ", "))
			s.writeError(w, strings.HasPrefix(pattern, "/api/v2/marketplace/"), fail(http.StatusMethodNotAllowed, "Method Not Allowed"))
			return
		}
		s.hooks.received("unknown", r.URL.Path)
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, notFoundPage)
	})
	return mux
}

// serve wraps a route: it counts the request, applies injected faults, authenticates, runs the
// handler under the state lock, and writes the answer in the API's shape.
func (s *Server) serve(rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer s.working()()
		f := s.hooks.received(rt.pattern, r.URL.Path)
		// The key is checked before the body is read: a stranger cannot make the server wait
		// for a body it never sends. (The handler checks it again under the lock.)
		if apiErr := s.knownKey(rt, r); apiErr != nil {
			w.Header().Set("Connection", "close") // or net/http would wait to drain the body
			s.writeError(w, rt.app, apiErr)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil {
			return // the body did not come (the read timed out, the sender went away)
		}
		if wait := s.latency + f.latency(); wait > 0 {
			select {
			case <-time.After(wait):
			case <-r.Context().Done():
				return
			}
		}
		if f != nil && f.Hold > 0 {
			select {
			case <-time.After(f.Hold):
			case <-s.closing:
				return
			}
		}
		if f != nil && f.DropBefore {
			dropConnection(w)
			return
		}
		if f != nil && f.Redirect != "" {
			w.Header().Set("Location", f.Redirect)
			status := f.Status
			if status < 300 || status > 399 {
				status = http.StatusFound
			}
			w.WriteHeader(status)
			return
		}
		if len(body) > maxBody {
			s.writeError(w, rt.app, fail(http.StatusRequestEntityTooLarge, "Request body is larger than 1 MiB"))
			return
		}
		key := r.Header.Get("X-API-Key")
		if rt.app {
			key = r.Header.Get("X-App-Token")
		}
		if s.hooks.limited(key, s.st.set.now()) {
			w.Header().Set("Retry-After", "1")
			s.writeError(w, rt.app, fail(http.StatusTooManyRequests, "Too many requests"))
			return
		}
		if f != nil && f.Status != 0 {
			if f.Status == http.StatusTooManyRequests || f.Status == http.StatusServiceUnavailable {
				w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			s.writeError(w, rt.app, fail(f.Status, "%s", http.StatusText(f.Status)))
			return
		}

		rq := &request{Request: r, body: body, query: r.URL.Query()}
		s.mu.Lock()
		data, apiErr := s.authorize(rt, rq)
		if apiErr == nil {
			data, apiErr = s.safely(rt, rq)
		}
		var status int
		var out []byte
		if apiErr == nil {
			status, out, err = s.envelope(data) // under the lock: views may share state maps
			if err != nil {
				apiErr = fail(http.StatusInternalServerError, "Internal server error")
			}
		}
		pending := s.st.takeOutbox()
		s.mu.Unlock()
		defer s.dispatch(pending) // webhook deliveries, once the request is answered
		if s.onChange != nil && r.Method != http.MethodGet && apiErr == nil {
			s.onChange()
		}

		if f != nil && f.DelayAnswer > 0 {
			select {
			case <-time.After(f.DelayAnswer):
			case <-r.Context().Done():
				return // the client gave up: applied, answer lost
			}
		}
		if f != nil && f.DropAfter {
			dropConnection(w)
			return
		}
		if apiErr != nil {
			s.writeError(w, rt.app, apiErr)
			return
		}
		if f != nil && f.MalformedJSON {
			out = out[:len(out)/2]
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(out)
	}
}

// safely runs a handler; a panic becomes a 500 rather than a dead server, and since handlers
// check everything before they change anything, state stays whole.
func (s *Server) safely(rt route, rq *request) (data any, apiErr *apiError) {
	defer func() {
		if p := recover(); p != nil {
			data, apiErr = nil, fail(http.StatusInternalServerError, "Internal server error")
		}
	}()
	return rt.handle(s.st, rq)
}

// knownKey refuses a request whose credential the server does not know.
func (s *Server) knownKey(rt route, r *http.Request) *apiError {
	if rt.app {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-App-Token")), []byte(s.AppToken)) != 1 {
			return fail(http.StatusForbidden, "Authentication failed.")
		}
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.byKey[r.Header.Get("X-API-Key")] == nil {
		return fail(http.StatusUnauthorized, "API key not found")
	}
	return nil
}

func (s *Server) authorize(rt route, rq *request) (any, *apiError) {
	if rt.app {
		if rq.Header.Get("X-App-Token") != s.AppToken {
			return nil, fail(http.StatusForbidden, "Authentication failed.")
		}
		rq.t = s.st.agency
		return nil, nil
	}
	t := s.st.byKey[rq.Header.Get("X-API-Key")]
	if t == nil {
		return nil, fail(http.StatusUnauthorized, "API key not found")
	}
	rq.t = t
	return nil, nil
}

func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// envelope writes an answer in the API's shape. It fails only for a value JSON cannot hold,
// which the handlers' own checks keep out (a non-finite balance, say).
func (s *Server) envelope(data any) (int, []byte, error) {
	status := http.StatusOK
	env := map[string]any{"responseId": loyalty.NewTransactionID(), "createdAt": ts(s.st.now())}
	switch v := data.(type) {
	case bare:
		out, err := json.Marshal(v.v)
		return status, out, err
	case created:
		status, env["data"] = http.StatusCreated, v.v
	case page:
		env["data"] = v.items
		env["meta"] = map[string]int{"currentPage": v.current, "itemsPerPage": v.per, "totalItems": v.total}
	default:
		env["data"] = v
	}
	env["code"] = status
	if s.live {
		env["data"], env["meta"] = liveshape.Of(env["data"]), liveshape.Of(env["meta"])
	}
	out, err := json.Marshal(env)
	return status, out, err
}

func (s *Server) writeError(w http.ResponseWriter, app bool, e *apiError) {
	var body map[string]any
	if app {
		msg := e.message
		if !strings.HasSuffix(msg, ".") {
			msg += "."
		}
		body = map[string]any{"errors": []string{msg}}
	} else {
		body = map[string]any{"code": e.status, "message": e.message, "responseId": loyalty.NewTransactionID()}
		if len(e.fields) > 0 {
			errs := map[string][]string{}
			for k, v := range e.fields {
				errs[k] = []string{v}
			}
			body["errors"] = errs
		}
	}
	out, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_, _ = w.Write(out)
}

// decode reads the JSON body into v: bad JSON is a 400, a member of the wrong type a 422.
func decode(rq *request, v any) *apiError {
	if len(bytes.TrimSpace(rq.body)) == 0 {
		return fail(http.StatusBadRequest, "Request body is empty")
	}
	err := json.Unmarshal(rq.body, v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" && typeErr.Value != "object" && bytes.TrimSpace(rq.body)[0] == '{' {
			// A member of a map body (a profile PATCH) has no field name of its own.
			return fail(http.StatusUnprocessableEntity, "Validation failed: every member must be a %s, not a %s", typeErr.Type, typeErr.Value)
		}
		if field == "" {
			return fail(http.StatusBadRequest, "Request body must be a JSON object")
		}
		return invalidField(field, fmt.Sprintf("This value should be of type %s.", typeErr.Type))
	default:
		return fail(http.StatusBadRequest, "Invalid JSON body")
	}
}

// wireTime is the only date-time form the API takes: PHP's Y-m-d\TH:i:sP. A "Z" or a
// fraction of a second, which RFC 3339 allows and Go's time.Time sends, is refused.
const wireTime = "2006-01-02T15:04:05-07:00"

// The API keeps date-times in 32-bit SQL TIMESTAMP columns.
var (
	firstStored = time.Date(1970, 1, 1, 0, 0, 1, 0, time.UTC)
	lastStored  = time.Date(2038, 1, 19, 3, 14, 7, 0, time.UTC)
)

// parseStored reads a date-time the API stores, or refuses it as the API would.
func parseStored(field, s string) (time.Time, *apiError) {
	at, err := time.Parse(wireTime, s)
	if err != nil || len(s) != len(wireTime) {
		return time.Time{}, invalidField(field, "This value is not a valid datetime.")
	}
	if at.Before(firstStored) || at.After(lastStored) {
		return time.Time{}, invalidField(field, "The date is out of range.")
	}
	return at.UTC(), nil
}

// intQuery reads an optional integer query parameter.
func intQuery(rq *request, name string) (int, *apiError) {
	v := rq.query.Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fail(http.StatusBadRequest, "Query parameter %s must be an integer", name)
	}
	return n, nil
}

// dateQuery reads an optional YYYY-MM-DD query parameter.
func dateQuery(rq *request, name string) (time.Time, *apiError) {
	v := rq.query.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse("2006-01-02", v)
	if err != nil {
		return time.Time{}, fail(http.StatusBadRequest, "Query parameter %s must be a date (Y-m-d)", name)
	}
	return d, nil
}

// inRange reports whether t falls on or between the days of start and end (zero: open).
func inRange(t, start, end time.Time) bool {
	return (start.IsZero() || !t.Before(start)) && (end.IsZero() || t.Before(end.AddDate(0, 0, 1)))
}

// paginate cuts one page out of items as the API does: page from 1, itemsPerPage 1 to 1000.
func paginate[T any](rq *request, items []T, view func(T) map[string]any, defaultPer int) (any, *apiError) {
	pg, err := intQuery(rq, "page")
	if err != nil {
		return nil, err
	}
	per, err := intQuery(rq, "itemsPerPage")
	if err != nil {
		return nil, err
	}
	if rq.query.Get("page") == "" {
		pg = 1
	}
	if rq.query.Get("itemsPerPage") == "" {
		per = defaultPer
	}
	if pg < 1 {
		return nil, fail(http.StatusBadRequest, "Query parameter page must be 1 or more")
	}
	if per < 1 || per > 1000 {
		return nil, fail(http.StatusBadRequest, "Query parameter itemsPerPage must be between 1 and 1000")
	}
	out := []any{}
	for i := (pg - 1) * per; i < len(items) && i < pg*per; i++ {
		out = append(out, view(items[i]))
	}
	return page{items: out, current: pg, per: per, total: len(items)}, nil
}

// sortedKeys is for deterministic output of maps.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
