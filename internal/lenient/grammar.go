// The JSON grammar, as the decoder reads it: whitespace, objects and arrays with their bounds,
// strings, numbers and literals, each checked as it is passed.

package lenient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// maxDepth is encoding/json's own nesting limit.
const maxDepth = 10000

func (d *decoder) ws() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// members reads an object, calling f with each key with the cursor at its value; f must
// read or skip the value.
func (d *decoder) members(f func(key []byte)) {
	if !d.enter('{') {
		return
	}
	if d.skipping == 0 {
		d.objects++
	}
	if d.bounds.Objects > 0 && d.objects > d.bounds.Objects {
		d.err = &OverBound{fmt.Sprintf("more than %d objects in one answer, the most allowed", d.bounds.Objects)}
		return
	}
	if d.closing('}') {
		return
	}
	for d.err == nil {
		d.ws()
		if d.i >= len(d.data) || d.data[d.i] != '"' {
			d.err = errSyntax
			return
		}
		key, ok := d.key()
		if !ok {
			return
		}
		d.ws()
		if d.i >= len(d.data) || d.data[d.i] != ':' {
			d.err = errSyntax
			return
		}
		d.i++
		d.path = append(d.path, step{key: key, index: -1})
		f(key)
		d.path = d.path[:len(d.path)-1]
		if d.err != nil || !d.another('}') {
			return
		}
	}
}

// elements reads an array, calling f with each index with the cursor at its element; f must
// read or skip the element. It counts the elements against the bounds; past the bound on one
// array it reads no further element, but counts the rest, to say how many there were.
func (d *decoder) elements(f func(i int)) {
	isData := len(d.path) == 1 && d.path[0].index < 0 && bytes.EqualFold(d.path[0].key, dataKey)
	if !d.enter('[') {
		return
	}
	if d.closing(']') {
		return
	}
	var over func(n int) error // set once the array has crossed its bound
	for n := 0; ; n++ {
		switch {
		case over != nil, d.skipping > 0:
		case isData && d.bounds.Items > 0 && n >= d.bounds.Items:
			items := d.bounds.Items
			over = func(n int) error {
				return &OverBound{fmt.Sprintf("the page has %d items, more than the %d asked for", n, items)}
			}
		case d.bounds.Array > 0 && n >= d.bounds.Array:
			over = func(n int) error {
				return &OverBound{fmt.Sprintf("an array of %d elements, more than the %d allowed", n, d.bounds.Array)}
			}
		}
		if over == nil && d.skipping == 0 && !d.counted() {
			return
		}
		if over != nil {
			d.skip()
		} else {
			d.path = append(d.path, step{index: n})
			f(n)
			d.path = d.path[:len(d.path)-1]
		}
		if d.err != nil {
			return
		}
		if !d.another(']') {
			if d.err == nil && over != nil {
				d.err = over(n + 1)
			}
			return
		}
	}
}

// closing reports whether close, after any whitespace, ends the container here (an empty
// one), and steps out of it if so.
func (d *decoder) closing(close byte) bool {
	d.ws()
	if d.i < len(d.data) && d.data[d.i] == close {
		d.i++
		d.depth--
		return true
	}
	return false
}

// another reads what follows a member or an element: a comma, and another comes, or close, and
// the container ends here; anything else is a syntax error.
func (d *decoder) another(close byte) bool {
	d.ws()
	if d.i < len(d.data) {
		switch d.data[d.i] {
		case ',':
			d.i++
			return true
		case close:
			d.i++
			d.depth--
			return false
		}
	}
	d.err = errSyntax
	return false
}

// counted counts one more array element or map entry against the bound on them all, and
// reports whether it is within it.
func (d *decoder) counted() bool {
	d.elementsSeen++
	if d.bounds.Elements > 0 && d.elementsSeen > d.bounds.Elements {
		d.err = &OverBound{fmt.Sprintf("more than %d array elements and map entries in one answer, the most allowed", d.bounds.Elements)}
		return false
	}
	return true
}

// enter steps into an object or array, within encoding/json's nesting limit.
func (d *decoder) enter(open byte) bool {
	if d.i >= len(d.data) || d.data[d.i] != open {
		d.err = errSyntax
		return false
	}
	d.depth++
	if d.depth > maxDepth {
		d.err = errSyntax
		return false
	}
	d.i++
	return true
}

// skip reads past one value, checking its grammar. What it skips is not counted against the
// bounds, which bound what decoding allocates: skipping allocates nothing.
func (d *decoder) skip() {
	d.skipping++
	d.skipValue()
	d.skipping--
}

func (d *decoder) skipValue() {
	d.ws()
	if d.i >= len(d.data) {
		d.err = errSyntax
		return
	}
	switch c := d.data[d.i]; {
	case c == '{':
		d.members(func([]byte) { d.skipValue() })
	case c == '[':
		d.elements(func(int) { d.skipValue() })
	case c == '"':
		d.skipString()
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	default:
		d.number()
	}
}

func (d *decoder) literal(lit string) bool {
	if len(d.data)-d.i >= len(lit) && string(d.data[d.i:d.i+len(lit)]) == lit {
		d.i += len(lit)
		return true
	}
	d.err = errSyntax
	return false
}

// number reads a JSON number, checking its grammar, and returns its text.
func (d *decoder) number() []byte {
	start := d.i
	i := d.i
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	switch {
	case i < len(d.data) && d.data[i] == '0':
		i++
	case i < len(d.data) && d.data[i] >= '1' && d.data[i] <= '9':
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	default:
		d.err = errSyntax
		return nil
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		if i >= len(d.data) || d.data[i] < '0' || d.data[i] > '9' {
			d.err = errSyntax
			return nil
		}
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if i >= len(d.data) || d.data[i] < '0' || d.data[i] > '9' {
			d.err = errSyntax
			return nil
		}
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
		}
	}
	d.i = i
	return d.data[start:i]
}

// stringEnd finds the end of the string that opens at the cursor, and reports whether it is
// plain (no escape, printable ASCII or valid UTF-8, nothing encoding/json would change).
func (d *decoder) scanString() (end int, plain bool) {
	i := d.i + 1
	plain = true
	ascii := true
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			if !ascii && !utf8.Valid(d.data[d.i+1:i]) {
				plain = false
			}
			return i, plain
		case c == '\\':
			plain = false
			if i+1 >= len(d.data) {
				return -1, false
			}
			i += 2
			continue
		case c < 0x20:
			return -1, false // a control character: not JSON
		case c >= utf8.RuneSelf:
			ascii = false
		}
		i++
	}
	return -1, false
}

func (d *decoder) skipString() {
	end, plain := d.scanString()
	if end < 0 {
		d.err = errSyntax
		return
	}
	if !plain && !json.Valid(d.data[d.i:end+1]) {
		d.err = errSyntax
		return
	}
	d.i = end + 1
}

// str reads a string value.
func (d *decoder) str() (string, bool) {
	end, plain := d.scanString()
	if end < 0 {
		d.err = errSyntax
		return "", false
	}
	raw := d.data[d.i : end+1]
	d.i = end + 1
	if plain {
		return string(raw[1 : len(raw)-1]), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		d.err = errSyntax
		return "", false
	}
	return s, true
}

// key reads an object's key: a view of the data for a plain key, not a copy (the callers
// only look it up, or copy it to keep it); an unescaped copy otherwise.
func (d *decoder) key() ([]byte, bool) {
	end, plain := d.scanString()
	if end < 0 {
		d.err = errSyntax
		return nil, false
	}
	raw := d.data[d.i : end+1]
	d.i = end + 1
	if plain {
		return raw[1 : len(raw)-1], true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		d.err = errSyntax
		return nil, false
	}
	return []byte(s), true
}

// parseInt reads an optionally signed run of digits without allocating.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	neg := false
	switch b[0] {
	case '-':
		neg, b = true, b[1:]
	case '+':
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if n < 0 { // overflowed 19 digits
		return 0, false
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseFloat reads a number as JSON writes it: "NaN", "Inf" and hexadecimal are refused.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
