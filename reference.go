package loyalty

import (
	"fmt"
	"strings"
	"unicode"
)

// referenceOpen and referenceClose frame a reference in an operation's comment:
// "till 3 [ref:receipt-8812]". ReferenceOf reads it back.
const (
	referenceOpen  = "[ref:"
	referenceClose = "]"
	// maxReference bounds a reference, so the comment stays short.
	maxReference = 64
)

// checkReference refuses a reference that could not be read back from a comment.
func checkReference(ref string) error {
	switch {
	case ref == "":
		return nil
	case len(ref) > maxReference:
		return invalid("options.reference", fmt.Sprintf("must be at most %d bytes", maxReference))
	case strings.ContainsAny(ref, "[]") || strings.TrimSpace(ref) != ref:
		return invalid("options.reference", "must not contain brackets or start or end with a space")
	case strings.IndexFunc(ref, unicode.IsControl) >= 0:
		return invalid("options.reference", "must not contain control characters")
	}
	return nil
}

// withReference is the comment an action is sent with: the caller's comment, then the tag.
func withReference(comment, ref string) string {
	if ref == "" {
		return comment
	}
	tag := referenceOpen + ref + referenceClose
	if comment == "" {
		return tag
	}
	return comment + " " + tag
}

// ReferenceOf returns the reference an action sent with ActionOptions.Reference left in an
// operation's comment ("till 3 [ref:receipt-8812]" gives "receipt-8812"), and whether there
// was one.
func ReferenceOf(comment string) (string, bool) {
	i := strings.LastIndex(comment, referenceOpen)
	if i < 0 {
		return "", false
	}
	rest := comment[i+len(referenceOpen):]
	j := strings.Index(rest, referenceClose)
	if j <= 0 {
		return "", false
	}
	return rest[:j], true
}
