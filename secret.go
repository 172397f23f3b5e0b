package loyalty

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// Secret is a credential the API hands out or takes, such as a company's API key, a new
// account's password or a merchant's credential value. It prints, logs and marshals as
// "[redacted]" in every form; Reveal gives the value, for the one place that needs it.
//
// It holds its value sealed, so that printers which walk a value by reflection and call no
// method (fmt's %+v of a struct that holds one, testify's diffs, spew) see bytes that are
// not the secret. Two Secrets of one value are equal, with == and reflect.DeepEqual.
// Make one with NewSecret.
type Secret struct {
	sealed string
}

// NewSecret holds value as a Secret.
func NewSecret(value string) Secret { return Secret{sealed: seal(value)} }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return seal(s.sealed) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.sealed == "" }

// pad is what sealing XORs a value with: random bytes of this process, so a sealed value
// shows nothing of the secret, and is the same for the same value within the process.
var pad = sync.OnceValue(func() (p [64]byte) {
	_, _ = rand.Read(p[:])
	return p
})

// seal XORs s with the pad; sealing twice gives s back.
func seal(s string) string {
	if s == "" {
		return ""
	}
	p := pad()
	b := make([]byte, len(s))
	for i := range len(s) {
		b[i] = s[i] ^ p[i%len(p)]
	}
	return string(b)
}

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

// MarshalJSON writes "[redacted]", so a model logged or stored as JSON does not carry the
// secret. The SDK sends secrets through its own wire types.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// UnmarshalJSON reads the value from a JSON string (or null).
func (s *Secret) UnmarshalJSON(data []byte) error {
	var v *string
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*s = Secret{}
	if v != nil {
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
