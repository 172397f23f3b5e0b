// TestMain: no goroutine left behind, and no secret in any answer or error the suite gets back.

package loyalty

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	_ "time/tzdata" // TZ=Pacific/Kiritimati works on a machine without zone files (CI sets it)

	"github.com/davecgh/go-spew/spew"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any of them leaves a goroutine behind (a retry
// abandoned mid-wait, an iterator stopped by break, a connection never released), or if any
// answer or error a call returned, in any test, holds a secret.
func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() == "" {
		audit = auditor.check // not for benchmarks: a dump of every answer would be what they measure
	}
	code := m.Run()
	if leaks := auditor.report(); leaks != "" {
		fmt.Fprintln(os.Stderr, leaks)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// auditor scans every *Response and error calls return, dumped the way testify's diffs dump
// values (every field, no String method called), for the secrets of the call.
var auditor secretAudit

type secretAudit struct {
	mu      sync.Mutex
	scanned int
	leaks   []string
}

var dump = spew.ConfigState{Indent: " ", DisableMethods: true, DisablePointerAddresses: true, MaxDepth: 12}

func (a *secretAudit) check(secrets []string, resp *Response, err error) {
	var all []string
	for _, s := range secrets {
		for _, f := range forms(s) {
			if len(f) >= 6 {
				all = append(all, f)
			}
		}
	}
	var found []string
	look := func(where func() string, text string) {
		for _, f := range all {
			if strings.Contains(text, f) {
				found = append(found, fmt.Sprintf("a secret (%d bytes) in a returned value, at %s:\n%s", len(f), where(), dump.Sdump(resp, err)))
			}
		}
	}
	// Every string the values hold, unexported fields and pointers followed (what a dump by
	// reflection would print, without printing it), and what the error says.
	eachString(resp, look)
	if err != nil {
		eachString(err, look)
		look(func() string { return "the error's text" }, err.Error()+fmt.Sprintf("%+v", err))
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.scanned++
	a.leaks = append(a.leaks, found...)
}

// eachString walks v by reflection, every field, element and pointer (each pointer once), and
// calls f with each string and byte slice it holds, and a function that says where.
func eachString(v any, f func(where func() string, s string)) {
	seen := map[uintptr]bool{}
	var path []string
	where := func() string { return strings.Join(path, "") }
	var walk func(rv reflect.Value)
	into := func(rv reflect.Value, step string) {
		path = append(path, step)
		walk(rv)
		path = path[:len(path)-1]
	}
	walk = func(rv reflect.Value) {
		switch rv.Kind() {
		case reflect.String:
			f(where, rv.String())
		case reflect.Pointer:
			if rv.IsNil() || seen[rv.Pointer()] {
				return
			}
			seen[rv.Pointer()] = true
			walk(rv.Elem())
		case reflect.Interface:
			if !rv.IsNil() {
				walk(rv.Elem())
			}
		case reflect.Struct:
			t := rv.Type()
			for i := range rv.NumField() {
				into(rv.Field(i), "."+t.Field(i).Name)
			}
		case reflect.Slice:
			if rv.Type().Elem().Kind() == reflect.Uint8 {
				f(where, string(rv.Bytes()))
				return
			}
			fallthrough
		case reflect.Array:
			for i := range rv.Len() {
				into(rv.Index(i), "[i]")
			}
		case reflect.Map:
			for it := rv.MapRange(); it.Next(); {
				into(it.Key(), "{key}")
				into(it.Value(), "[value]")
			}
		}
	}
	walk(reflect.ValueOf(v))
}

func (a *secretAudit) report() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.leaks, "\n")
}

func (a *secretAudit) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.scanned
}

// The audit sees what calls return, and what fails them too.
func TestTheAuditSeesEveryAnswer(t *testing.T) {
	c, ts := setup(t)
	ts.reply("GET /api/v2/cards/{id}", http.StatusOK, "card.json")
	before := auditor.count()
	_, _, err := c.Cards.Get(context.Background(), "1")
	require.NoError(t, err)
	_, _, err = c.Customers.Get(context.Background(), "nobody")
	require.Error(t, err)
	assert.Equal(t, before+2, auditor.count())
}
