package loyalty

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
)

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

// intSegment validates a numeric id path parameter.
func intSegment(name string, v int) (string, error) {
	if v <= 0 {
		return "", invalid(name, "must be a positive id")
	}
	return strconv.Itoa(v), nil
}

// ID is an identifier the API documents as a string in one place and a number in another
// (a card serial inside a subscription, say). It reads either and keeps the text.
type ID string

// UnmarshalJSON accepts a JSON string or number; null leaves it empty.
func (id *ID) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	switch {
	case len(data) == 0 || string(data) == "null":
		*id = ""
	case data[0] == '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		*id = ID(s)
	default:
		*id = ID(data)
	}
	return nil
}
