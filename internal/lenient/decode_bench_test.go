package lenient

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/loyaltycards/loyalty-go/internal/liveshape"
)

// BenchmarkDecode reads a card answer into a generic model of its shape, as the API's
// description writes it and with every number a string and every boolean 0/1, as the live API
// sends it: the two should cost alike.
func BenchmarkDecode(b *testing.B) {
	indented, err := os.ReadFile("../../testdata/card.json")
	if err != nil {
		b.Fatal(err)
	}
	var described bytes.Buffer // compact, as the API sends it
	if err := json.Compact(&described, indented); err != nil {
		b.Fatal(err)
	}
	live, err := liveshape.Document(described.Bytes())
	if err != nil {
		b.Fatal(err)
	}
	for _, shape := range []struct {
		name string
		doc  []byte
	}{{"described", described.Bytes()}, {"live", live}} {
		b.Run("shape="+shape.name, func(b *testing.B) {
			b.SetBytes(int64(len(shape.doc)))
			b.ReportAllocs()
			for b.Loop() {
				var v benchCard
				res, err := Decode(shape.doc, &v, Bounds{})
				if err != nil || len(res.Problems) > 0 {
					b.Fatal(err, res.Problems)
				}
			}
		})
	}
}

// benchCard is the part of a card answer the benchmark reads: numbers, booleans and strings.
type benchCard struct {
	Code int `json:"code"`
	Data struct {
		ID         string `json:"id"`
		CompanyID  int    `json:"companyId"`
		TemplateID int    `json:"templateId"`
		Status     string `json:"status"`
		Balance    struct {
			Balance           float64 `json:"balance"`
			BonusBalance      float64 `json:"bonusBalance"`
			NumberStampsTotal int     `json:"numberStampsTotal"`
		} `json:"balance"`
		CustomFields []struct {
			ID    int    `json:"id"`
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"customFields"`
	} `json:"data"`
}
