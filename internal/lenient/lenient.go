// Package lenient decodes JSON the way encoding/json does, and, where a value does not have
// the type its field expects, reads the forms a loose server sends instead: numbers as
// numeric strings ("125.50", "12"), whole numbers written as decimals (4.0), ids as numbers
// where strings were documented, and booleans as 0/1 or "true"/"0". Every value that still
// cannot be read is reported with its path, and its field is left at its zero value.
//
// A well-typed document costs one encoding/json pass and nothing more. Only a document in
// which encoding/json met a type mismatch is decoded a second time, by this package.
package lenient

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Problem is one value that could not be read into its field.
type Problem struct {
	// Path locates the value in the document, such as "data.balance.balance" or
	// "data[2].id"; "" is the document itself.
	Path string
	// Reason says what was expected and what kind of JSON value came. It never quotes the
	// value, which may be a secret.
	Reason string
}

// Unmarshal decodes data into v, a non-nil pointer. It returns an error only when data is
// not JSON; a value of the wrong type anywhere, the top level included, is a Problem.
func Unmarshal(data []byte, v any) ([]Problem, error) {
	err := json.Unmarshal(data, v)
	if err == nil {
		return nil, nil
	}
	var syntaxErr *json.SyntaxError
	var invalidErr *json.InvalidUnmarshalError
	if errors.As(err, &syntaxErr) || errors.As(err, &invalidErr) {
		return nil, err
	}
	doc, err := tree(data)
	if err != nil {
		return nil, err
	}
	var w walker
	w.value(reflect.ValueOf(v).Elem(), doc, "")
	if w.more > 0 {
		w.problems = append(w.problems, Problem{Path: MorePath, Reason: fmt.Sprintf("%d more values could not be read", w.more)})
	}
	return w.problems, nil
}

// MaxProblems bounds the problems Unmarshal lists; the rest are counted in a last Problem at
// MorePath. A hostile document must not buy a report larger than itself.
const MaxProblems = 100

// MorePath is the path of the Problem that counts the problems beyond MaxProblems.
const MorePath = "…"

type walker struct {
	problems []Problem
	more     int
}

// fail records a value that cannot be read and leaves its field zero, whatever encoding/json
// may have put there before giving up.
func (w *walker) fail(rv reflect.Value, path, want string, node any) {
	if rv.CanSet() {
		rv.SetZero()
	}
	if len(w.problems) >= MaxProblems {
		w.more++
		return
	}
	w.problems = append(w.problems, Problem{Path: path, Reason: "want " + want + ", got " + kindOf(node)})
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// value stores node (a tree from encoding/json with UseNumber) into rv.
func (w *walker) value(rv reflect.Value, node any, path string) {
	if node == nil {
		switch rv.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			if rv.Kind() != reflect.Interface || !holdsPointer(rv) {
				rv.SetZero()
			}
		}
		if rv.CanAddr() && rv.Addr().Type().Implements(unmarshalerType) {
			w.custom(rv, node, path)
		}
		return
	}
	if rv.Kind() != reflect.Pointer && rv.Kind() != reflect.Interface && rv.CanAddr() && rv.Addr().Type().Implements(unmarshalerType) {
		w.custom(rv, node, path)
		return
	}
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			rv.Set(reflect.New(rv.Type().Elem()))
		}
		w.value(rv.Elem(), node, path)
	case reflect.Interface:
		if holdsPointer(rv) {
			w.value(rv.Elem().Elem(), node, path) // decode in place, as encoding/json does
			return
		}
		if rv.NumMethod() == 0 {
			rv.Set(reflect.ValueOf(plain(node)))
			return
		}
		w.fail(rv, path, rv.Type().String(), node)
	case reflect.Struct:
		w.object(rv, node, path)
	case reflect.Map:
		w.mapping(rv, node, path)
	case reflect.Slice, reflect.Array:
		w.list(rv, node, path)
	case reflect.String:
		switch n := node.(type) {
		case string:
			rv.SetString(n)
		case json.Number:
			rv.SetString(n.String())
		default:
			w.fail(rv, path, "a string", node)
		}
	case reflect.Bool:
		if b, ok := toBool(node); ok {
			rv.SetBool(b)
		} else {
			w.fail(rv, path, "a boolean", node)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if i, ok := toInt(node); ok && !rv.OverflowInt(i) {
			rv.SetInt(i)
		} else {
			w.fail(rv, path, "a whole number that fits "+rv.Type().String(), node)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if i, ok := toInt(node); ok && i >= 0 && !rv.OverflowUint(uint64(i)) {
			rv.SetUint(uint64(i))
		} else {
			w.fail(rv, path, "a whole number that fits "+rv.Type().String(), node)
		}
	case reflect.Float32, reflect.Float64:
		if f, ok := toFloat(node); ok && !rv.OverflowFloat(f) {
			rv.SetFloat(f)
		} else {
			w.fail(rv, path, "a number", node)
		}
	default:
		w.fail(rv, path, rv.Type().String(), node)
	}
}

// custom hands the value to the type's own UnmarshalJSON.
func (w *walker) custom(rv reflect.Value, node any, path string) {
	raw, err := json.Marshal(node)
	if err == nil {
		err = rv.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw)
	}
	if err != nil {
		w.fail(rv, path, "a valid "+rv.Type().String(), node)
	}
}

func (w *walker) object(rv reflect.Value, node any, path string) {
	obj, ok := node.(map[string]any)
	if !ok {
		w.fail(rv, path, "an object", node)
		return
	}
	info := fieldsOf(rv.Type())
	for key, child := range obj {
		f, ok := info.byName[key]
		if !ok {
			if f, ok = info.byFold[strings.ToLower(key)]; !ok {
				continue // a member the model does not have: ignored, as encoding/json does
			}
		}
		fv, ok := fieldByIndex(rv, f.index)
		if !ok {
			continue
		}
		w.value(fv, child, join(path, key))
	}
}

func (w *walker) mapping(rv reflect.Value, node any, path string) {
	obj, ok := node.(map[string]any)
	if !ok {
		w.fail(rv, path, "an object", node)
		return
	}
	if rv.Type().Key().Kind() != reflect.String {
		w.fail(rv, path, rv.Type().String(), node)
		return
	}
	if rv.IsNil() {
		rv.Set(reflect.MakeMapWithSize(rv.Type(), len(obj)))
	}
	for key, child := range obj {
		ev := reflect.New(rv.Type().Elem()).Elem()
		w.value(ev, child, join(path, key))
		rv.SetMapIndex(reflect.ValueOf(key).Convert(rv.Type().Key()), ev)
	}
}

func (w *walker) list(rv reflect.Value, node any, path string) {
	arr, ok := node.([]any)
	if !ok {
		w.fail(rv, path, "an array", node)
		return
	}
	if rv.Kind() == reflect.Slice {
		rv.Set(reflect.MakeSlice(rv.Type(), len(arr), len(arr)))
	}
	for i, child := range arr {
		if i >= rv.Len() {
			break // a fixed-size array keeps what fits, as encoding/json does
		}
		w.value(rv.Index(i), child, path+"["+strconv.Itoa(i)+"]")
	}
}

func holdsPointer(rv reflect.Value) bool {
	return !rv.IsNil() && rv.Elem().Kind() == reflect.Pointer && !rv.Elem().IsNil()
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// plain turns the UseNumber tree into what encoding/json gives an interface: float64 numbers.
func plain(node any) any {
	switch n := node.(type) {
	case json.Number:
		f, _ := n.Float64()
		return f
	case map[string]any:
		for k, v := range n {
			n[k] = plain(v)
		}
	case []any:
		for i, v := range n {
			n[i] = plain(v)
		}
	}
	return node
}

// numberText is the text of a number, or of a string that may hold one.
func numberText(node any) (string, bool) {
	switch n := node.(type) {
	case json.Number:
		return n.String(), true
	case string:
		return strings.TrimSpace(n), true
	}
	return "", false
}

func toFloat(node any) (float64, bool) {
	s, ok := numberText(node)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || !numeric(s) {
		return 0, false
	}
	return f, true
}

// numeric refuses what ParseFloat takes but JSON numbers are not: "NaN", "Inf", "0x1p4".
func numeric(s string) bool {
	return s != "" && strings.Trim(s, "+-0123456789.eE") == ""
}

func toInt(node any) (int64, bool) {
	s, ok := numberText(node)
	if !ok {
		return 0, false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, true
	}
	f, ok := toFloat(node)
	if !ok || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false // 4.5 is not a count; 4.0 is
	}
	return int64(f), true
}

func toBool(node any) (bool, bool) {
	switch n := node.(type) {
	case bool:
		return n, true
	case json.Number:
		switch n.String() {
		case "0":
			return false, true
		case "1":
			return true, true
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(n)) {
		case "true", "1":
			return true, true
		case "false", "0":
			return false, true
		}
	}
	return false, false
}

func kindOf(node any) string {
	switch n := node.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		if n == "" {
			return "an empty string"
		}
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", node)
}

// field is where a JSON member goes in a struct.
type field struct{ index []int }

type structInfo struct {
	byName map[string]field
	byFold map[string]field
}

var structCache sync.Map // reflect.Type -> *structInfo

// fieldsOf lists a struct's JSON members by the rules of encoding/json: the tag's name or
// the field's, "-" skipped, unexported fields skipped, embedded structs' fields promoted
// unless a shallower field has the name.
func fieldsOf(t reflect.Type) *structInfo {
	if v, ok := structCache.Load(t); ok {
		return v.(*structInfo)
	}
	info := &structInfo{byName: map[string]field{}, byFold: map[string]field{}}
	collect(t, nil, info)
	v, _ := structCache.LoadOrStore(t, info)
	return v.(*structInfo)
}

func collect(t reflect.Type, prefix []int, info *structInfo) {
	var embedded []reflect.StructField
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sf.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			embedded = append(embedded, sf)
			continue
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		idx := append(append([]int(nil), prefix...), i)
		if _, taken := info.byName[name]; !taken {
			info.byName[name] = field{idx}
		}
		if _, taken := info.byFold[strings.ToLower(name)]; !taken {
			info.byFold[strings.ToLower(name)] = field{idx}
		}
	}
	for _, sf := range embedded {
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		collect(ft, append(append([]int(nil), prefix...), sf.Index...), info)
	}
}

// fieldByIndex walks to a (possibly promoted) field, allocating embedded pointers on the way.
func fieldByIndex(rv reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				if !rv.CanSet() {
					return reflect.Value{}, false
				}
				rv.Set(reflect.New(rv.Type().Elem()))
			}
			rv = rv.Elem()
		}
		rv = rv.Field(x)
	}
	return rv, rv.CanSet()
}
