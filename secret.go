package loyalty

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"weak"
)

// Secret is a credential the API hands out or takes, such as a company's API key, a new
// account's password or a merchant's credential value. It prints and logs as "[redacted]"
// in every form; Reveal gives the value, for the one place that needs it.
//
// Its value is held in a closure, where reflection finds nothing: a printer that walks a
// value field by field and calls no method (fmt on an unexported field, testify's diffs,
// spew) shows a pointer, the same for every secret whatever its value or length. Two Secrets
// of one value are equal, with == and reflect.DeepEqual. Make one with NewSecret.
//
// A Secret does not marshal to JSON: json.Marshal of a value holding one fails with
// ErrSecretNotMarshalled rather than write "[redacted]" and lose the key without a word.
// Keep Reveal() in your secret store, or clear the field before marshalling.
type Secret struct {
	h *secretHandle
}

// secretHandle holds one value. Every Secret of a value shares its handle while one is alive.
type secretHandle struct {
	value func() string
}

// interned finds the live handle of a value by a keyed digest of it, so that equal values
// share one handle (and compare equal) without the table holding the value. Entries go when
// their handle is collected.
var interned = struct {
	sync.Mutex
	key     [32]byte
	handles map[[sha256.Size]byte]weak.Pointer[secretHandle]
}{handles: map[[sha256.Size]byte]weak.Pointer[secretHandle]{}}

func init() { _, _ = rand.Read(interned.key[:]) }

// NewSecret holds value as a Secret.
func NewSecret(value string) Secret {
	if value == "" {
		return Secret{}
	}
	mac := hmac.New(sha256.New, interned.key[:])
	mac.Write([]byte(value))
	var sum [sha256.Size]byte
	mac.Sum(sum[:0])

	interned.Lock()
	defer interned.Unlock()
	if h := interned.handles[sum].Value(); h != nil {
		return Secret{h}
	}
	h := &secretHandle{value: func() string { return value }}
	wp := weak.Make(h)
	interned.handles[sum] = wp
	runtime.AddCleanup(h, func(wp weak.Pointer[secretHandle]) {
		interned.Lock()
		defer interned.Unlock()
		if interned.handles[sum] == wp {
			delete(interned.handles, sum)
		}
	}, wp)
	return Secret{h}
}

// Reveal returns the secret's value.
func (s Secret) Reveal() string {
	if s.h == nil {
		return ""
	}
	return s.h.value()
}

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.h == nil }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return redacted
}

// GoString keeps the value out of %#v.
func (s Secret) GoString() string { return `loyalty.NewSecret("` + s.String() + `")` }

// Format keeps the value out of every fmt verb.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// LogValue keeps the value out of slog records.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes an empty secret as "" and refuses any other: a model stored as JSON
// would otherwise come back without its key, and nothing would say so.
func (s Secret) MarshalJSON() ([]byte, error) {
	if s.IsZero() {
		return []byte(`""`), nil
	}
	return nil, ErrSecretNotMarshalled
}

// UnmarshalJSON reads the value from a JSON string (or null). It refuses "[redacted]", the
// placeholder a printed secret shows: held as a key, it would be sent as one.
func (s *Secret) UnmarshalJSON(data []byte) error {
	var v *string
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	switch {
	case v == nil:
		*s = Secret{}
	case *v == redacted:
		return errors.New(`loyalty: "` + redacted + `" is the placeholder of a hidden secret, not a value`)
	default:
		*s = NewSecret(*v)
	}
	return nil
}

// redacted is what every secret shows instead of its value.
const redacted = "[redacted]"

// hidden is a credential a client holds where reflection cannot reach it: a printer that walks
// a Client by reflection finds a func, and prints its address.
type hidden func() string

// hide holds s out of reflection's reach.
func hide(s string) hidden { return func() string { return s } }

// get returns the credential; a nil hidden is empty.
func (h hidden) get() string {
	if h == nil {
		return ""
	}
	return h()
}

// withoutQuery masks what follows a URL's path (a query or fragment carrying a token), for
// printing and logging links that are bearer credentials.
func withoutQuery(link string) string {
	base, _, _ := strings.Cut(link, "?")
	base, _, _ = strings.Cut(base, "#")
	if base != link {
		return base + "?" + redacted
	}
	return base
}
