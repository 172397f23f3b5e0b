package lenient

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wellTyped are documents encoding/json reads into a model without an error: Decode must read
// each exactly as it does.
var wellTyped = []string{
	`{"id":"a","count":3,"flag":true,"inner":{"limit":2}}`,
	`{"promoted":7,"small":-128,"unsigned":18446744073709551615,"amount":-1.5e-3,"Untagged":4}`,
	`{"ID":"upper","COUNT":1,"count":2,"iD":"last wins"}`,
	`{"list":[{"limit":1},{"active":true}],"list":[{"price":2}]}`,
	`{"map":{"a":1,"b":2},"map":{"c":3},"nested":{"x":{"limit":3},"y":null}}`,
	`{"any":{"n":1.5,"s":"x","a":[1,"2",null,true,{}],"o":{}},"raw":[1, 2 ,{"k":null}]}`,
	`{"when":"2026-01-01T10:00:00+02:00","ptr":{"price":0.1},"ptr":null}`,
	`{"id":"\u00e9\ud83d\ude00\n\"quoted\"","ignored":5,"unknown":{"deep":[[[]]]}}`,
	`{"id":"caf\u00e9","\u0069d":"escaped key"}`,
	`{"\u212a":0,"ſmall":1}`, // the Kelvin sign folds to K, the long s to S, as in encoding/json
	` { "list" : [ ] , "map" : { } , "any" : null , "raw" : "s" } `,
	`{"list":null,"map":null,"ptr":null,"any":null,"id":null,"count":null,"inner":null}`,
	`null`,
	`{"fixed":[1,2,3,4],"bytes":"aGVsbG8="}`,
	"{\"id\":\"invalid \xff utf-8\",\"\xfe\":1}",
}

// wellTypedModel adds to model the kinds encoding/json reads that the SDK's models do not use.
type wellTypedModel struct {
	model
	Fixed [2]int `json:"fixed"`
	Bytes []byte `json:"bytes"`
}

func TestDecodeReadsWellTypedDocumentsAsEncodingJSONDoes(t *testing.T) {
	t.Parallel()
	for _, doc := range wellTyped {
		var want, got wellTypedModel
		require.NoError(t, json.Unmarshal([]byte(doc), &want), doc)
		res, err := Decode([]byte(doc), &got, Bounds{})
		require.NoError(t, err, doc)
		assert.Empty(t, res.Problems, doc)
		assert.Equal(t, want, got, doc)
	}
}

// Decoding into values already set follows encoding/json too: structs and maps are merged
// into, null clears pointers, maps and slices, and leaves the rest.
func TestDecodeIntoSetValuesAsEncodingJSONDoes(t *testing.T) {
	t.Parallel()
	start := func() wellTypedModel {
		return wellTypedModel{model: model{ID: "kept", Count: 9, Ptr: &inner{Limit: 1}, List: []inner{{Limit: 5}, {Limit: 6}},
			Map: map[string]int{"old": 1}, Any: "before", Nested: map[string]*inner{"x": {Price: 1}}}, Fixed: [2]int{7, 8}}
	}
	for _, doc := range []string{
		`{"count":1,"ptr":{"price":2},"list":[{"price":3}],"map":{"new":2},"fixed":[1]}`,
		`{"id":null,"ptr":null,"list":null,"map":null,"any":null,"nested":null}`,
		`{"any":{"k":1},"nested":{"x":{"limit":2}}}`,
	} {
		want, got := start(), start()
		require.NoError(t, json.Unmarshal([]byte(doc), &want), doc)
		_, err := Decode([]byte(doc), &got, Bounds{})
		require.NoError(t, err, doc)
		assert.Equal(t, want, got, doc)
	}
}

func TestDecodeRefusesWhatIsNotJSON(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{``, ` `, `{`, `[}`, `{"a":1}x`, `1 2`, `"open`, `{"open`, `{"a" 1}`, `{"a":1,}`, `[1,]`,
		`01`, `1.`, `-`, `1e`, `tru`, `nul`, `"\x"`, "\"\x01\"", `"\u12"`, `{"id":"a"}}`, `{1:2}`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001)} {
		var m model
		_, err := Decode([]byte(doc), &m, Bounds{})
		var syntaxErr *json.SyntaxError
		assert.ErrorAs(t, err, &syntaxErr, "%.40q", doc)
		assert.False(t, json.Valid([]byte(doc)), "%.40q is JSON", doc)
	}
}

func TestDecodeReportsTheShapeOfTheTop(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		doc       string
		top, data Kind
	}{
		{`{"code":200,"data":{"id":"1"}}`, Object, Object},
		{`{"data":[{},{},1]}`, Object, Array},
		{`{"message":"data","data":null}`, Object, Null},
		{`{"debug":{"data":1}}`, Object, Missing},
		{`{"d\u0061ta":[1,2]}`, Object, Array},
		{`{"DATA":"x"}`, Object, Scalar},
		{`{"data":[1,2,3],"data":null}`, Object, Null},
		{` [ ] `, Array, Missing},
		{`-1.5e+3`, Scalar, Missing},
	} {
		var v struct {
			Data any `json:"data"`
		}
		res, err := Decode([]byte(tt.doc), &v, Bounds{})
		require.NoError(t, err, tt.doc)
		assert.Equal(t, tt.top, res.Top, tt.doc)
		assert.Equal(t, tt.data, res.Data, tt.doc)
	}
}

// Each bound stops the decode where it is crossed, with what crossed it; a document at the
// bound is read.
func TestDecodeKeepsToItsBounds(t *testing.T) {
	t.Parallel()
	list := func(n int, item string) string {
		return "[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]"
	}
	b := Bounds{Items: 3, Array: 5, Elements: 12, Objects: 10}
	for _, tt := range []struct {
		name, doc, refuse string
	}{
		{"items at the bound", `{"data":` + list(3, `{}`) + `}`, ""},
		{"items over", `{"data":` + list(7, `{}`) + `}`, "the page has 7 items, more than the 3 asked for"},
		{"items over, data repeated", `{"data":[],"data":` + list(4, `1`) + `}`, "the page has 4 items"},
		{"items over, key escaped", `{"d\u0061ta":` + list(4, `1`) + `}`, "the page has 4 items"},
		{"an array elsewhere may be longer", `{"other":` + list(5, `1`) + `}`, ""},
		{"one array over", `{"other":` + list(6, `1`) + `}`, "an array of 6 elements, more than the 5 allowed"},
		{"what is skipped is not counted", `{"unknown":[` + list(20, `{"a":{}}`) + `]}`, ""},
		{"nor what is past a bound", `{"other":[1,1,1,1,1,` + list(8, `1`) + `]}`, "an array of 6 elements"},
		{"elements over", `{"a":` + list(5, `1`) + `,"b":` + list(5, `1`) + `,"c":` + list(3, `1`) + `}`, "more than 12 array elements"},
		{"map entries count as elements", `{"a":{"1":1,"2":2,"3":3,"4":4,"5":5,"6":6,"7":7,"8":8,"9":9,"10":10,"11":11,"12":12,"13":13}}`, "more than 12 array elements and map entries"},
		{"objects under the bound", `{"a":` + list(4, `{"a":{}}`) + `}`, ""},
		{"objects over", `{"a":` + list(5, `{"a":{}}`) + `}`, "more than 10 objects"},
	} {
		var v struct {
			Data  []struct{} `json:"data"`
			Other []any      `json:"other"`
			A     any        `json:"a"`
			B, C  []int
		}
		_, err := Decode([]byte(tt.doc), &v, b)
		if tt.refuse == "" {
			assert.NoError(t, err, tt.name)
			continue
		}
		var over *OverBound
		require.ErrorAs(t, err, &over, tt.name)
		assert.Contains(t, err.Error(), tt.refuse, tt.name)
	}
	// Without bounds, nothing is refused.
	var v any
	_, err := Decode([]byte(`{"data":`+list(2000, `{}`)+`}`), &v, Bounds{})
	assert.NoError(t, err)
}

// The point of Decode: a live server's loose values cost what well-typed ones do.
func TestLooseValuesCostNoMoreThanWellTypedOnes(t *testing.T) {
	described := []byte(`{"id":"105","count":12,"small":-3,"amount":125.5,"flag":true,"inner":{"limit":4,"active":true,"price":2.5},
		"list":[{"limit":1},{"active":false}],"map":{"a":1}}`)
	live := []byte(`{"id":105,"count":"12","small":"-3","amount":"125.50","flag":1,"inner":{"limit":"4.0","active":"1","price":" 2.5 "},
		"list":[{"limit":"1"},{"active":0}],"map":{"a":"1"}}`)
	allocs := func(doc []byte) float64 {
		return testing.AllocsPerRun(100, func() {
			var m model
			if res, err := Decode(doc, &m, Bounds{}); err != nil || len(res.Problems) > 0 {
				t.Fatalf("%v %v", err, res.Problems)
			}
		})
	}
	var a, b model
	_, _ = Decode(described, &a, Bounds{})
	_, _ = Decode(live, &b, Bounds{})
	require.Equal(t, a, b, "both shapes read alike")
	assert.Equal(t, allocs(described), allocs(live))
}

func TestDecodeNeedsAPointer(t *testing.T) {
	t.Parallel()
	var m model
	for _, v := range []any{m, (*model)(nil), nil} {
		_, err := Decode([]byte(`{}`), v, Bounds{})
		var invalid *json.InvalidUnmarshalError
		assert.True(t, errors.As(err, &invalid), "%T", v)
	}
}

// FuzzDecode holds Decode to encoding/json: it refuses exactly what is not JSON, reads what
// encoding/json reads without a problem exactly as it does, and on the rest reports problems
// that say what was wanted, leaving a value that re-encodes.
func FuzzDecode(f *testing.F) {
	for _, s := range wellTyped {
		f.Add([]byte(s))
	}
	for _, s := range []string{`{"count":"12","amount":"125.50","flag":1}`, `[1,2]`, `{"inner":{"limit":4.5}}`,
		`{"list":[{"limit":"x"}],"map":{"a":"1"}}`, `{"ptr":null}`, `{"any":1e400}`, `{"count":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got wellTypedModel
		res, err := Decode(data, &got, Bounds{})
		if (err == nil) != json.Valid(data) {
			t.Fatalf("Decode says %v; json.Valid says %v", err, json.Valid(data))
		}
		if err != nil {
			return
		}
		var want wellTypedModel
		if json.Unmarshal(data, &want) == nil {
			if len(res.Problems) > 0 {
				t.Fatalf("problems where encoding/json has none: %v", res.Problems)
			}
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("read\n%#v\nwhere encoding/json reads\n%#v", got, want)
			}
		}
		for _, p := range res.Problems {
			if !strings.HasPrefix(p.Reason, "want ") && p.Path != MorePath {
				t.Fatalf("a reason that does not say what was wanted: %q", p.Reason)
			}
		}
		if _, err := json.Marshal(&got); err != nil {
			t.Fatalf("decoded, but does not re-encode: %v", err)
		}
	})
}
