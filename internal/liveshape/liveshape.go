// Package liveshape writes JSON as the live API sends it, where its description says
// otherwise: every number a numeric string, every boolean 0 or 1. The fake serves answers in
// that shape (loyaltytest.WithLiveShapes), and the benchmarks read it beside the described one.
package liveshape

import (
	"bytes"
	"encoding/json"
)

// Of returns v, a value encoding/json marshals, as a tree that marshals to the live shape.
// A value that does not marshal is returned as it is.
func Of(v any) any {
	if v == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	tree, err := decode(raw)
	if err != nil {
		return v
	}
	return rewrite(tree)
}

// Document rewrites a whole JSON document in the live shape.
func Document(doc []byte) ([]byte, error) {
	tree, err := decode(doc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(rewrite(tree))
}

// decode reads a document keeping each number's text, so that rewriting it loses no digit.
func decode(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var tree any
	err := dec.Decode(&tree)
	return tree, err
}

// rewrite turns the numbers and booleans of a decoded tree into the live API's forms, in place.
func rewrite(x any) any {
	switch v := x.(type) {
	case map[string]any:
		for k, c := range v {
			v[k] = rewrite(c)
		}
	case []any:
		for i, c := range v {
			v[i] = rewrite(c)
		}
	case json.Number:
		return v.String()
	case bool:
		if v {
			return 1
		}
		return 0
	}
	return x
}
