package lenient

import (
	"encoding/json"
	"strings"
	"testing"
)

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{"id":"a","count":3}`, `{"count":"12","amount":"125.50","flag":1}`, `[1,2]`, `{"inner":{"limit":4.5}}`,
		`{"list":[{"limit":"x"}],"map":{"a":"1"}}`, `{"when":"2026-01-01T00:00:00Z","raw":{"k":[1]}}`, `null`, `{"ptr":null}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m model
		problems, err := Unmarshal(data, &m)
		if err != nil {
			if json.Valid(data) {
				t.Fatalf("valid JSON refused: %v", err)
			}
			return
		}
		for _, p := range problems {
			if !strings.HasPrefix(p.Reason, "want ") {
				t.Fatalf("a reason that does not say what was wanted: %q", p.Reason)
			}
		}
		if _, err := json.Marshal(&m); err != nil {
			t.Fatalf("decoded, but does not re-encode: %v", err)
		}
	})
}
