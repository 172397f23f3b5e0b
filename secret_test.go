package loyalty

import (
	"encoding/json"
	"reflect"
	"runtime"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Secrets of one value are equal however they were made, so models holding them compare as
// they did before secrets were sealed; secrets of other values are not.
func TestSecretsOfOneValueAreEqual(t *testing.T) {
	t.Parallel()
	a, b := NewSecret("lt_company_42"), NewSecret("lt_company_42")
	var decoded Secret
	require.NoError(t, json.Unmarshal([]byte(`"lt_company_42"`), &decoded))
	assert.True(t, a == b)
	assert.True(t, a == decoded)
	assert.True(t, reflect.DeepEqual(Company{APIKey: a}, Company{APIKey: decoded}))
	assert.False(t, a == NewSecret("lt_company_43"))
	assert.False(t, reflect.DeepEqual(a, NewSecret("lt_company_43")))
	assert.Equal(t, "lt_company_42", decoded.Reveal())
	assert.True(t, Secret{} == NewSecret(""))
	runtime.KeepAlive(a)
}

// The table that makes equal values share a handle forgets a value once no Secret of it is
// left: a process that sees a million company keys does not keep them.
func TestSecretTableForgetsWhatIsGone(t *testing.T) {
	count := func() int {
		interned.Lock()
		defer interned.Unlock()
		return len(interned.handles)
	}
	before := count()
	func() {
		kept := make([]Secret, 0, 1000)
		for i := range 1000 {
			kept = append(kept, NewSecret("forgotten-"+strconv.Itoa(i)))
		}
		require.GreaterOrEqual(t, count(), before+1000)
		runtime.KeepAlive(kept)
	}()
	for range 20 {
		runtime.GC()
		if count() < before+1000 {
			break
		}
	}
	assert.Less(t, count(), before+1000, "the handles of secrets no one holds are dropped")
}

func TestSecretJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(struct{ Key Secret }{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"Key":""}`, string(b), "an empty secret loses nothing")
	_, err = json.Marshal(struct{ Key Secret }{NewSecret("k")})
	assert.ErrorIs(t, err, ErrSecretNotMarshalled)
	var s Secret
	require.NoError(t, json.Unmarshal([]byte(`null`), &s))
	assert.True(t, s.IsZero())
	assert.Error(t, json.Unmarshal([]byte(`"[redacted]"`), &s))
	assert.Error(t, json.Unmarshal([]byte(`42`), &s))
}
