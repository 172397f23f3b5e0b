package transport

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

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

func TestLimitersAreOnePerCredential(t *testing.T) {
	t.Parallel()
	l := newLimiters(10, 0)
	a, b := l.get("key-a"), l.get("key-b")
	assert.Same(t, a, l.get("key-a"), "the same key shares one limiter")
	assert.NotSame(t, a, b)
	assert.Equal(t, 1, a.Burst(), "a burst below 1 would never admit anything")
}
