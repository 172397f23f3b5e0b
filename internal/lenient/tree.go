package lenient

import (
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// tree decodes a well-formed document as encoding/json decodes into an any with UseNumber:
// objects as map[string]any, arrays as []any, numbers as json.Number. It reads data in place,
// where a json.Decoder would first copy it into a buffer grown by doubling, twice its size.
func tree(data []byte) (any, error) {
	t := builder{b: data}
	v, err := t.value()
	if err != nil {
		return nil, err
	}
	t.ws()
	if t.i != len(t.b) {
		return nil, errMalformed
	}
	return v, nil
}

var errMalformed = errors.New("lenient: malformed JSON")

type builder struct {
	b []byte
	i int
}

func (t *builder) ws() {
	for t.i < len(t.b) && (t.b[t.i] == ' ' || t.b[t.i] == '\t' || t.b[t.i] == '\n' || t.b[t.i] == '\r') {
		t.i++
	}
}

func (t *builder) value() (any, error) {
	t.ws()
	if t.i >= len(t.b) {
		return nil, errMalformed
	}
	switch c := t.b[t.i]; {
	case c == '{':
		return t.object()
	case c == '[':
		return t.array()
	case c == '"':
		return t.str()
	case c == '-' || c >= '0' && c <= '9':
		start := t.i
		for t.i < len(t.b) && numberByte(t.b[t.i]) {
			t.i++
		}
		return json.Number(t.b[start:t.i]), nil
	}
	for _, lit := range [...]struct {
		s string
		v any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if len(t.b)-t.i >= len(lit.s) && string(t.b[t.i:t.i+len(lit.s)]) == lit.s {
			t.i += len(lit.s)
			return lit.v, nil
		}
	}
	return nil, errMalformed
}

func (t *builder) object() (any, error) {
	t.i++ // {
	m := map[string]any{}
	t.ws()
	if t.i < len(t.b) && t.b[t.i] == '}' {
		t.i++
		return m, nil
	}
	for {
		t.ws()
		if t.i >= len(t.b) || t.b[t.i] != '"' {
			return nil, errMalformed
		}
		key, err := t.str()
		if err != nil {
			return nil, err
		}
		t.ws()
		if t.i >= len(t.b) || t.b[t.i] != ':' {
			return nil, errMalformed
		}
		t.i++
		v, err := t.value()
		if err != nil {
			return nil, err
		}
		m[key] = v
		t.ws()
		if t.i >= len(t.b) {
			return nil, errMalformed
		}
		switch t.b[t.i] {
		case ',':
			t.i++
		case '}':
			t.i++
			return m, nil
		default:
			return nil, errMalformed
		}
	}
}

func (t *builder) array() (any, error) {
	t.i++ // [
	a := []any{}
	t.ws()
	if t.i < len(t.b) && t.b[t.i] == ']' {
		t.i++
		return a, nil
	}
	for {
		v, err := t.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		t.ws()
		if t.i >= len(t.b) {
			return nil, errMalformed
		}
		switch t.b[t.i] {
		case ',':
			t.i++
		case ']':
			t.i++
			return a, nil
		default:
			return nil, errMalformed
		}
	}
}

// str reads a string. One of plain ASCII without escapes is taken as it is; any other goes
// through encoding/json, which unescapes it and mends invalid UTF-8 as it always does.
func (t *builder) str() (string, error) {
	start := t.i
	t.i++ // "
	plain := true
	for t.i < len(t.b) {
		switch c := t.b[t.i]; {
		case c == '"':
			t.i++
			raw := t.b[start:t.i]
			if plain {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", err
			}
			return s, nil
		case c == '\\':
			plain = false
			t.i += 2
		default:
			if c >= utf8.RuneSelf || c < 0x20 {
				plain = false
			}
			t.i++
		}
	}
	return "", errMalformed
}
