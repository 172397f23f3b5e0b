package loyalty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// wireTimeLayout is the date-time form the API takes: seconds and a numeric offset, no
// fraction, no "Z" (PHP's Y-m-d\TH:i:sP).
const wireTimeLayout = "2006-01-02T15:04:05-07:00"

// dateLayout is the form of dates and date filters.
const dateLayout = "2006-01-02"

// readTimeLayouts are the forms accepted when reading, most likely first.
var readTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05-0700", "2006-01-02 15:04:05", "2006-01-02T15:04:05", dateLayout}

// Timestamp is a date-time as the API sends and takes it.
//
// Reading is lenient: RFC 3339 and the usual variants, Unix seconds, null and "" (zero) are all
// accepted, and a string that is none of these leaves the time zero and is kept by Raw instead
// of failing the decode. Writing uses the API's form, 2006-01-02T15:04:05-07:00.
type Timestamp struct {
	time.Time
	raw string
}

// Raw returns the text received when it could not be read as a time, and "" otherwise.
func (t Timestamp) Raw() string { return t.raw }

// String formats the time in the API's form, or returns the raw text it could not read.
func (t Timestamp) String() string {
	if t.Time.IsZero() {
		return t.raw
	}
	return t.Time.Format(wireTimeLayout)
}

// IsZero reports whether no time (and no unreadable text) was received; it drives omitzero.
func (t Timestamp) IsZero() bool { return t.Time.IsZero() && t.raw == "" }

// MarshalJSON writes the API's form; a zero Timestamp is null.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.Time.IsZero() {
		if t.raw != "" {
			return json.Marshal(t.raw)
		}
		return []byte("null"), nil
	}
	return []byte(`"` + t.Time.Format(wireTimeLayout) + `"`), nil
}

// UnmarshalJSON reads leniently; see Timestamp.
func (t *Timestamp) UnmarshalJSON(data []byte) error {
	*t = Timestamp{}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil
	}
	if data[0] != '"' {
		if secs, err := strconv.ParseFloat(string(data), 64); err == nil && writable(time.Unix(int64(secs), 0)) {
			t.Time = time.Unix(int64(secs), 0).UTC()
		}
		return nil
	}
	text, ok := unquote(data)
	if !ok || len(text) == 0 {
		return nil
	}
	if v, ok := parseTimeText(text); ok && writable(v) {
		t.Time = v
		return nil
	}
	t.raw = string(text)
	return nil
}

// writable reports a time the API's form can write: a four-digit year. Anything else is kept
// as raw text, so that what was read can be written back in a form the API takes.
func writable(t time.Time) bool { return t.Year() >= 1 && t.Year() <= 9999 }

// unquote returns the text of a JSON string. The common case, with nothing escaped, is the
// bytes between the quotes, so a card's dozen dates cost no allocation.
func unquote(data []byte) ([]byte, bool) {
	if len(data) >= 2 && data[len(data)-1] == '"' && bytes.IndexByte(data, '\\') < 0 {
		return data[1 : len(data)-1], true
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, false
	}
	return []byte(s), true
}

// parseTimeText reads Unix seconds or one of the read layouts. The layout the text's shape
// names is tried first: a failed time.Parse allocates its error.
func parseTimeText(text []byte) (time.Time, bool) {
	if len(text) >= 9 && allDigits(text) {
		if secs, err := strconv.ParseInt(string(text), 10, 64); err == nil {
			return time.Unix(secs, 0).UTC(), true // Unix seconds, quoted
		}
	}
	if layout := likelyLayout(text); layout != "" {
		if v, err := time.Parse(layout, string(text)); err == nil {
			return v, true
		}
	}
	for _, layout := range readTimeLayouts {
		if v, err := time.Parse(layout, string(text)); err == nil {
			return v, true
		}
	}
	return time.Time{}, false
}

// likelyLayout picks the read layout the shape of s suggests, or "".
func likelyLayout(s []byte) string {
	switch {
	case len(s) == len(dateLayout):
		return dateLayout
	case len(s) == 19 && s[10] == ' ':
		return "2006-01-02 15:04:05"
	case len(s) >= 20 && s[10] == 'T':
		return time.RFC3339Nano
	}
	return ""
}

func allDigits(s []byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Date is a calendar day without a time or zone, as in a date of birth or a date filter.
// The zero Date means "not set".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar day of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate reads a YYYY-MM-DD date, and returns it.
//
// Errors: an error naming the text when it is not a date of that form.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("loyalty: date %q is not YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// IsZero reports whether the date is unset.
func (d Date) IsZero() bool { return d == Date{} }

// String formats the date as YYYY-MM-DD, or "" when unset.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// valid reports whether the date names a real day with a four-digit year.
func (d Date) valid() bool {
	return d.IsZero() || d.Year >= 1000 && d.Year <= 9999 && DateOf(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)) == d
}

// The API keeps date-times in SQL TIMESTAMP columns of 32 bits, which hold
// 1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC and nothing else.
var (
	firstStored = time.Date(1970, time.January, 1, 0, 0, 1, 0, time.UTC)
	lastStored  = time.Date(2038, time.January, 19, 3, 14, 7, 0, time.UTC)
)

// checkStored refuses a date-time the API cannot store. A zero time passes: it means "not set".
func checkStored(name string, t time.Time) error {
	if t.IsZero() || !t.Before(firstStored) && !t.After(lastStored) {
		return nil
	}
	return invalid(name, "must be between 1970-01-01T00:00:01Z and 2038-01-19T03:14:07Z, the range the API stores")
}

// MarshalJSON writes "YYYY-MM-DD", or null when unset.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON accepts YYYY-MM-DD and full date-times; anything unreadable leaves it unset.
func (d *Date) UnmarshalJSON(data []byte) error {
	*d = Date{}
	var ts Timestamp
	if err := ts.UnmarshalJSON(data); err != nil || ts.Time.IsZero() {
		return nil
	}
	*d = DateOf(ts.Time)
	return nil
}

// EncodeValues lets a Date be a query filter (go-querystring); an unset date adds nothing.
func (d Date) EncodeValues(key string, v *url.Values) error {
	if !d.IsZero() {
		v.Set(key, d.String())
	}
	return nil
}

// checkRange refuses impossible dates and a range that ends before it starts.
func checkRange(start, end Date) error {
	switch {
	case !start.valid():
		return invalid("startDate", "is not a calendar day with a four-digit year")
	case !end.valid():
		return invalid("endDate", "is not a calendar day with a four-digit year")
	case !start.IsZero() && !end.IsZero() && end.String() < start.String():
		return invalid("endDate", "is before startDate")
	}
	return nil
}
