// Every model reads the shapes the live API sends (response.go, internal/lenient).

package loyalty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// modelFixtures pairs every fixture of a success answer with the model it decodes into.
var modelFixtures = []struct {
	fixture string
	model   func() any // a pointer to a fresh value
	app     bool       // a marketplace answer, without the envelope
}{
	{"card.json", func() any { return new(Card) }, false},
	{"card-created.json", func() any { return new(Card) }, false},
	{"cards-list.json", func() any { return new([]Card) }, false},
	{"customer.json", func() any { return new(Customer) }, false},
	{"customers-list.json", func() any { return new([]Customer) }, false},
	{"company.json", func() any { return new(Company) }, false},
	{"companies-list.json", func() any { return new([]Company) }, false},
	{"deleted-card.json", func() any { return new(DeletedResource) }, false},
	{"deleted-company.json", func() any { return new(DeletedResource) }, false},
	{"deleted-tier.json", func() any { return new(DeletedResource) }, false},
	{"sso-link.json", func() any { return new(SSOLink) }, false},
	{"tariff.json", func() any { return new(Tariff) }, false},
	{"tariffs-list.json", func() any { return new([]Tariff) }, false},
	{"template.json", func() any { return new(Template) }, false},
	{"templates-list.json", func() any { return new([]Template) }, false},
	{"reward-tier.json", func() any { return new(RewardTier) }, false},
	{"push.json", func() any { return new(Push) }, false},
	{"pushes-list.json", func() any { return new([]Push) }, false},
	{"sms.json", func() any { return new(SentSMS) }, false},
	{"operations-list.json", func() any { return new([]Operation) }, false},
	{"revenue.json", func() any { return new(RevenueStats) }, false},
	{"profile.json", func() any { return new(Profile) }, false},
	{"agency-profile.json", func() any { return new(AgencyProfile) }, false},
	{"transaction.json", func() any { return new(Transaction) }, true},
	{"transaction-reversed.json", func() any { return new(Transaction) }, true},
	{"credentials.json", func() any { return new(ResolvedCredentials) }, true},
}

// liveVariants rewrite an answer the way the live API has been seen to differ from its
// description. Each returns the rewritten value and how many values it touched.
var liveVariants = map[string]func(v any) (any, int){
	"numbers as numeric strings": func(v any) (any, int) {
		return rewrite(v, func(x any) (any, bool) {
			n, ok := x.(json.Number)
			return n.String(), ok
		})
	},
	"numeric strings as numbers": func(v any) (any, int) {
		return rewrite(v, func(x any) (any, bool) {
			s, ok := x.(string)
			if !ok || !wholeNumber.MatchString(s) {
				return x, false
			}
			return json.Number(s), true
		})
	},
	"booleans as 0/1": func(v any) (any, int) {
		return rewrite(v, func(x any) (any, bool) {
			b, ok := x.(bool)
			if b {
				return json.Number("1"), ok
			}
			return json.Number("0"), ok
		})
	},
	"booleans as strings": func(v any) (any, int) {
		return rewrite(v, func(x any) (any, bool) {
			b, ok := x.(bool)
			return fmt.Sprint(b), ok
		})
	},
	"booleans as \"0\"/\"1\"": func(v any) (any, int) {
		return rewrite(v, func(x any) (any, bool) {
			b, ok := x.(bool)
			if b {
				return "1", ok
			}
			return "0", ok
		})
	},
}

// wholeNumber is a string the API could as well send as a number: an id such as "105".
var wholeNumber = regexp.MustCompile(`^[1-9][0-9]{0,14}$`)

// rewrite applies f to every scalar of the tree, keeping the envelope's own members as they are.
func rewrite(v any, f func(any) (any, bool)) (any, int) {
	touched := 0
	var walk func(x any) any
	walk = func(x any) any {
		switch n := x.(type) {
		case map[string]any:
			for k, c := range n {
				n[k] = walk(c)
			}
			return n
		case []any:
			for i, c := range n {
				n[i] = walk(c)
			}
			return n
		}
		if y, ok := f(x); ok {
			touched++
			return y
		}
		return x
	}
	return walk(v), touched
}

func decodeFixture(t *testing.T, c *Client, body []byte, target any, app bool) *Response {
	t.Helper()
	res := &transport.Result{Response: &http.Response{StatusCode: 200}, Body: body}
	out := &Response{Response: res.Response}
	require.NoError(t, c.decode(&call{method: "GET", path: "x", out: target, app: app}, res, out))
	return out
}

// TestEveryModelReadsTheLiveShapes decodes each fixture as documented, then in each live
// variant, and requires the same values with nothing left unread: no silent zero anywhere.
func TestEveryModelReadsTheLiveShapes(t *testing.T) {
	t.Parallel()
	c := &Client{logger: slog.New(slog.DiscardHandler)}
	total := map[string]int{}
	for _, fx := range modelFixtures {
		original := fixtureBytes(t, fx.fixture)
		want := fx.model()
		resp := decodeFixture(t, c, original, want, fx.app)
		require.Empty(t, resp.UnreadFields, "%s as documented", fx.fixture)
		for name, variant := range liveVariants {
			t.Run(fx.fixture+"/"+name, func(t *testing.T) {
				dec := json.NewDecoder(bytes.NewReader(original))
				dec.UseNumber()
				var tree map[string]any
				require.NoError(t, dec.Decode(&tree))
				touched := 0
				if fx.app {
					var v any
					v, touched = variant(tree)
					tree = v.(map[string]any)
				} else {
					tree["data"], touched = variant(tree["data"])
					if meta, ok := tree["meta"]; ok {
						var n int
						tree["meta"], n = variant(meta)
						touched += n
					}
				}
				body, err := json.Marshal(tree)
				require.NoError(t, err)

				got := fx.model()
				resp := decodeFixture(t, c, body, got, fx.app)
				assert.Empty(t, resp.UnreadFields, "every value of the variant is read")
				assert.Equal(t, want, got, "the same values as the documented answer")
				if !fx.app {
					wantResp := decodeFixture(t, c, original, fx.model(), false)
					assert.Equal(t, wantResp.Meta, resp.Meta, "the list meta too")
				}
				total[name] += touched
			})
		}
	}
	for name, n := range total {
		t.Logf("%s: %d values rewritten, all read", name, n)
		assert.Positive(t, n, "the fixtures exercise %s", name)
	}
}

// TestEveryModelReadsAsEncodingJSONDoes holds the SDK's own decoder to encoding/json on the
// documented answers: the same values, the envelope's included.
func TestEveryModelReadsAsEncodingJSONDoes(t *testing.T) {
	t.Parallel()
	c := &Client{logger: slog.New(slog.DiscardHandler)}
	for _, fx := range modelFixtures {
		body := fixtureBytes(t, fx.fixture)
		want, got := fx.model(), fx.model()
		resp := decodeFixture(t, c, body, got, fx.app)
		if fx.app {
			require.NoError(t, json.Unmarshal(body, want), fx.fixture)
		} else {
			env := envelope{Data: want}
			require.NoError(t, json.Unmarshal(body, &env), fx.fixture)
			assert.Equal(t, env.Meta, resp.Meta, fx.fixture)
			assert.Equal(t, env.ResponseID, resp.ResponseID, fx.fixture)
			assert.Equal(t, env.CreatedAt, resp.CreatedAt, fx.fixture)
		}
		assert.Equal(t, want, got, fx.fixture)
		assert.Empty(t, resp.UnreadFields, fx.fixture)
	}
}

// TestEveryModelHasAFixture keeps the table above honest: a model that no fixture
// decodes would not be checked by it.
func TestEveryModelHasAFixture(t *testing.T) {
	t.Parallel()
	seen := map[reflect.Type]bool{}
	for _, fx := range modelFixtures {
		typ := reflect.TypeOf(fx.model()).Elem()
		if typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		seen[typ] = true
	}
	for _, model := range []any{Card{}, Customer{}, Company{}, Tariff{}, Template{}, RewardTier{}, Push{}, SentSMS{},
		Operation{}, RevenueStats{}, Profile{}, AgencyProfile{}, Transaction{}, ResolvedCredentials{}, SSOLink{}, DeletedResource{}} {
		assert.True(t, seen[reflect.TypeOf(model)], "%T has no fixture in modelFixtures", model)
	}
}
