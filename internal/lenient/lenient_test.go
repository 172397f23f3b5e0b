package lenient

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type inner struct {
	Limit  int     `json:"limit"`
	Active bool    `json:"active"`
	Price  float64 `json:"price"`
}

type Embedded struct {
	Promoted int `json:"promoted"`
}

type model struct {
	Embedded
	ID       string          `json:"id"`
	Count    int             `json:"count"`
	Small    int8            `json:"small"`
	Unsigned uint            `json:"unsigned"`
	Amount   float64         `json:"amount"`
	Flag     bool            `json:"flag"`
	Inner    inner           `json:"inner"`
	Ptr      *inner          `json:"ptr"`
	List     []inner         `json:"list"`
	Map      map[string]int  `json:"map"`
	Any      any             `json:"any"`
	When     time.Time       `json:"when"`
	Raw      json.RawMessage `json:"raw"`
	Ignored  int             `json:"-"`
	Untagged int
	Nested   map[string]*inner `json:"nested"`
}

func TestWellTypedDocumentIsRead(t *testing.T) {
	t.Parallel()
	var m model
	problems, err := Unmarshal([]byte(`{"id":"a","count":3,"flag":true,"inner":{"limit":2}}`), &m)
	require.NoError(t, err)
	assert.Empty(t, problems)
	assert.Equal(t, model{ID: "a", Count: 3, Flag: true, Inner: inner{Limit: 2}}, m)
}

func TestLiveShapesAreRead(t *testing.T) {
	t.Parallel()
	var m model
	doc := `{"promoted":"7","id":105,"count":"12","small":"-3","unsigned":"9","amount":"125.50","flag":1,
		"inner":{"limit":"4.0","active":"true","price":" 2.5 "},"ptr":{"active":"0"},"list":[{"limit":"1"},{"active":0}],
		"map":{"a":"1","b":2},"any":{"n":1.5},"when":"2026-01-01T00:00:00Z","raw":{"k":[1,"x"]},
		"UNTAGGED":"5","nested":{"x":{"limit":"3"}},"unknown":{"deep":"ignored"}}`
	problems, err := Unmarshal([]byte(doc), &m)
	require.NoError(t, err)
	assert.Empty(t, problems)
	assert.Equal(t, 7, m.Promoted, "embedded fields are promoted")
	assert.Equal(t, "105", m.ID, "a number for a string keeps its text")
	assert.Equal(t, 12, m.Count)
	assert.Equal(t, int8(-3), m.Small)
	assert.Equal(t, uint(9), m.Unsigned)
	assert.Equal(t, 125.5, m.Amount)
	assert.True(t, m.Flag)
	assert.Equal(t, inner{Limit: 4, Active: true, Price: 2.5}, m.Inner)
	require.NotNil(t, m.Ptr)
	assert.False(t, m.Ptr.Active)
	assert.Equal(t, []inner{{Limit: 1}, {}}, m.List)
	assert.Equal(t, map[string]int{"a": 1, "b": 2}, m.Map)
	assert.Equal(t, map[string]any{"n": 1.5}, m.Any, "interfaces get what encoding/json gives them")
	assert.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), m.When, "types with their own UnmarshalJSON use it")
	assert.JSONEq(t, `{"k":[1,"x"]}`, string(m.Raw))
	assert.Equal(t, 5, m.Untagged, "names match case-insensitively, as in encoding/json")
	assert.Equal(t, 3, m.Nested["x"].Limit)
}

func TestWhatCannotBeReadIsReportedEveryTimeAndLeftZero(t *testing.T) {
	t.Parallel()
	var m model
	doc := `{"id":{"x":1},"count":"lots","small":300,"unsigned":-1,"amount":"NaN","flag":"yes",
		"inner":{"limit":4.5,"active":2,"price":[1]},"list":[{"limit":"x"}],"map":[1],"when":"yesterday","Count":1}`
	problems, err := Unmarshal([]byte(doc), &m)
	require.NoError(t, err)
	paths := map[string]string{}
	for _, p := range problems {
		paths[p.Path] = p.Reason
	}
	for _, want := range []string{"id", "small", "unsigned", "amount", "flag", "inner.limit", "inner.active",
		"inner.price", "list[0].limit", "map", "when"} {
		assert.Contains(t, paths, want)
	}
	assert.Equal(t, "want a whole number that fits int8, got a number", paths["small"])
	assert.Equal(t, "want a string, got an object", paths["id"])
	assert.Equal(t, model{Count: m.Count, List: []inner{{}}}, m, "every unreadable field is zero")
	for _, p := range problems {
		assert.NotContains(t, p.Reason, "lots", "a reason never quotes the value")
		assert.NotContains(t, p.Reason, "yesterday")
	}
}

func TestTopLevelOfTheWrongKindIsAProblemAtTheRoot(t *testing.T) {
	t.Parallel()
	var m model
	problems, err := Unmarshal([]byte(`["not","an","object"]`), &m)
	require.NoError(t, err)
	require.Len(t, problems, 1)
	assert.Equal(t, "", problems[0].Path)

	var env struct {
		Data any `json:"data"`
	}
	env.Data = &m
	problems, err = Unmarshal([]byte(`{"data":[1,2]}`), &env)
	require.NoError(t, err)
	require.Len(t, problems, 1)
	assert.Equal(t, "data", problems[0].Path, "an interface holding a pointer is decoded in place")
}

func TestNotJSONIsAnError(t *testing.T) {
	t.Parallel()
	var m model
	_, err := Unmarshal([]byte(`{"id":`), &m)
	var syntaxErr *json.SyntaxError
	assert.ErrorAs(t, err, &syntaxErr)
}

func TestSecretsAreNeverQuoted(t *testing.T) {
	t.Parallel()
	var v struct {
		Key int `json:"apiKey"`
	}
	problems, err := Unmarshal([]byte(`{"apiKey":"sk_live_supersecret"}`), &v)
	require.NoError(t, err)
	require.Len(t, problems, 1)
	assert.False(t, strings.Contains(problems[0].Reason, "supersecret"))
}
