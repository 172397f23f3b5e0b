package liveshape

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDocumentWritesNumbersAsStringsAndBooleansAsDigits(t *testing.T) {
	t.Parallel()
	out, err := Document([]byte(`{"balance":125.50,"id":12345678901234567890,"ok":true,"no":false,"name":"Ann","tiers":[{"at":10}],"none":null}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"balance":"125.50","id":"12345678901234567890","ok":1,"no":0,"name":"Ann","tiers":[{"at":"10"}],"none":null}`, string(out),
		"every digit kept, as written")

	_, err = Document([]byte(`{"a":`))
	assert.Error(t, err)
}

func TestOfRewritesAGoValue(t *testing.T) {
	t.Parallel()
	v := Of(struct {
		N    int     `json:"n"`
		F    float64 `json:"f"`
		B    bool    `json:"b"`
		Meta map[string]int
	}{N: 3, F: 1.25, B: true, Meta: map[string]int{"page": 2}})
	assert.Equal(t, map[string]any{"n": "3", "f": "1.25", "b": 1, "Meta": map[string]any{"page": "2"}}, v)
	assert.Nil(t, Of(nil))
	ch := make(chan int)
	assert.Equal(t, any(ch), Of(ch), "what does not marshal is returned as it is")
}
