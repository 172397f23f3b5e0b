package loyalty

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pagedCards serves total cards in pages of perPage, honouring page and itemsPerPage, with
// meta; pages listed in empty answer [] early (as the live API has been seen to).
func pagedCards(t *testing.T, total, perPage int, empty ...int) (http.HandlerFunc, *atomic.Int32) {
	var calls atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if n, err := strconv.Atoi(r.URL.Query().Get("itemsPerPage")); err == nil {
			perPage = n
		}
		data := "["
		for i := (page - 1) * perPage; i < min(page*perPage, total); i++ {
			if slices.Contains(empty, page) {
				break
			}
			if data != "[" {
				data += ","
			}
			data += fmt.Sprintf(`{"id":"card-%d","type":"stamp"}`, i)
		}
		data += "]"
		fmt.Fprintf(w, `{"code":200,"data":%s,"meta":{"currentPage":%d,"itemsPerPage":%d,"totalItems":%d}}`, data, page, perPage, total)
	}, &calls
}

func collect(t *testing.T, c *Client, opts *CardListOptions, limit int) ([]string, error) {
	t.Helper()
	var ids []string
	for card, err := range c.Cards.All(context.Background(), opts) {
		if err != nil {
			return ids, err
		}
		ids = append(ids, card.ID)
		if len(ids) == limit {
			break
		}
	}
	return ids, nil
}

func TestAllWalksEveryPageAndStopsAtTotal(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	h, calls := pagedCards(t, 7, 3)
	ts.handle("GET /api/v2/cards", h)
	ids, err := collect(t, c, &CardListOptions{ListOptions: ListOptions{ItemsPerPage: 3}, TemplateID: 5}, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"card-0", "card-1", "card-2", "card-3", "card-4", "card-5", "card-6"}, ids)
	assert.Equal(t, int32(3), calls.Load(), "no request for a page past totalItems")
	reqs := ts.requests()
	assert.Equal(t, "itemsPerPage=3&page=1&templateId=5", reqs[0].RawQuery)
	assert.Equal(t, "itemsPerPage=3&page=3&templateId=5", reqs[2].RawQuery)
}

func TestAllExactMultipleStopsWithoutAnExtraRequest(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	h, calls := pagedCards(t, 6, 3)
	ts.handle("GET /api/v2/cards", h)
	ids, err := collect(t, c, &CardListOptions{ListOptions: ListOptions{ItemsPerPage: 3}}, 0)
	require.NoError(t, err)
	assert.Len(t, ids, 6)
	assert.Equal(t, int32(2), calls.Load())
}

func TestAllFetchesOnlyWhatTheConsumerReaches(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	h, calls := pagedCards(t, 100, 10)
	ts.handle("GET /api/v2/cards", h)
	ids, err := collect(t, c, &CardListOptions{ListOptions: ListOptions{ItemsPerPage: 10}}, 10)
	require.NoError(t, err)
	assert.Len(t, ids, 10)
	assert.Equal(t, int32(1), calls.Load(), "break after the first page: no second request")

	ids, err = collect(t, c, &CardListOptions{ListOptions: ListOptions{ItemsPerPage: 10}}, 11)
	require.NoError(t, err)
	assert.Len(t, ids, 11)
	assert.Equal(t, int32(3), calls.Load(), "one more item needs exactly one more page")
}

func TestAllEndsOnAnEmptyPage(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	h, calls := pagedCards(t, 9, 3, 2) // page 2 comes back empty although meta says 9
	ts.handle("GET /api/v2/cards", h)
	ids, err := collect(t, c, &CardListOptions{ListOptions: ListOptions{ItemsPerPage: 3}}, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"card-0", "card-1", "card-2"}, ids)
	assert.Equal(t, int32(2), calls.Load())
}

func TestAllWithoutMetaGoesOnUntilEmpty(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	var calls atomic.Int32
	ts.handle("GET /api/v2/cards", func(w http.ResponseWriter, r *http.Request) {
		if n := calls.Add(1); n <= 2 {
			fmt.Fprintf(w, `{"data":[{"id":"a%d"},{"id":"b%d"}]}`, n, n)
			return
		}
		fmt.Fprint(w, `{"data":[]}`)
	})
	ids, err := collect(t, c, nil, 0)
	require.NoError(t, err)
	assert.Len(t, ids, 4)
	assert.Equal(t, int32(3), calls.Load())
}

func TestAllYieldsAnErrorOnceAndStops(t *testing.T) {
	t.Parallel()
	c, ts := setup(t, WithRetryMax(0))
	var calls atomic.Int32
	ts.handle("GET /api/v2/cards", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			fmt.Fprint(w, `{"data":[{"id":"a"}],"meta":{"currentPage":1,"itemsPerPage":1,"totalItems":5}}`)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	})
	var ids []string
	var errs []error
	for card, err := range c.Cards.All(context.Background(), nil) {
		if err != nil {
			errs = append(errs, err)
			continue // a consumer that does not break still sees it only once
		}
		ids = append(ids, card.ID)
	}
	assert.Equal(t, []string{"a"}, ids)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrServerError)
	assert.Equal(t, int32(2), calls.Load())
}

func TestAllRefusesBadOptionsWithoutSending(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	_, err := collect(t, c, &CardListOptions{ListOptions: ListOptions{ItemsPerPage: 5000}}, 0)
	assert.ErrorIs(t, err, ErrInvalidArgument)
	assert.Empty(t, ts.requests())
}

func TestAllLeavesOptionsAloneAndRestarts(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	h, calls := pagedCards(t, 4, 2)
	ts.handle("GET /api/v2/cards", h)
	opts := &CardListOptions{ListOptions: ListOptions{Page: 1, ItemsPerPage: 2}}
	seq := c.Cards.All(context.Background(), opts)
	opts.TemplateID = 99 // changing them afterwards changes nothing
	for range 2 {
		var n int
		for _, err := range seq {
			require.NoError(t, err)
			n++
		}
		assert.Equal(t, 4, n, "each range starts from the first page again")
	}
	assert.Equal(t, 1, opts.Page)
	assert.Equal(t, int32(4), calls.Load())
	for _, r := range ts.requests() {
		assert.NotContains(t, r.RawQuery, "templateId")
	}
}

func TestAllStartsFromTheGivenPage(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	h, _ := pagedCards(t, 10, 3)
	ts.handle("GET /api/v2/cards", h)
	ids, err := collect(t, c, &CardListOptions{ListOptions: ListOptions{Page: 3, ItemsPerPage: 3}}, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"card-6", "card-7", "card-8", "card-9"}, ids)
}

func TestAllStopsWhenPagesDoNotAdvance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		page func(page int) string // the answer to a request for page
		want string
	}{
		{"page ignored, no meta", func(int) string { return `{"data":[{"id":"a"},{"id":"b"}]}` }, "page 2 repeats page 1"},
		{"page ignored, meta says page 1", func(int) string {
			return `{"data":[{"id":"a"}],"meta":{"currentPage":1,"itemsPerPage":1,"totalItems":5}}`
		}, "asked for page 2, the server answered page 1"},
		{"items past the announced total", func(p int) string {
			return fmt.Sprintf(`{"data":[{"id":"c%d"}],"meta":{"itemsPerPage":2,"totalItems":3}}`, p)
		}, "page 3 has items past the 3 the server announced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t)
			var calls atomic.Int32
			ts.handle("GET /api/v2/cards", func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) > 50 {
					t.Error("still paging after 50 requests")
					fmt.Fprint(w, `{"data":[]}`)
					return
				}
				page, _ := strconv.Atoi(r.URL.Query().Get("page"))
				fmt.Fprint(w, tt.page(max(page, 1)))
			})
			_, err := collect(t, c, nil, 0)
			require.ErrorIs(t, err, ErrNoProgress)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "GET /api/v2/cards")
			assert.LessOrEqual(t, calls.Load(), int32(3))
		})
	}
}
