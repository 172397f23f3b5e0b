package loyalty

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/loyaltycards/loyalty-go/internal/lenient"
	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// Response is the HTTP answer to a call, with what the API's envelope adds to it. Its body
// has already been read and closed. On an API error it is returned beside the error.
//
// Its Request is a scrubbed copy of the request sent: its method, its URL without the query
// string and its headers but the credential's (X-API-Key, X-App-Token); no body and no
// GetBody. A secret the server echoes in a header is masked as "[redacted]".
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
	// UnreadFields lists the members of the answer that could not be read, each left at its
	// zero value in the result (and each logged as a warning). The API is known to send
	// numbers as strings, booleans as 0 or 1 and ids as numbers; those are read, so a field
	// listed here held something else (an object for a number, say). Check it before
	// trusting a zero balance.
	UnreadFields []UnreadField
	// Found is set by the once helpers (Customers.FindOrCreate, Cards.FindOrIssue,
	// Companies.CreateOnce, and Cards.Purchase's issue) when the object existed before the
	// call, found by a look-up or named by the ledger, and nothing was created; false when the
	// call created it (a create whose answer was lost, then found, included).
	Found bool
	// DeletedEarlier is set on a delete that the server answered 404 on a retry, after an
	// earlier attempt had reached it and its answer was lost: that attempt deleted the
	// object, and the call reports success. Response.StatusCode is then 404.
	DeletedEarlier bool
}

// ListMeta is the pagination block of a list answer.
type ListMeta struct {
	CurrentPage  int `json:"currentPage"`
	ItemsPerPage int `json:"itemsPerPage"`
	TotalItems   int `json:"totalItems"`
}

// UnreadField is a member of an answer that could not be read into its field.
type UnreadField struct {
	// Path locates it in the answer, such as "data.balance.balance" or "data[2].id".
	Path string
	// Reason says what was expected and what came; it never quotes the value.
	Reason string
}

// envelope is the wrapper around every success body of /api/v2. Data holds a pointer to the
// caller's value, so it is decoded in place.
type envelope struct {
	Code       envelopeCode `json:"code"`
	ResponseID string       `json:"responseId"`
	CreatedAt  Timestamp    `json:"createdAt"`
	Data       any          `json:"data"`
	Meta       *ListMeta    `json:"meta"`
}

// envelopeCode is the envelope's own status, a number or a numeric string; anything else
// reads as 0 (absent).
type envelopeCode int

// UnmarshalJSON reads the code, never failing the answer for it.
func (c *envelopeCode) UnmarshalJSON(b []byte) error {
	// Every answer has one: read it by hand rather than start a JSON decoder for it.
	n, err := strconv.Atoi(string(bytes.Trim(b, `" `)))
	if err != nil {
		n = lenientInt(b) // 200.0, say
	}
	*c = envelopeCode(n)
	return nil
}

// The bounds of one answer, checked as it is decoded, each before what it counts is
// allocated, so that no answer, however hostile, decodes into more than DecodeMemoryBound
// bytes: a body of `1,` repeated would otherwise decode into half a million zero cards. What
// the decoder skips (members no model has) allocates nothing and is not counted.
const (
	// maxArray bounds the elements of any one array of an answer.
	maxArray = MaxItemsPerPage
	// maxElements bounds the elements of all arrays of an answer together, with the entries
	// of every map (an answer decoded into an interface), and maxObjects its objects; a page
	// of 1,000 full cards has about 10,000 and 15,000.
	maxElements = 50_000
	maxObjects  = 100_000
)

// DecodeMemoryBound is the most memory reading and decoding one answer allocates, body and
// decoded values together, garbage included, whatever the answer: eight times the 16 MiB
// body cap. The answers that come closest, as measured by TestHostileAnswersAreBounded, take
// 64 MiB: one string of 16 MiB (the body, read, and the string made of it), and 100,000
// objects into an interface. A page of cards takes three to four times its size, in the
// described shape and the live one alike.
const DecodeMemoryBound = 8 * transport.DefaultMaxBody

// discard is the data of an answer the caller does not want: read as JSON, kept nowhere.
type discard struct{}

// UnmarshalJSON keeps nothing.
func (*discard) UnmarshalJSON([]byte) error { return nil }

// noItemRead reports a page none of whose items could be read: each of its n items is listed
// as unreadable at its own path.
func noItemRead(n int, unread []UnreadField) bool {
	if n == 0 {
		return false
	}
	read := 0
	for _, f := range unread {
		if rest, ok := strings.CutPrefix(f.Path, "data["); ok && strings.HasSuffix(rest, "]") && !strings.ContainsAny(rest, ".[") {
			read++
		}
	}
	return read >= n
}

// decodedItems is the length of the list out points to, or 0 for anything else.
func decodedItems(out any) int {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Slice {
		return 0
	}
	return v.Elem().Len()
}

// decode turns an answer into r.out, or into an error for a status that is not a success.
func (c *Client) decode(r *call, res *transport.Result, out *Response) error {
	resp, data := res.Response, res.Body
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return &RedirectError{StatusCode: resp.StatusCode, Location: redirectTarget(resp),
			Method: r.method, Path: r.fullPath(), Attempts: res.Attempts}
	case resp.StatusCode == http.StatusNotFound && r.method == http.MethodDelete && res.EarlierMayHaveActed:
		// An earlier attempt whose answer was lost reached the server and deleted it.
		out.DeletedEarlier = true
		return nil
	case resp.StatusCode >= 400:
		e := newAPIError(resp, data, r.method, r.fullPath())
		e.redact(c.secrets(nil, r))
		e.Attempts = out.Attempts
		e.Hint = c.refusedHint(r, resp.StatusCode)
		out.ResponseID = e.ResponseID
		return e
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil // 204, or an empty 200: nothing to decode, nothing wrong
	}
	items := r.items
	if items <= 0 {
		items = MaxItemsPerPage
	}
	bounds := lenient.Bounds{Items: items, Array: maxArray, Elements: maxElements, Objects: maxObjects}
	// Marketplace answers have no envelope; webhook answers may have one or not.
	var env envelope
	var target any = &env
	bare := r.app
	switch {
	case bare && r.out == nil:
		return nil
	case bare:
		target = r.out
	case r.out == nil:
		env.Data = &discard{}
	default:
		env.Data = r.out
	}
	read, err := lenient.Decode(data, target, bounds)
	withData := read.Top == lenient.Object && read.Data != lenient.Missing && read.Data != lenient.Null
	if err == nil && r.automation && !bare && !withData {
		// Not an envelope after all: the answer is the value itself.
		bare, env = true, envelope{}
		if r.out == nil {
			return nil
		}
		read, err = lenient.Decode(data, r.out, bounds)
	}
	// An answer over the bounds was refused as it was read, before it could cost more memory
	// than its size: err says which bound.
	if syntax := (*json.SyntaxError)(nil); errors.As(err, &syntax) {
		err = fmt.Errorf("the answer is not JSON: %w", err)
	}
	problems := read.Problems
	out.ResponseID, out.CreatedAt, out.Meta = env.ResponseID, env.CreatedAt, env.Meta
	for _, p := range problems {
		if p.Path == "" || p.Path == "data" {
			// The answer as a whole is not the shape documented: nothing in it can be trusted.
			err = fmt.Errorf("%s: %s", orRoot(p.Path), p.Reason)
			break
		}
		out.UnreadFields = append(out.UnreadFields, UnreadField{Path: p.Path, Reason: p.Reason})
	}
	if err == nil && !bare && env.Code >= 400 {
		// A 2xx whose envelope says otherwise: the envelope is the API's own word.
		e := newAPIError(&http.Response{StatusCode: int(env.Code), Header: resp.Header, Request: resp.Request}, data, r.method, r.fullPath())
		e.redact(c.secrets(nil, r))
		e.Attempts = out.Attempts
		return e
	}
	if err == nil && !bare && r.out != nil && !withData {
		err = errors.New("the answer has no data")
	}
	if n := decodedItems(r.out); err == nil && noItemRead(n, out.UnreadFields) {
		err = fmt.Errorf("none of the page's %d items could be read", n)
	}
	if err != nil {
		return &DecodeError{What: strings.TrimPrefix(fmt.Sprintf("%T", r.out), "*"), StatusCode: resp.StatusCode,
			ResponseID: env.ResponseID, Method: r.method, Path: r.fullPath(), Err: err}
	}
	for _, f := range out.UnreadFields {
		c.logger.Warn("loyalty: a field of the answer could not be read and was left zero", "method", r.method,
			"path", r.fullPath(), "field", f.Path, "reason", f.Reason, "responseId", env.ResponseID)
	}
	markUnread(r.out, out.UnreadFields)
	return nil
}

func orRoot(path string) string {
	if path == "" {
		return "the answer"
	}
	return path
}

// redirectTarget is the Location of a redirect, without its query string, which may carry
// anything.
func redirectTarget(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil {
		return ""
	}
	loc.RawQuery, loc.Fragment, loc.User = "", "", nil
	return loc.String()
}

// markUnread records on the cards and templates of an answer which of their members could
// not be read, for the action check.
func markUnread(out any, fields []UnreadField) {
	if len(fields) == 0 {
		return
	}
	for _, f := range fields {
		switch v := out.(type) {
		case *Card:
			if rest, ok := strings.CutPrefix(f.Path, "data."); ok {
				v.unread = append(v.unread, rest)
			}
		case *Template:
			if rest, ok := strings.CutPrefix(f.Path, "data."); ok {
				v.unread = append(v.unread, rest)
			}
		case *[]Card:
			if i, rest, ok := elementPath(f.Path); ok && i < len(*v) {
				(*v)[i].unread = append((*v)[i].unread, rest)
			}
		case *[]Template:
			if i, rest, ok := elementPath(f.Path); ok && i < len(*v) {
				(*v)[i].unread = append((*v)[i].unread, rest)
			}
		}
	}
}

// elementPath splits "data[3].balance.balance" into 3 and "balance.balance".
func elementPath(path string) (int, string, bool) {
	rest, ok := strings.CutPrefix(path, "data[")
	if !ok {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(rest, "]")
	i, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, "", false
	}
	return i, strings.TrimPrefix(rest, "."), true
}
