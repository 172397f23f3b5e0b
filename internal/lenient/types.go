// What the decoder knows of a Go type: its kind, whether it reads itself, and a struct's
// members by name, worked out once per type.

package lenient

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// typeInfo is what the decoder needs of a type, worked out once.
type typeInfo struct {
	typ  reflect.Type
	kind reflect.Kind
	// unmarshaler is set when the type reads itself (*T has UnmarshalJSON; for a pointer
	// type, when it does); textUnmarshaler when it reads itself from a string only.
	unmarshaler, textUnmarshaler bool
	elemOnce                     sync.Once
	elem                         *typeInfo
	fieldsOnce                   sync.Once
	structInfo                   *structInfo
}

var infos sync.Map // reflect.Type -> *typeInfo

var textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()

func infoOf(t reflect.Type) *typeInfo {
	if v, ok := infos.Load(t); ok {
		return v.(*typeInfo)
	}
	ti := &typeInfo{typ: t, kind: t.Kind()}
	self := reflect.PointerTo(t) // what a value of t, being addressable, is called through
	if t.Kind() == reflect.Pointer {
		self = t
	}
	if t.Kind() != reflect.Interface && (t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Pointer) {
		ti.unmarshaler = self.Implements(unmarshalerType)
		ti.textUnmarshaler = !ti.unmarshaler && self.Implements(textUnmarshalerType)
	}
	v, _ := infos.LoadOrStore(t, ti)
	return v.(*typeInfo)
}

func (ti *typeInfo) elemInfo() *typeInfo {
	ti.elemOnce.Do(func() { ti.elem = infoOf(ti.typ.Elem()) })
	return ti.elem
}

func (ti *typeInfo) fields() *structInfo {
	ti.fieldsOnce.Do(func() { ti.structInfo = fieldsOf(ti.typ) })
	return ti.structInfo
}

// info is the type info of the field's own type.
func (f field) info() *typeInfo { return f.ti }

// fold finds the field whose name matches key case-insensitively, as encoding/json does
// after an exact match fails. An ASCII key is folded on the stack.
func (s *structInfo) fold(key []byte) (field, bool) {
	var buf [64]byte
	f, ok := s.byFold[string(appendFolded(buf[:0], key))]
	return f, ok
}

// appendFolded appends name folded so that two names fold alike exactly when
// bytes.EqualFold says they are equal: ASCII letters to upper case, any other letter to the
// least rune of its Unicode fold orbit (so "K", "k" and the Kelvin sign all fold alike).
func appendFolded(out, name []byte) []byte {
	for i := 0; i < len(name); {
		c := name[i]
		if c < utf8.RuneSelf {
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return out
}

func foldRune(r rune) rune {
	for {
		next := unicode.SimpleFold(r)
		if next <= r {
			return next
		}
		r = next
	}
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// field is where a JSON member goes in a struct, and what type it is.
type field struct {
	index []int
	ti    *typeInfo
}

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
		f := field{idx, infoOf(sf.Type)}
		if _, taken := info.byName[name]; !taken {
			info.byName[name] = f
		}
		if folded := string(appendFolded(nil, []byte(name))); info.byFold[folded].index == nil {
			info.byFold[folded] = f
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
