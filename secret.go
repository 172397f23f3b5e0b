package loyalty

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
)

// Secret is a credential the API hands out or takes, such as a company's API key or a new
// account's password. It prints, logs and marshals as "[redacted]" in every form; Reveal gives
// the value, for the one place that needs it.
type Secret string

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps the value out of %#v.
func (s Secret) GoString() string { return `loyalty.Secret("` + s.String() + `")` }

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
	*s = ""
	if v != nil {
		*s = Secret(*v)
	}
	return nil
}

// redacted is what every secret shows instead of its value.
const redacted = "[redacted]"

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
