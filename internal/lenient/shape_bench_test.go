package lenient

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// BenchmarkScan is the shape scan of a card answer, which every answer pays for.
func BenchmarkScan(b *testing.B) {
	indented, err := os.ReadFile("../../testdata/card.json")
	if err != nil {
		b.Fatal(err)
	}
	var compact bytes.Buffer // as the API sends it
	if err := json.Compact(&compact, indented); err != nil {
		b.Fatal(err)
	}
	doc := compact.Bytes()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := Scan(doc); !ok {
			b.Fatal("not JSON")
		}
	}
}
