package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestProgressDrawsOnATerminalOnly(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		drawable bool
		rows     int
		drawn    bool
	}{
		{drawable: true, rows: 20, drawn: true},
		{drawable: true, rows: -1, drawn: true}, // a count not known: a spinner
		{drawable: true, rows: 3, drawn: false}, // too short to want one
		{drawable: false, rows: 20, drawn: false},
	} {
		var stderr bytes.Buffer
		a := &app{streams: streams{err: &stderr, drawable: c.drawable}}
		p := a.progress(c.rows, "companies")
		for range max(c.rows, 5) {
			p.step()
		}
		p.done()
		assert.Equal(t, c.drawn, stderr.Len() > 0, "drawable=%v rows=%d: %q", c.drawable, c.rows, stderr.String())
	}
}
