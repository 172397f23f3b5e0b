package lenient

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestScan(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		doc  string
		want Shape
	}{
		{`{"code":200,"data":{"id":"1"}}`, Shape{Top: Object, Data: Object, Objects: 2}},
		{`{"data":[{},{},1]}`, Shape{Top: Object, Data: Array, Items: 3, LongestArray: 3, Elements: 3, Objects: 3}},
		{`{"message":"data","data":null}`, Shape{Top: Object, Data: Null, Objects: 1}},
		{`{"debug":{"data":1}}`, Shape{Top: Object, Data: Missing, Objects: 2}},
		{`{"d\u0061ta":[1,2]}`, Shape{Top: Object, Data: Array, Items: 2, LongestArray: 2, Elements: 2, Objects: 1}},
		{`{"DATA":"x"}`, Shape{Top: Object, Data: Scalar, Objects: 1}},
		{`{"data":[1,2,3],"data":[4]}`, Shape{Top: Object, Data: Array, Items: 3, LongestArray: 3, Elements: 4, Objects: 1}},
		{`{"a":"x\"data\":[1]","b":[[1,2],[3]]}`, Shape{Top: Object, LongestArray: 2, Elements: 5, Objects: 1}},
		{` [ ] `, Shape{Top: Array}},
		{`-1.5e+3`, Shape{Top: Scalar}},
	} {
		got, ok := Scan([]byte(tt.doc))
		assert.True(t, ok, tt.doc)
		assert.Equal(t, tt.want, got, tt.doc)
	}
	// Brackets and strings that do not close, and more than one value, are refused; the
	// rest of JSON's grammar is left to the decoder.
	for _, bad := range []string{``, `{`, `[}`, `{"a":1}x`, `1 2`, `"open`, `{"open`, strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)} {
		_, ok := Scan([]byte(bad))
		assert.False(t, ok, "%.40q", bad)
	}
}

func TestScanAllocatesNothing(t *testing.T) {
	doc := []byte(`{"code":200,"data":[{"id":"1","n":[1,2,3],"s":"a\"b"},{"id":"2"}],"meta":{"x":null,"t":true}}`)
	assert.Zero(t, testing.AllocsPerRun(100, func() { _, _ = Scan(doc) }))
}

// FuzzScan holds the scanner to encoding/json: it accepts every document encoding/json
// accepts, and finds the data member and its length as decoding does.
func FuzzScan(f *testing.F) {
	for _, s := range []string{`{"data":[{},1,"x",null,true]}`, `{"data":null}`, `{"Data":{"a":[1,[2]]}}`, `[{"data":1}]`, `{"d\u0061ta":[]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		shape, ok := Scan(doc)
		if !json.Valid(doc) {
			return // the scanner may accept more: the decoder then refuses it
		}
		if !ok {
			t.Fatalf("valid JSON refused: %q", doc)
		}
		var env struct{ Data json.RawMessage }
		if json.Unmarshal(doc, &env) != nil {
			return // not an object at the top
		}
		var items []json.RawMessage
		switch {
		case env.Data == nil && shape.Data != Missing && shape.Data != Null:
			t.Fatalf("no data member, scanned as %v: %q", shape.Data, doc)
		case string(env.Data) == "null" && shape.Data != Null:
			t.Fatalf("data null, scanned as %v: %q", shape.Data, doc)
		case json.Unmarshal(env.Data, &items) == nil && env.Data[0] == '[' && shape.Items < len(items):
			t.Fatalf("data has %d items, scanned %d: %q", len(items), shape.Items, doc)
		}
	})
}

// FuzzTree holds the tree builder to encoding/json with UseNumber, value for value.
func FuzzTree(f *testing.F) {
	for _, s := range []string{`{"a":[1,-2.5e3,"x\u00e9\"",true,null,{}],"a":{"b":"\ud83d\ude00"}}`, `"\xff\xfe"`, `[]`, `-0`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(doc))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Skip()
		}
		got, err := tree(doc)
		if err != nil {
			t.Fatalf("valid JSON refused: %q: %v", doc, err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%q: want %#v, got %#v", doc, want, got)
		}
	})
}

func TestScanWithin(t *testing.T) {
	t.Parallel()
	wide := Bounds{Items: 1000, Array: 1000, Elements: 50_000, Objects: 100_000}
	doc := []byte(`{"code":200,"data":{"id":"1","tags":["a,b","c"]},"meta":{"x":[1,2]}}`)
	s, ok := ScanWithin(doc, wide)
	assert.True(t, ok)
	assert.Equal(t, Object, s.Data, "found by the quick path")
	exact, _ := Scan(doc)
	assert.GreaterOrEqual(t, s.Elements, exact.Elements, "an upper bound")
	assert.GreaterOrEqual(t, s.Objects, exact.Objects)

	page := []byte(`{"data":[{},{},{}]}`)
	s, _ = ScanWithin(page, Bounds{Items: 2, Array: 1000, Elements: 50_000, Objects: 100_000})
	assert.Equal(t, 3, s.Items, "over a bound by the counts: read exactly")
}

// FuzzScanWithin: its counts are never below the exact ones, and it finds the data member
// as decoding does (when there is one of it).
func FuzzScanWithin(f *testing.F) {
	for _, s := range []string{`{"data":[{},1,"x,[{"]}`, `{"a":{"data":1},"data":null}`, `{"Data":{"a":[1,[2]]}}`, `[{"data":1}]`} {
		f.Add([]byte(s))
	}
	wide := Bounds{Items: 1000, Array: 1000, Elements: 50_000, Objects: 100_000}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if !json.Valid(doc) || bytes.Count(bytes.ToLower(doc), []byte(`"data"`)) > 1 || bytes.Contains(doc, []byte(`\`)) {
			return // a data member repeated, or escaped, is judged by the first: Scan takes the last
		}
		quick, ok := ScanWithin(doc, wide)
		exact, ok2 := Scan(doc)
		if !ok || !ok2 {
			t.Fatalf("valid JSON refused: %q", doc)
		}
		if quick.Data != exact.Data || quick.Top != exact.Top {
			t.Fatalf("%q: quick %v/%v, exact %v/%v", doc, quick.Top, quick.Data, exact.Top, exact.Data)
		}
		if quick.Elements < exact.Elements || quick.Objects < exact.Objects || quick.LongestArray < exact.LongestArray {
			t.Fatalf("%q: quick %+v is below exact %+v", doc, quick, exact)
		}
	})
}
