package loyalty

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

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

// envelope is the wrapper around every success body of /api/v2. Data holds a pointer to the
// caller's value, so it is decoded in place.
type envelope struct {
	ResponseID string    `json:"responseId"`
	CreatedAt  Timestamp `json:"createdAt"`
	Data       any       `json:"data"`
	Meta       *ListMeta `json:"meta"`
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

// tolerable reports a type mismatch inside the data (a number where a string was documented,
// say). encoding/json has then decoded everything else, and the live API is known to differ
// from its description in such details, so one odd field must not cost the whole answer.
func tolerable(err error, bare bool) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te) && (strings.Contains(te.Field, ".") || bare && te.Field != "")
}
