package transport

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// DefaultMaxBody caps an answer's body: a larger one is an error, not an out-of-memory.
const DefaultMaxBody = 16 << 20

// maxPooled is the largest buffer kept for reuse; a rare huge body is left to the collector.
const maxPooled = 1 << 20

// buffer holds an answer's body while it is decoded. Buffers are pooled: reading every body
// into a fresh, growing slice was most of the SDK's cost over a hand-written call.
type buffer struct {
	bytes.Buffer
	limit io.LimitedReader
}

var bufferPool = sync.Pool{New: func() any { return new(buffer) }}

// readBody reads a whole body, refusing one over limit: at once when Content-Length announces
// it, and otherwise as soon as the limit is passed. A known length sizes the buffer once.
func readBody(resp *http.Response, limit int64) (*buffer, error) {
	if resp.ContentLength > limit {
		return nil, tooLarge(limit)
	}
	b := bufferPool.Get().(*buffer)
	b.Reset()
	if n := resp.ContentLength; n > 0 {
		// ReadFrom wants MinRead spare bytes to see EOF without growing again.
		b.Grow(int(n) + bytes.MinRead)
	}
	b.limit = io.LimitedReader{R: resp.Body, N: limit + 1}
	_, err := b.ReadFrom(&b.limit)
	b.limit.R = nil
	if err != nil {
		b.release()
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if int64(b.Len()) > limit {
		b.release()
		return nil, tooLarge(limit)
	}
	return b, nil
}

func (b *buffer) release() {
	if b.Cap() <= maxPooled {
		bufferPool.Put(b)
	}
}

// drainAndClose reads what is left of a body, up to a bound, so its connection goes back to
// the pool, then closes it.
func drainAndClose(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 64<<10))
	_ = body.Close()
}
