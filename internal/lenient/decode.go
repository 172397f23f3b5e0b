package lenient

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Decode reads the JSON document data into v, a non-nil pointer, in one pass. It follows
// encoding/json's rules (names by tag, matched exactly or else case-insensitively; embedded
// structs; json.Unmarshaler; interfaces get maps, slices and float64s; the last of a repeated
// member wins) and reads the loose forms a live server sends as well: numbers as numeric
// strings ("125.50", "12"), whole numbers written as decimals (4.0), numbers where strings
// were documented (an id), booleans as 0/1 or "true"/"0". A value that still cannot be read
// is a Problem, at its path, and its field is left zero.
//
// It keeps to b while it reads, so that no document, however hostile, makes it allocate more
// than the bounds allow: it stops at the first bound crossed and returns an *OverBound. It
// returns an error too when data is not JSON (a *json.SyntaxError).
func Decode(data []byte, v any, b Bounds) (Result, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return Result{}, &json.InvalidUnmarshalError{Type: reflect.TypeOf(v)}
	}
	d := decoders.Get().(*decoder)
	defer d.release()
	*d = decoder{data: data, bounds: b, path: d.path[:0]}
	d.ws()
	if d.i >= len(d.data) {
		return Result{}, syntaxError(data)
	}
	d.res.Top = kindAt(d.data[d.i])
	d.value(rv.Elem(), infoOf(rv.Elem().Type()))
	if d.err == nil {
		d.ws()
		if d.i != len(d.data) {
			d.err = errSyntax
		}
	}
	switch {
	case errors.Is(d.err, errSyntax):
		return Result{}, syntaxError(data)
	case d.err != nil:
		return Result{}, d.err
	}
	if d.more > 0 {
		d.res.Problems = append(d.res.Problems, Problem{Path: MorePath, Reason: fmt.Sprintf("%d more values could not be read", d.more)})
	}
	return d.res, nil
}

// decoders keeps decoders, their path's array with them, for the next answer: a decoder made
// afresh, its path grown as it goes deeper, costs two to four allocations an answer.
var decoders = sync.Pool{New: func() any { return &decoder{path: make([]step, 0, 16)} }}

// release returns d to the pool, holding nothing of the document it read.
func (d *decoder) release() {
	clear(d.path[:cap(d.path)])
	*d = decoder{path: d.path[:0]}
	decoders.Put(d)
}

// Result is what Decode learned beside the value: the problems, and the shape of the
// document's top.
type Result struct {
	Problems []Problem
	// Top is the kind of the document, and Data the kind of its top-level object's "data"
	// member (the last one, as decoding takes it; Missing when it has none).
	Top, Data Kind
}

// Kind is the kind of a JSON value.
type Kind uint8

// The kinds of a value; Missing is a member that is not there.
const (
	Missing Kind = iota
	Null
	Object
	Array
	Scalar
)

// Bounds are the most a document may hold, each checked as it is read (0 is no bound):
// elements of the top-level object's data member when it is an array (the items of a page),
// elements of any one array, elements of all arrays together, and objects.
type Bounds struct {
	Items, Array, Elements, Objects int
}

// OverBound is a document that crossed one of Decode's bounds.
type OverBound struct{ msg string }

// Error says which bound, and by how much when that was free to count.
func (e *OverBound) Error() string { return e.msg }

// errSyntax marks a document that is not JSON; Decode turns it into encoding/json's own error.
var errSyntax = errors.New("lenient: not JSON")

// syntaxError is encoding/json's error for data, which is not JSON.
func syntaxError(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	return errSyntax // cannot happen: the decoder refused what encoding/json takes
}

// decoder is one Decode's state: the cursor in the document, and what it has found so far.
type decoder struct {
	data []byte
	i    int
	res  Result
	more int
	err  error // the first error that ends the decode: syntax, or a bound
	// path is where the decoder is, for a Problem's path; built into a string only then.
	path  []step
	depth int
	// bounds, and what has been counted against them (map entries count as elements: each
	// costs what an element does).
	bounds                Bounds
	elementsSeen, objects int
	skipping              int // > 0 while a value is skipped
}

// step is one level of the decoder's path: a member's key, or an element's index.
type step struct {
	key   []byte // a view of the data, or an unescaped copy
	index int    // -1 for a key
}

// pathString words the path as a Problem gives it: "data[2].balance.balance".
func (d *decoder) pathString() string {
	var b strings.Builder
	for _, s := range d.path {
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.Write(s.key)
	}
	return b.String()
}

// fail records a value that cannot be read into rv, leaves rv zero, and skips the value.
func (d *decoder) fail(rv reflect.Value, want string) {
	if want == wholeNumber {
		want += " that fits " + rv.Type().String()
	}
	got := d.kindHere()
	if rv.CanSet() {
		rv.SetZero()
	}
	d.skip()
	d.problem("want " + want + ", got " + got)
}

// problem records a Problem at the decoder's path, or counts it once MaxProblems are listed.
func (d *decoder) problem(reason string) {
	if len(d.res.Problems) >= MaxProblems {
		d.more++
		return
	}
	d.res.Problems = append(d.res.Problems, Problem{Path: d.pathString(), Reason: reason})
}

// kindHere words the kind of the value at the cursor, as a Problem's reason says it.
func (d *decoder) kindHere() string {
	if d.i >= len(d.data) {
		return "nothing"
	}
	switch c := d.data[d.i]; {
	case c == 'n':
		return "null"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == '"':
		if d.i+1 < len(d.data) && d.data[d.i+1] == '"' {
			return "an empty string"
		}
		return "a string"
	case c == '[':
		return "an array"
	case c == '{':
		return "an object"
	}
	return "a number"
}

// value reads the value at the cursor into rv, of type info ti.
func (d *decoder) value(rv reflect.Value, ti *typeInfo) {
	if d.err != nil {
		return
	}
	d.ws()
	if d.i >= len(d.data) {
		d.err = errSyntax
		return
	}
	c := d.data[d.i]
	switch {
	case ti.unmarshaler && (c != 'n' || ti.kind != reflect.Pointer):
		d.custom(rv, ti)
		return
	case ti.textUnmarshaler && c == '"':
		d.viaEncodingJSON(rv) // a string into an encoding.TextUnmarshaler, as encoding/json reads it
		return
	case c == 'n' && (ti.kind == reflect.Map || ti.kind == reflect.Slice):
		if d.literal("null") {
			rv.SetZero()
		}
		return
	}
	switch ti.kind {
	case reflect.Pointer:
		if c == 'n' {
			if d.literal("null") {
				rv.SetZero()
			}
			return
		}
		if rv.IsNil() {
			rv.Set(reflect.New(ti.typ.Elem()))
		}
		d.value(rv.Elem(), ti.elemInfo())
	case reflect.Interface:
		d.iface(rv, ti)
	case reflect.Struct:
		if c != '{' {
			d.nullOr(rv, "an object")
			return
		}
		d.object(rv, ti)
	case reflect.Map:
		if c != '{' {
			d.nullOr(rv, "an object")
			return
		}
		if ti.typ.Key().Kind() != reflect.String {
			d.viaEncodingJSON(rv) // integer or text keys, which encoding/json alone converts
			return
		}
		d.mapping(rv, ti)
	case reflect.Slice, reflect.Array:
		if c != '[' {
			if ti.kind == reflect.Slice && ti.typ.Elem().Kind() == reflect.Uint8 && c == '"' {
				d.viaEncodingJSON(rv) // base64, as encoding/json reads a []byte
				return
			}
			d.nullOr(rv, "an array")
			return
		}
		d.array(rv, ti)
	case reflect.String:
		switch {
		case c == '"':
			if s, ok := d.str(); ok {
				rv.SetString(s)
			}
		case c == '-' || c >= '0' && c <= '9':
			rv.SetString(string(d.number())) // a number where a string was documented: its text
		default:
			d.nullOr(rv, "a string")
		}
	case reflect.Bool:
		start := d.i
		if b, ok := d.boolean(); ok {
			rv.SetBool(b)
			return
		}
		d.i = start
		d.nullOr(rv, "a boolean")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		start := d.i
		if n, ok := d.integer(); ok && !rv.OverflowInt(n) {
			rv.SetInt(n)
			return
		}
		d.i = start
		d.nullOr(rv, wholeNumber)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		start := d.i
		if n, ok := d.unsigned(); ok && !rv.OverflowUint(n) {
			rv.SetUint(n)
			return
		}
		d.i = start
		d.nullOr(rv, wholeNumber)
	case reflect.Float32, reflect.Float64:
		start := d.i
		if f, ok := d.float(); ok && !rv.OverflowFloat(f) {
			rv.SetFloat(f)
			return
		}
		d.i = start
		d.nullOr(rv, "a number")
	default:
		d.fail(rv, ti.typ.String())
	}
}

// wholeNumber is the want of an integer field; fail words it with the field's type, and only
// then, for the null that is no problem is the common case.
const wholeNumber = "a whole number"

// nullOr reads a null, which changes nothing (as in encoding/json), or fails wanting want.
func (d *decoder) nullOr(rv reflect.Value, want string) {
	if d.data[d.i] == 'n' {
		d.literal("null")
		return
	}
	d.fail(rv, want)
}

// custom hands the raw value to the type's own UnmarshalJSON.
func (d *decoder) custom(rv reflect.Value, ti *typeInfo) {
	start := d.i
	d.skip()
	if d.err != nil {
		return
	}
	target := rv
	if ti.kind == reflect.Pointer { // *T is itself an Unmarshaler through its element
		if rv.IsNil() {
			rv.Set(reflect.New(ti.typ.Elem()))
		}
		target = rv.Elem()
	}
	if !target.CanAddr() {
		return
	}
	raw := d.data[start:d.i]
	if err := target.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
		end := d.i
		d.i = start
		d.fail(target, "a valid "+target.Type().String())
		d.i = end
	}
}

// viaEncodingJSON reads one value with encoding/json, for what it alone knows (base64).
func (d *decoder) viaEncodingJSON(rv reflect.Value) {
	start := d.i
	d.skip()
	if d.err != nil || !rv.CanAddr() {
		return
	}
	if json.Unmarshal(d.data[start:d.i], rv.Addr().Interface()) != nil {
		end := d.i
		d.i = start
		d.fail(rv, rv.Type().String())
		d.i = end
	}
}

func (d *decoder) iface(rv reflect.Value, ti *typeInfo) {
	if !rv.IsNil() && rv.Elem().Kind() == reflect.Pointer && !rv.Elem().IsNil() {
		if d.data[d.i] == 'n' {
			d.literal("null") // the pointer it holds stays: null changes nothing
			return
		}
		e := rv.Elem().Elem() // decode in place, as encoding/json does
		d.value(e, infoOf(e.Type()))
		return
	}
	if d.data[d.i] == 'n' {
		if d.literal("null") {
			rv.SetZero()
		}
		return
	}
	if ti.typ.NumMethod() != 0 {
		d.fail(rv, ti.typ.String())
		return
	}
	g := d.generic()
	if d.err != nil {
		return
	}
	if g == nil {
		rv.SetZero()
		return
	}
	rv.Set(reflect.ValueOf(g))
}

// generic reads a value as encoding/json gives it to an interface: map[string]any, []any,
// float64, string, bool, nil.
func (d *decoder) generic() any {
	d.ws()
	if d.i >= len(d.data) {
		d.err = errSyntax
		return nil
	}
	switch c := d.data[d.i]; {
	case c == '{':
		m := map[string]any{}
		d.members(func(key []byte) {
			if d.counted() {
				m[string(key)] = d.generic()
			}
		})
		return m
	case c == '[':
		a := []any{}
		d.elements(func(int) {
			a = append(a, d.generic())
		})
		return a
	case c == '"':
		s, _ := d.str()
		return s
	case c == 't' || c == 'f':
		b, ok := d.boolean()
		if !ok {
			d.err = errSyntax
		}
		return b
	case c == 'n':
		d.literal("null")
		return nil
	}
	num := d.number()
	if d.err != nil {
		return nil
	}
	f, ok := parseFloat(num)
	if !ok {
		d.problem("want a number, got a number out of range")
		return nil
	}
	return f
}

func (d *decoder) object(rv reflect.Value, ti *typeInfo) {
	fields := ti.fields()
	top := d.depth == 0
	d.members(func(key []byte) {
		f, ok := fields.byName[string(key)]
		if !ok {
			f, ok = fields.fold(key)
		}
		if top && bytes.EqualFold(key, dataKey) {
			d.ws()
			if d.i < len(d.data) {
				d.res.Data = kindAt(d.data[d.i])
			}
		}
		if !ok {
			d.skip()
			return
		}
		fv, settable := fieldByIndex(rv, f.index)
		if !settable {
			d.skip()
			return
		}
		d.value(fv, f.info())
	})
}

func (d *decoder) mapping(rv reflect.Value, ti *typeInfo) {
	if rv.IsNil() {
		rv.Set(reflect.MakeMap(ti.typ))
	}
	elem := ti.elemInfo()
	keyType := ti.typ.Key()
	d.members(func(key []byte) {
		if !d.counted() {
			return
		}
		ev := reflect.New(ti.typ.Elem()).Elem()
		d.value(ev, elem)
		rv.SetMapIndex(reflect.ValueOf(string(key)).Convert(keyType), ev)
	})
}

func (d *decoder) array(rv reflect.Value, ti *typeInfo) {
	elem := ti.elemInfo()
	if ti.kind == reflect.Array {
		n := 0
		d.elements(func(i int) {
			if i < rv.Len() {
				d.value(rv.Index(i), elem)
				n++
				return
			}
			d.skip() // a fixed-size array keeps what fits, as encoding/json does
		})
		for ; n < rv.Len(); n++ {
			rv.Index(n).SetZero()
		}
		return
	}
	// Elements already there are decoded into, as encoding/json does; the slice then ends
	// where the array does.
	n := 0
	d.elements(func(i int) {
		if i >= rv.Cap() {
			rv.Grow(1)
		}
		if i >= rv.Len() {
			rv.SetLen(i + 1)
		}
		d.value(rv.Index(i), elem)
		n = i + 1
	})
	switch {
	case d.err != nil:
	case n == 0:
		rv.Set(reflect.MakeSlice(ti.typ, 0, 0))
	case n < rv.Len():
		rv.SetLen(n)
	}
}

// dataKey is the envelope's data member, which the bounds on items concern.
var dataKey = []byte("data")

// boolean reads true, false, 0, 1, or a string of them ("true", "0", any case).
func (d *decoder) boolean() (bool, bool) {
	switch c := d.data[d.i]; {
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == '"':
		s, ok := d.str()
		if !ok {
			return false, false
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
		return false, false
	case c == '-' || c >= '0' && c <= '9':
		switch string(d.number()) {
		case "0":
			return false, true
		case "1":
			return true, true
		}
	}
	return false, false
}

// numberText reads a number, or a string that may hold one, and returns its text.
func (d *decoder) numberText() ([]byte, bool) {
	switch c := d.data[d.i]; {
	case c == '"':
		end, plain := d.scanString()
		if end < 0 || !plain {
			return nil, false
		}
		text := trimSpace(d.data[d.i+1 : end])
		d.i = end + 1
		return text, true
	case c == '-' || c >= '0' && c <= '9':
		return d.number(), d.err == nil
	}
	return nil, false
}

// integer reads a whole number: written as one, as a decimal with no fraction (4.0), or as a
// string of either.
func (d *decoder) integer() (int64, bool) {
	text, ok := d.numberText()
	if !ok {
		return 0, false
	}
	if n, ok := parseInt(text); ok {
		return n, true
	}
	f, ok := parseFloat(text)
	if !ok || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false // 4.5 is not a count; 4.0 is
	}
	return int64(f), true
}

// unsigned reads a whole number that is not negative, all of uint64's range included.
func (d *decoder) unsigned() (uint64, bool) {
	text, ok := d.numberText()
	if !ok {
		return 0, false
	}
	if n, ok := parseInt(text); ok && n >= 0 {
		return uint64(n), true
	}
	if n, err := strconv.ParseUint(string(text), 10, 64); err == nil {
		return n, true // beyond int64
	}
	f, ok := parseFloat(text)
	if !ok || f != math.Trunc(f) || f < 0 || f >= math.MaxUint64 {
		return 0, false
	}
	return uint64(f), true
}

func (d *decoder) float() (float64, bool) {
	text, ok := d.numberText()
	if !ok {
		return 0, false
	}
	return parseFloat(text)
}

// kindAt is the kind of the value that starts with c.
func kindAt(c byte) Kind {
	switch c {
	case '{':
		return Object
	case '[':
		return Array
	case 'n':
		return Null
	}
	return Scalar
}
