// Tests of ids.go.

package loyalty

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIDReadsStringsAndNumbers(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]ID{`"638920-251-210"`: "638920-251-210", `20779267`: "20779267", `null`: ""} {
		var id ID
		require.NoError(t, json.Unmarshal([]byte(in), &id), in)
		assert.Equal(t, want, id, in)
	}
}
