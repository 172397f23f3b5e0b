// A caller's slips (nil context, zero client, nil request, bad options) are errors, never panics.

package loyalty

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serviceMethods lists every exported method of every service of c, and of c itself, as
// name and bound function value.
func serviceMethods(c *Client) map[string]reflect.Value {
	out := map[string]reflect.Value{}
	cv := reflect.ValueOf(c)
	ct := reflect.TypeOf(c)
	for i := range ct.NumMethod() {
		m := ct.Method(i)
		out["Client."+m.Name] = cv.Method(i)
	}
	st := reflect.TypeOf(Client{})
	for i := range st.NumField() {
		f := st.Field(i)
		if !f.IsExported() || !strings.HasSuffix(f.Type.String(), "Service") {
			continue
		}
		sv := cv.Elem().Field(i)
		for j := range sv.NumMethod() {
			out[f.Name+"."+sv.Type().Method(j).Name] = sv.Method(j)
		}
	}
	return out
}

var ctxType = reflect.TypeFor[context.Context]()

// callMethod invokes fn with ctx (when it takes one) and args from fill, ranges an iterator it
// returns, and gives back the error it reported, or a panic as an error.
func callMethod(fn reflect.Value, ctx context.Context, fill func(i int, t reflect.Type) reflect.Value) (panicked any, err error) {
	defer func() { panicked = recover() }()
	ft := fn.Type()
	args := make([]reflect.Value, ft.NumIn())
	for i := range args {
		t := ft.In(i)
		if t == ctxType {
			if ctx == nil {
				args[i] = reflect.Zero(t)
			} else {
				args[i] = reflect.ValueOf(ctx)
			}
			continue
		}
		args[i] = fill(i, t)
	}
	var outs []reflect.Value
	if ft.IsVariadic() {
		outs = fn.CallSlice(args)
	} else {
		outs = fn.Call(args)
	}
	for _, o := range outs {
		if e, ok := o.Interface().(error); ok && e != nil {
			err = e
		}
	}
	if len(outs) == 1 && outs[0].Kind() == reflect.Func {
		// An iterator: the error comes with the first item.
		outs[0].Call([]reflect.Value{reflect.MakeFunc(outs[0].Type().In(0), func(in []reflect.Value) []reflect.Value {
			if e, ok := in[1].Interface().(error); ok && e != nil {
				err = e
			}
			return []reflect.Value{reflect.ValueOf(false)}
		})})
	}
	return nil, err
}

func zeroArgs(_ int, t reflect.Type) reflect.Value { return reflect.Zero(t) }

// callsThatNeedNoContext are the methods that take no context and report no error.
var callsThatNeedNoContext = map[string]bool{
	"Client.Format": true, "Client.String": true, "Client.LogValue": true, "Client.CloseIdleConnections": true,
}

func TestNilContextIsRefusedEverywhere(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	for name, fn := range serviceMethods(c) {
		if callsThatNeedNoContext[name] || !takesContext(fn) {
			continue
		}
		p, err := callMethod(fn, nil, zeroArgs)
		assert.Nil(t, p, "%s panicked", name)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
	}
	assert.Empty(t, ts.requests(), "nothing sent")
}

func TestZeroClientIsRefusedEverywhere(t *testing.T) {
	t.Parallel()
	var zero Client
	for name, fn := range serviceMethods(&zero) {
		if callsThatNeedNoContext[name] {
			if name == "Client.Format" {
				assert.NotPanics(t, func() { _ = fmt.Sprintf("%v %+v %#v", &zero, &zero, &zero) })
				continue
			}
			p, _ := callMethod(fn, context.Background(), zeroArgs)
			assert.Nil(t, p, "%s panicked", name)
			continue
		}
		p, err := callMethod(fn, context.Background(), zeroArgs)
		assert.Nil(t, p, "%s panicked", name)
		assert.ErrorIs(t, err, ErrInvalidArgument, name)
	}
	var nilClient *Client
	assert.NotPanics(t, func() { _ = fmt.Sprintf("%v %+v %#v %s", nilClient, nilClient, nilClient, nilClient.String()) })
	_, err := nilClient.ForAPIKey("k")
	assert.ErrorIs(t, err, ErrInvalidArgument)
	_, err = nilClient.Do(context.Background(), &Request{Method: "GET", Path: "cards"}, nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
}

func TestZeroArgumentsNeverPanic(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("/", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{"data":[]}`)) })
	for name, fn := range serviceMethods(c) {
		if callsThatNeedNoContext[name] || !takesContext(fn) {
			continue
		}
		before := len(ts.requests())
		p, err := callMethod(fn, context.Background(), zeroArgs)
		assert.Nil(t, p, "%s panicked", name)
		if len(ts.requests()) == before {
			assert.ErrorIs(t, err, ErrInvalidArgument, "%s sent nothing, so it must say why", name)
		} else {
			assert.True(t, onlyOptions(fn), "%s sent a request with zero arguments", name)
		}
	}
}

// TestNilRequestIsRefusedEverywhere gives every method valid ids and a nil request struct.
func TestNilRequestIsRefusedEverywhere(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	checked := 0
	for name, fn := range serviceMethods(c) {
		ft := fn.Type()
		hasRequest := false
		for i := range ft.NumIn() {
			hasRequest = hasRequest || isRequest(ft.In(i))
		}
		if !hasRequest {
			continue
		}
		checked++
		p, err := callMethod(fn, context.Background(), func(_ int, t reflect.Type) reflect.Value {
			switch {
			case isRequest(t):
				return reflect.Zero(t)
			case t.Kind() == reflect.String:
				return reflect.ValueOf("1").Convert(t)
			case t.Kind() == reflect.Int:
				return reflect.ValueOf(1).Convert(t)
			}
			return reflect.Zero(t)
		})
		assert.Nil(t, p, "%s panicked", name)
		assert.ErrorIs(t, err, ErrInvalidArgument, "%s with a nil request", name)
		if err != nil {
			assert.Contains(t, err.Error(), "must not be nil", "%s says what is wrong", name)
		}
	}
	assert.GreaterOrEqual(t, checked, 15, "methods with a request struct")
	assert.Empty(t, ts.requests(), "nothing sent")
}

func isRequest(t reflect.Type) bool {
	return t.Kind() == reflect.Pointer && (strings.HasSuffix(t.Elem().Name(), "Request"))
}

func takesContext(fn reflect.Value) bool {
	return fn.Type().NumIn() > 0 && fn.Type().In(0) == ctxType
}

// onlyOptions reports a method whose every argument after the context is optional (a list or
// filter options pointer), so that calling it with zero values is a valid request.
func onlyOptions(fn reflect.Value) bool {
	ft := fn.Type()
	for i := 1; i < ft.NumIn(); i++ {
		t := ft.In(i)
		if t.Kind() != reflect.Pointer || !strings.HasSuffix(t.Elem().Name(), "Options") {
			return false
		}
	}
	return true
}

func TestNilOptionIsAnError(t *testing.T) {
	t.Parallel()
	_, err := NewClient(testKey, WithRetryMax(1), nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Contains(t, err.Error(), "option 1 is nil")
}

func TestForCompanyRefusesNilAndTheRedactedPlaceholder(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	_, err := c.ForCompany(nil)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Contains(t, err.Error(), "invalid argument company: must not be nil")

	// A company printed and pasted back, or stored by an older version, carries the
	// placeholder: it is refused on the way in, so it can never be sent as a key.
	stored := `{"id":7,"name":"Bean There","apiKey":"[redacted]"}`
	var company Company
	err = json.Unmarshal([]byte(stored), &company)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "placeholder")
	_, err = c.ForAPIKey(" [redacted] ")
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Empty(t, ts.requests())
}

func TestEmptyCustomerUpdateIsRefused(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	_, _, err := c.Customers.Update(context.Background(), "c-1", &CustomerUpdateRequest{})
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Empty(t, ts.requests())
}

func TestBearerValuesDoNotPrint(t *testing.T) {
	t.Parallel()
	link := SSOLink{Link: "https://app.example.com/sso/4821?token=one-time-secret"}
	cred := Credential{Name: "storeKey", Value: NewSecret("merchant-secret")}
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("x", "link", link, "cred", cred, "creds", []Credential{cred})
	for _, s := range []string{fmt.Sprint(link), fmt.Sprintf("%+v %#v %s", link, link, link), fmt.Sprint(cred),
		fmt.Sprintf("%+v %#v %v", cred, cred, []Credential{cred}), logs.String()} {
		assert.NotContains(t, s, "one-time-secret")
		assert.NotContains(t, s, "merchant-secret")
	}
	assert.Equal(t, "https://app.example.com/sso/4821?[redacted]", link.String())
	assert.Equal(t, "storeKey=[redacted]", cred.String())
	b, err := json.Marshal(cred)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"storeKey","value":"merchant-secret"}`, string(b), "the marketplace needs the value")
}
