// Package lenient decodes JSON the way encoding/json does, and, where a value does not have
// the type its field expects, reads the forms a loose server sends instead: numbers as
// numeric strings ("125.50", "12"), whole numbers written as decimals (4.0), ids as numbers
// where strings were documented, and booleans as 0/1 or "true"/"0". Every value that still
// cannot be read is reported with its path, and its field is left at its zero value.
//
// It reads a document in one pass, whatever its shape, checking the bounds it is given as it
// goes: a live server's loose values cost what well-typed ones do.
package lenient

// Problem is one value that could not be read into its field.
type Problem struct {
	// Path locates the value in the document, such as "data.balance.balance" or
	// "data[2].id"; "" is the document itself.
	Path string
	// Reason says what was expected and what kind of JSON value came. It never quotes the
	// value, which may be a secret.
	Reason string
}

// Unmarshal decodes data into v, a non-nil pointer, as Decode does, without bounds. It returns
// an error only when data is not JSON; a value of the wrong type anywhere, the top level
// included, is a Problem.
func Unmarshal(data []byte, v any) ([]Problem, error) {
	res, err := Decode(data, v, Bounds{})
	return res.Problems, err
}

// MaxProblems bounds the problems a decode lists; the rest are counted in a last Problem at
// MorePath. A hostile document must not buy a report larger than itself.
const MaxProblems = 100

// MorePath is the path of the Problem that counts the problems beyond MaxProblems.
const MorePath = "…"
