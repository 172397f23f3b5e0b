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

// Scan reads the shape of data in one pass, allocating nothing. It reports false for a
// document that is not well-formed JSON, whose error the decoder then explains.
func Scan(data []byte) (Shape, bool) {
	p := scanner{b: data}
	p.ws()
	if p.i < len(p.b) {
		switch p.b[p.i] {
		case '{':
			p.s.Top = Object
		case '[':
			p.s.Top = Array
		case 'n':
			p.s.Top = Null
		default:
			p.s.Top = Scalar
		}
	}
	if !p.value(0, false) {
		return Shape{}, false
	}
	p.ws()
	return p.s, p.i == len(p.b)
}

type scanner struct {
	b []byte
	i int
	s Shape
}

func (p *scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// value scans one value at depth; isData marks the top-level object's data member.
func (p *scanner) value(depth int, isData bool) bool {
	p.ws()
	if p.i >= len(p.b) {
		return false
	}
	c := p.b[p.i]
	if isData {
		switch c {
		case '{':
			p.s.Data = Object
		case '[':
			p.s.Data = Array
		case 'n':
			p.s.Data = Null
		default:
			p.s.Data = Scalar
		}
	}
	switch {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth+1, isData)
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		for p.i < len(p.b) && numberByte(p.b[p.i]) {
			p.i++
		}
		return p.i > start
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if bytes.HasPrefix(p.b[p.i:], []byte(lit)) {
			p.i += len(lit)
			return true
		}
	}
	return false
}

func (p *scanner) object(depth int) bool {
	if depth > maxDepth {
		return false
	}
	p.s.Objects++
	p.i++ // {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return true
	}
	for {
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return false
		}
		key, ok := p.str()
		if !ok {
			return false
		}
		p.ws()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return false
		}
		p.i++
		if !p.value(depth, depth == 1 && isDataKey(key)) {
			return false
		}
		p.ws()
		if p.i >= len(p.b) {
			return false
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

func (p *scanner) array(depth int, isData bool) bool {
	if depth > maxDepth {
		return false
	}
	p.i++ // [
	n := 0
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
	} else {
		for {
			if !p.value(depth, false) {
				return false
			}
			n++
			p.ws()
			if p.i >= len(p.b) {
				return false
			}
			if p.b[p.i] == ']' {
				p.i++
				break
			}
			if p.b[p.i] != ',' {
				return false
			}
			p.i++
		}
	}
	p.s.Elements += n
	p.s.LongestArray = max(p.s.LongestArray, n)
	if isData {
		p.s.Items = max(p.s.Items, n) // a repeated data member is decoded each time
	}
	return true
}

func numberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// str scans a string and returns its raw content, between the quotes.
func (p *scanner) str() ([]byte, bool) {
	p.i++ // "
	start := p.i
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case '"':
			s := p.b[start:p.i]
			p.i++
			return s, true
		case '\\':
			p.i += 2
		default:
			p.i++
		}
	}
	return nil, false
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
