// TestMain: no goroutine left behind, and no secret in any answer or error the suite gets back.

package loyalty

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
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
	text := dump.Sdump(resp)
	if err != nil {
		text += err.Error() + fmt.Sprintf("%+v", err) + dump.Sdump(err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.scanned++
	for _, s := range secrets {
		for _, f := range forms(s) {
			if len(f) >= 6 && strings.Contains(text, f) {
				a.leaks = append(a.leaks, fmt.Sprintf("a secret (%d bytes) in a returned value:\n%s", len(s), text))
			}
		}
	}
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
