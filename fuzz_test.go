// Fuzz targets for everything that parses bytes from outside.

package loyalty

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// The fuzz targets cover everything that parses bytes from outside. Their seeds, in
// testdata/fuzz/, are the real fixtures; go test runs them as ordinary tests, and
// go test -fuzz=FuzzName explores from them. Properties checked, beyond "no panic": what
// decodes re-encodes to JSON in the API's forms, and no error text carries the API key.

// fuzzClient decodes as a real client does, with the test key to keep out of errors.
func fuzzClient() *Client {
	return &Client{apiKey: hide(testKey), appToken: hide(testAppToken), logger: slog.New(slog.DiscardHandler)}
}

func FuzzDecodeModels(f *testing.F) {
	for i, fx := range modelFixtures {
		f.Add(uint8(i), fixtureBytes(f, fx.fixture))
	}
	c := fuzzClient()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		fx := modelFixtures[int(which)%len(modelFixtures)]
		out := fx.model()
		res := &transport.Result{Response: &http.Response{StatusCode: 200, Header: http.Header{}}, Body: body}
		resp := &Response{Response: res.Response}
		err := c.decode(&call{method: "GET", path: "x", out: out, app: fx.app}, res, resp)
		if err != nil {
			if strings.Contains(err.Error(), testKey) {
				t.Fatalf("the key in an error: %v", err)
			}
			if !typed(err) {
				t.Fatalf("an untyped error: %T %v", err, err)
			}
			return
		}
		encoded, err := json.Marshal(out)
		if errors.Is(err, ErrSecretNotMarshalled) {
			// A model holding a secret refuses JSON; without it, the rest re-encodes.
			clearSecrets(reflect.ValueOf(out))
			encoded, err = json.Marshal(out)
		}
		if err != nil {
			t.Fatalf("decoded, but does not re-encode: %v", err)
		}
		checkAPIForms(t, encoded, out)
		for _, u := range resp.UnreadFields {
			if strings.Contains(u.Reason, testKey) {
				t.Fatalf("the key in an unread field's reason")
			}
		}
	})
}

// clearSecrets empties every Secret v holds.
func clearSecrets(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			clearSecrets(v.Elem())
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			clearSecrets(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[Secret]() {
			v.Set(reflect.ValueOf(Secret{}))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				clearSecrets(v.Field(i))
			}
		}
	}
}

// checkAPIForms requires the re-encoded JSON to be valid, and every date-time the model
// holds to be written in the API's form.
func checkAPIForms(t *testing.T, encoded []byte, model any) {
	t.Helper()
	if !json.Valid(encoded) {
		t.Fatalf("re-encoded JSON is not valid: %s", encoded)
	}
	walkTimestamps(reflect.ValueOf(model), func(ts Timestamp) {
		if ts.Time.IsZero() {
			return
		}
		out, err := ts.MarshalJSON()
		if err != nil {
			t.Fatalf("a date-time that does not encode: %v", err)
		}
		var s string
		if err := json.Unmarshal(out, &s); err != nil {
			t.Fatalf("a date-time encoded as %s", out)
		}
		if _, err := time.Parse(wireTimeLayout, s); err != nil {
			t.Fatalf("a date-time not in the API's form: %q", s)
		}
	})
}

var timestampType = reflect.TypeFor[Timestamp]()

// walkTimestamps calls f with every Timestamp reachable from v.
func walkTimestamps(v reflect.Value, f func(Timestamp)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkTimestamps(v.Elem(), f)
		}
	case reflect.Struct:
		if v.Type() == timestampType {
			f(v.Interface().(Timestamp))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkTimestamps(v.Field(i), f)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkTimestamps(v.Index(i), f)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkTimestamps(v.MapIndex(k), f)
		}
	}
}

func FuzzErrorBody(f *testing.F) {
	for _, name := range []string{"error-validation.json", "error-irrelevant-accrual.json", "error-marketplace.json", "error-not-found.html"} {
		f.Add(400, fixtureBytes(f, name))
	}
	f.Add(500, []byte(`{"message":"`+testKey+`"}`))
	f.Add(404, []byte(`<html>`+testKey+`</html>`))
	c := fuzzClient()
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		status = 400 + (status%200+200)%200 // 400 to 599
		req, _ := http.NewRequest("GET", "https://api.example/api/v2/cards/1?q=x", nil)
		secrets := c.secrets(nil, &call{})
		e := newAPIError(&http.Response{StatusCode: status, Header: http.Header{}, Request: req}, scrubBytes(body, secrets), "GET", "/api/v2/cards/1")
		e.redact(secrets)
		msg := e.Error()
		if strings.Contains(msg, testKey) || strings.Contains(e.Body, testKey) || strings.Contains(e.Message, testKey) {
			t.Fatalf("the key in an error: %q", msg)
		}
		if strings.Contains(msg, "\n") && !strings.Contains(e.Message, "\n") {
			t.Fatalf("a multi-line error from a one-line message: %q", msg)
		}
		if len(e.Body) > maxErrorBody+len("…") {
			t.Fatalf("the kept body is over its bound: %d bytes", len(e.Body))
		}
		if strings.Contains(e.URL, "?") {
			t.Fatalf("a query string in the error: %q", e.URL)
		}
	})
}

func FuzzCardType(f *testing.F) {
	for _, s := range []string{`0`, `7`, `"stamp"`, `"certificate"`, `"subscription"`, `null`, `"7"`, `-1`, `8`, `1.5`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ct CardType
		if err := ct.UnmarshalJSON(data); err != nil {
			t.Fatalf("CardType refuses nothing, it reads unknown: %v", err)
		}
		out, err := json.Marshal(ct)
		if err != nil || !json.Valid(out) {
			t.Fatalf("re-encoding %v: %s %v", ct, out, err)
		}
		if ct.Known() {
			var back CardType
			if err := json.Unmarshal(out, &back); err != nil || back != ct {
				t.Fatalf("round trip of %v gave %v", ct, back)
			}
		}
	})
}

func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{`"2026-01-11T19:40:00+00:00"`, `"2026-01-10 09:30:00"`, `1765734064`, `"1765734064"`, `null`, `""`,
		`"2026-01-11T19:40:00.123Z"`, `"2026-01-11"`, `"yesterday"`, `"\u0032026-01-11"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var ts Timestamp
		if err := ts.UnmarshalJSON(data); err != nil {
			t.Fatalf("Timestamp keeps what it cannot read, it does not fail: %v", err)
		}
		out, err := ts.MarshalJSON()
		if err != nil || !json.Valid(out) {
			t.Fatalf("re-encoding: %s %v", out, err)
		}
		if ts.Time.IsZero() {
			return
		}
		var back Timestamp
		if err := back.UnmarshalJSON(out); err != nil || !back.Time.Equal(ts.Time.Truncate(time.Second)) && ts.Time.Year() >= 0 && ts.Time.Year() <= 9999 {
			t.Fatalf("%s read as %v, written %s, read back as %v", data, ts.Time, out, back.Time)
		}
		var d Date
		if err := d.UnmarshalJSON(data); err != nil {
			t.Fatalf("Date: %v", err)
		}
		if !d.IsZero() {
			if _, err := d.MarshalJSON(); err != nil {
				t.Fatalf("Date re-encoding: %v", err)
			}
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	for _, s := range []string{
		`{"timestamp":1767225600,"event":"CardBalanceUpdatedEvent","data":{"serial_number":"638920-251-210","template_id":"955805","bonus_balance":"12.5"}}`,
		`{"timestamp":"1767225600","event":"UserTemplateCreatedEvent","data":{"id":7,"name":"Coffee","user":"u1","timestamp":1767225600}}`,
		`{"timestamp":1767225600,"event":"SomethingNewEvent","data":null}`, `{"event":""}`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := ParseEvent(body)
		if err != nil {
			if !errors.Is(err, ErrBadDelivery) {
				t.Fatalf("an error that is not ErrBadDelivery: %v", err)
			}
			return
		}
		if e.Name == "" || e.Timestamp.IsZero() {
			t.Fatalf("accepted without a name or a time: %+v", e)
		}
		for _, read := range []func() error{
			func() error { _, err := e.Card(); return err },
			func() error { _, err := e.Customer(); return err },
			func() error { _, err := e.Company(); return err },
			func() error { _, err := e.Template(); return err },
		} {
			_ = read() // may refuse a payload of another shape; must not panic
		}
		again, err := ParseEvent(body)
		if err != nil || again.Key() != e.Key() {
			t.Fatalf("the same delivery read twice gave two keys")
		}
	})
}
