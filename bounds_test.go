// Tests of response.go's bounds: hostile answers are refused before they are decoded.

package loyalty

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/loyaltycards/loyalty-go/internal/transport"
)

// page is a list answer whose data is n copies of item.
func page(n int, item string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"code":200,"data":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(item)
	}
	b.WriteString(`],"meta":{"currentPage":1,"itemsPerPage":1000,"totalItems":1}}`)
	return b.Bytes()
}

// A page is refused before it is decoded when it has more items than asked for (or than the
// API's 1,000), and when none of its items can be read; the rest of the hostile shapes the
// issue measured are refused by the shape's bounds.
func TestHostilePagesAreRefused(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	var mu sync.Mutex
	var body []byte
	ts.handle("GET /api/v2/cards", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(body)
	})
	for _, tt := range []struct {
		name   string
		body   []byte
		per    int
		refuse string
	}{
		{"1,001 items, none asked", page(1001, `{}`), 0, "more than the 1000 asked for"},
		{"11 items, 10 asked", page(11, `{"id":"1"}`), 10, "more than the 10 asked for"},
		{"10 items, 10 asked", page(10, `{"id":"1"}`), 10, ""},
		{"a page of numbers", page(5, `1`), 0, "none of the page's 5 items could be read"},
		{"one card of five readable", []byte(`{"code":200,"data":[1,{"id":"1"},"x",[],true]}`), 0, ""},
		{"1 MB of {}", bytes.Repeat([]byte(`{},`), 349_525), 0, "not JSON"},
		{"a card with 100,000 custom fields", page(1, `{"customFields":[`+strings.Repeat(`{},`, 99_999)+`{}]}`), 0, "more than the 1000 allowed"},
		{"1,000 cards, 60 fields each", page(1000, `{"customFields":[`+strings.Repeat(`{},`, 59)+`{}]}`), 0, "array elements and map entries in one answer"},
	} {
		mu.Lock()
		body = tt.body
		mu.Unlock()
		cards, _, err := c.Cards.List(context.Background(), &CardListOptions{ListOptions: ListOptions{ItemsPerPage: tt.per}})
		if tt.refuse == "" {
			assert.NoError(t, err, tt.name)
			continue
		}
		var decErr *DecodeError
		require.ErrorAs(t, err, &decErr, tt.name)
		assert.Contains(t, err.Error(), tt.refuse, tt.name)
		assert.Nil(t, cards, tt.name)
	}
}

// TestHostileAnswersAreBounded decodes answers at the 16 MiB body cap shaped to take as much
// memory as the bounds let through, and measures what each allocates: never more than
// DecodeMemoryBound.
func TestHostileAnswersAreBounded(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures allocations: not with -short, nor under the race detector, which adds its own")
	}
	c, ts := setup(t)
	const limit = transport.DefaultMaxBody
	fill := func(prefix, unit, suffix string) []byte {
		n := (limit - len(prefix) - len(suffix)) / len(unit)
		return []byte(prefix + strings.Repeat(unit, n)[:n*len(unit)-1] + suffix) // no trailing comma
	}
	strField := strings.Repeat("x", 16*1024)
	shapes := map[string][]byte{
		"one 16 MiB string":          []byte(`{"code":200,"data":{"id":"1","comment":"` + strings.Repeat("x", limit-64) + `"}}`),
		"1,000 cards of long fields": page(1000, `{"id":"1","installLink":"`+strField+`"}`),
		"numbers as strings, twice decoded": page(1000, `{"id":"1","companyId":"7","templateId":"9","balance":{"balance":"1.5","bonusBalance":"2","numberStampsTotal":"3"},"installLink":"`+
			strings.Repeat("y", 15*1024)+`"}`),
		"100,000 objects into any": fill(`{"code":200,"data":[[`, `{},`, `]]}`),
		"a million members into any": func() []byte {
			var b bytes.Buffer
			b.WriteString(`{"code":200,"data":{`)
			for i := 0; b.Len() < limit-32; i++ {
				fmt.Fprintf(&b, `"%x":1,`, i)
			}
			b.WriteString(`"":1}}`)
			return b.Bytes()
		}(),
		"49,000 custom fields, each misread": page(1000, `{"id":"1","customFields":[`+strings.Repeat(`{"id":"7","value":7,"name":"`+strings.Repeat("n", 300)+`"},`, 48)+
			`{"id":"7","value":7}]}`),
	}
	var mu sync.Mutex
	var body []byte
	ts.handle("GET /api/v2/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(body)
	})
	for name, b := range shapes {
		require.LessOrEqual(t, len(b), limit, name)
		mu.Lock()
		body = b
		mu.Unlock()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var out any
		if strings.HasSuffix(name, "into any") {
			_, _ = c.Do(context.Background(), &Request{Method: "GET", Path: "anything"}, &out)
		} else if strings.HasPrefix(name, "one ") {
			_, _, _ = c.Cards.Get(context.Background(), "1")
		} else {
			_, _, _ = c.Cards.List(context.Background(), nil)
		}
		runtime.ReadMemStats(&after)
		used := after.TotalAlloc - before.TotalAlloc
		t.Logf("%-36s %5.1f MiB allocated for a %4.1f MiB answer", name, float64(used)/(1<<20), float64(len(b))/(1<<20))
		assert.LessOrEqual(t, used, uint64(DecodeMemoryBound), "%s: %d bytes", name, used)
		runtime.KeepAlive(out)
	}
}
