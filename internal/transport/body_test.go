package transport

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unreadable fails the test if anything reads it.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("the body was read")
	return 0, io.EOF
}

func TestBodyOverTheCapByContentLengthIsRefusedUnread(t *testing.T) {
	t.Parallel()
	resp := &http.Response{ContentLength: 17 << 20, Body: io.NopCloser(unreadable{t})}
	_, err := readBody(resp, 16<<20)
	assert.ErrorIs(t, err, ErrBodyTooLarge)
}

func TestBodyOverTheCapWithoutContentLength(t *testing.T) {
	t.Parallel()
	resp := &http.Response{ContentLength: -1, Body: io.NopCloser(strings.NewReader(strings.Repeat("x", 1025)))}
	_, err := readBody(resp, 1024)
	assert.ErrorIs(t, err, ErrBodyTooLarge)
}

func TestKnownLengthSizesTheBufferOnce(t *testing.T) {
	t.Parallel()
	const n = 10 << 20
	resp := &http.Response{ContentLength: n, Body: io.NopCloser(bytes.NewReader(make([]byte, n)))}
	b, err := readBody(resp, DefaultMaxBody)
	require.NoError(t, err)
	assert.Equal(t, n, b.Len())
	assert.LessOrEqual(t, b.Cap(), n+16<<10, "one buffer of the announced size (rounded to a page), not doublings")
	b.release()
}

func TestBodyReadErrorIsReported(t *testing.T) {
	t.Parallel()
	cut := errors.New("connection reset")
	resp := &http.Response{ContentLength: -1, Body: io.NopCloser(io.MultiReader(strings.NewReader("{"), errReader{cut}))}
	_, err := readBody(resp, 1024)
	assert.ErrorIs(t, err, cut)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestLimitersAreOnePerKey(t *testing.T) {
	t.Parallel()
	l := NewMemoryLimiter(10, 0)
	now := time.Now()
	a, b := l.bucket("key-a", now), l.bucket("key-b", now)
	assert.Same(t, a, l.bucket("key-a", now), "the same key shares one bucket")
	assert.NotSame(t, a, b)
	assert.Equal(t, 1, a.Burst(), "a burst below 1 would never admit anything")
}

// A process that makes a client for each of many keys keeps only the buckets in use: a bucket
// that has filled up again is dropped, since a new one would be the same.
func TestIdleBucketsAreDropped(t *testing.T) {
	t.Parallel()
	l := NewMemoryLimiter(10, 1)
	now := time.Now()
	for i := range 10_000 {
		require.True(t, l.bucket(fmt.Sprint("key-", i), now).AllowN(now, 1))
	}
	busy := l.bucket("busy", now)
	require.True(t, busy.AllowN(now, 1))
	assert.Equal(t, 10_001, l.Len())
	later := now.Add(2 * time.Second) // every bucket refilled; "busy" is used again now
	require.True(t, l.bucket("busy", later).AllowN(later, 1))
	assert.Equal(t, 1, l.Len(), "only the bucket in use is kept")
	assert.NotSame(t, busy, l.bucket("busy", later), "a full bucket was dropped and made again")
}
