package lenient

import (
	"bytes"
	"encoding/json"
)

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

// Shape is what a scan of a JSON document found, without decoding it: enough to refuse an
// answer whose decoding would cost far more memory than its size, before anything is
// allocated for it.
type Shape struct {
	// Top is the kind of the document itself.
	Top Kind
	// Data is the kind of the top-level object's "data" member (the last one, as decoding
	// takes it), and Items the elements of it when it is an array (of the longest, when the
	// member comes more than once).
	Data  Kind
	Items int
	// LongestArray is the most elements any array has, data's included.
	LongestArray int
	// Elements counts the elements of every array, and Objects every object.
	Elements, Objects int
}

// maxDepth is encoding/json's own nesting limit: deeper documents are refused by it anyway.
const maxDepth = 10000

// Scan reads the shape of data in one pass, allocating nothing (but for a nesting deeper
// than 32). It reports false for a document whose brackets or strings do not close; it
// does not check the rest of JSON's grammar, which the decoder then does.
func Scan(data []byte) (Shape, bool) { return scan(data, false) }

// Bounds are the most an answer may hold: items in its data array, elements in any one array,
// elements of all arrays, objects.
type Bounds struct {
	Items, Array, Elements, Objects int
}

// ScanWithin reads as much of data's shape as shows whether it is within b. When counts of
// its brackets and commas (which strings can only make larger) show every bound met, it reads
// the top-level object only as far as its data member (a repeated one is judged by the
// first); Elements, Objects and LongestArray are then those upper bounds, and Items is not
// counted. Otherwise it reads the whole document, as Scan does.
func ScanWithin(data []byte, b Bounds) (Shape, bool) {
	objects := bytes.Count(data, []byte{'{'})
	elements := bytes.Count(data, []byte{','}) + bytes.Count(data, []byte{'['})
	if objects > b.Objects || elements > b.Elements || elements > b.Array || elements > b.Items {
		return scan(data, false)
	}
	s, ok := scan(data, true)
	s.Objects, s.Elements, s.LongestArray, s.Items = objects, elements, elements, 0
	return s, ok
}

// scan is Scan; untilData stops at the top-level object's data member, once its kind is known.
func scan(data []byte, untilData bool) (Shape, bool) {
	var s Shape
	type frame struct {
		array, data bool
		n           int
	}
	var buf [32]frame
	stack := buf[:0]
	// key is set inside an object where a key comes next; isData when the value about to
	// start is the top-level object's data member.
	key, isData, started := false, false, false
	for i := 0; i < len(data); {
		c := data[i]
		switch c {
		case ' ', '\t', '\n', '\r', ':':
			i++
			continue
		case ',':
			key = len(stack) > 0 && !stack[len(stack)-1].array
			i++
			continue
		case '}', ']':
			top := len(stack) - 1
			if top < 0 || stack[top].array != (c == ']') {
				return s, false
			}
			if f := stack[top]; f.array {
				s.Elements += f.n
				s.LongestArray = max(s.LongestArray, f.n)
				if f.data {
					s.Items = max(s.Items, f.n) // a repeated data member is decoded each time
				}
			}
			stack = stack[:top]
			key = false
			i++
			continue
		}
		if key { // a member's key
			end, ok := stringEnd(data, i)
			if !ok {
				return s, false
			}
			isData = len(stack) == 1 && isDataKey(data[i+1:end])
			key = false
			i = end + 1
			continue
		}
		// A value starts here.
		switch {
		case len(stack) == 0 && started:
			return s, false // a second value at the top
		case len(stack) == 0:
			started = true
			s.Top = kindAt(c)
		case stack[len(stack)-1].array:
			stack[len(stack)-1].n++
		}
		if isData {
			s.Data = kindAt(c)
			if untilData {
				return s, true
			}
		}
		switch c {
		case '{', '[':
			if len(stack) >= maxDepth {
				return s, false
			}
			if c == '{' {
				s.Objects++
				key = true
			}
			stack = append(stack, frame{array: c == '[', data: isData && c == '['})
			i++
		case '"':
			end, ok := stringEnd(data, i)
			if !ok {
				return s, false
			}
			i = end + 1
		default: // a number, true, false or null
			j := i
			for j < len(data) && literalByte(data[j]) {
				j++
			}
			if j == i {
				return s, false
			}
			i = j
		}
		isData = false
	}
	return s, started && len(stack) == 0
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

func numberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func literalByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E'
}

// stringEnd finds the quote that closes the string opening at data[i]. It jumps from quote to
// quote: a quote closes the string unless an odd run of backslashes escapes it.
func stringEnd(data []byte, i int) (int, bool) {
	start := i + 1
	for from := start; ; {
		q := bytes.IndexByte(data[from:], '"')
		if q < 0 {
			return 0, false
		}
		q += from
		slashes := 0
		for k := q - 1; k >= start && data[k] == '\\'; k-- {
			slashes++
		}
		if slashes%2 == 0 {
			return q, true
		}
		from = q + 1
	}
}

// isDataKey reports a key that decodes to "data", escaped or not (encoding/json matches keys
// case-insensitively, as "Data" or "DATA" too).
func isDataKey(raw []byte) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return bytes.EqualFold(raw, []byte("data"))
	}
	var key string
	quoted := append(append([]byte{'"'}, raw...), '"')
	return json.Unmarshal(quoted, &key) == nil && bytes.EqualFold([]byte(key), []byte("data"))
}
