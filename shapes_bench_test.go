// Benchmarks of reading the two shapes an answer comes in: as the API's description writes it
// (numbers as numbers) and as the live API sends it (numbers as numeric strings, booleans as
// 0/1). The same cards in both shapes, played back with no network, so only the client's
// work is measured (BENCHMARKS.md, "The live API's shape").

package loyalty_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/internal/liveshape"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// shapeAnswers holds the fake's answers for a card and for a page of 1,000 cards, in both
// shapes, made once for every benchmark.
var shapeAnswers = sync.OnceValue(func() map[string][]byte {
	srv := loyaltytest.NewServer(loyaltytest.WithInMemoryNetwork())
	defer srv.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range 1000 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			cu, _, err := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Surname: "Doe",
				Email: fmt.Sprintf("jane%d@example.com", i), Phone: fmt.Sprintf("1213555%04d", i)})
			if err != nil {
				panic(err)
			}
			template := srv.TemplateID(loyalty.CardTypes()[i%8])
			card, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: template})
			if err != nil {
				panic(err)
			}
			if card.Type == loyalty.CardTypeStamp {
				_, _, _ = srv.Client.Cards.AddStamps(ctx, card.ID, 1+i%9, nil)
			}
		}()
	}
	wg.Wait()
	get := func(path string) []byte {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("X-API-Key", srv.APIKey)
		resp, err := srv.HTTPClient().Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	page := get("/api/v2/cards?itemsPerPage=1000")
	var first struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(page, &first); err != nil || len(first.Data) != 1000 {
		panic(fmt.Sprint("page: ", err))
	}
	out := map[string][]byte{"page": page, "card": get("/api/v2/cards/" + first.Data[0].ID)}
	for name, b := range out {
		out[name+"/live"] = liveShaped(b)
	}
	return out
})

// liveShaped rewrites an answer's data and meta as the live API sends them: every number a
// numeric string, every boolean 0 or 1 (as loyaltytest.WithLiveShapes does).
func liveShaped(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var env map[string]any
	if err := dec.Decode(&env); err != nil {
		panic(err)
	}
	env["data"], env["meta"] = liveshape.Of(env["data"]), liveshape.Of(env["meta"])
	out, _ := json.Marshal(env)
	return out
}

// cannedPages answers the card list with the page of 1,000 cut to the page size asked for,
// its meta saying which page it is, and a card read with the card.
type cannedPages struct{ card, page []byte }

func (c cannedPages) RoundTrip(req *http.Request) (*http.Response, error) {
	body := c.card
	if req.URL.Path == "/api/v2/cards" {
		q := req.URL.Query()
		per, _ := strconv.Atoi(q.Get("itemsPerPage"))
		page, _ := strconv.Atoi(q.Get("page"))
		body = pageOf(c.page, max(page, 1), per)
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		ContentLength: int64(len(body)), Body: io.NopCloser(bytes.NewReader(body)), Request: req,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// pageOf is the canned page of 1,000 cut to per cards (of 100,000), as page number page.
var pages sync.Map // key -> []byte

func pageOf(full []byte, page, per int) []byte {
	key := fmt.Sprintf("%p/%d/%d", full, page, per)
	if b, ok := pages.Load(key); ok {
		return b.([]byte)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(full, &env); err != nil {
		panic(err)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(env["data"], &items); err != nil {
		panic(err)
	}
	items = items[:per]
	if page > 1 { // cards of their own on every page, as a walk expects
		for i, item := range items {
			var card map[string]json.RawMessage
			if err := json.Unmarshal(item, &card); err != nil {
				panic(err)
			}
			card["id"], _ = json.Marshal(fmt.Sprintf("%06d-%03d-%03d", page, i/1000, i%1000))
			items[i], _ = json.Marshal(card)
		}
	}
	env["data"], _ = json.Marshal(items)
	live := bytes.Contains(env["meta"], []byte(`"1"`))
	meta := fmt.Sprintf(`{"currentPage":%d,"itemsPerPage":%d,"totalItems":100000}`, page, per)
	if live {
		meta = fmt.Sprintf(`{"currentPage":"%d","itemsPerPage":"%d","totalItems":"100000"}`, page, per)
	}
	env["meta"] = json.RawMessage(meta)
	b, _ := json.Marshal(env)
	pages.Store(key, b)
	return b
}

// BenchmarkShapes reads a card, a page of 100 and of 1,000, and walks 100,000 cards, in the
// described shape and in the live one.
func BenchmarkShapes(b *testing.B) {
	answers := shapeAnswers()
	ctx := context.Background()
	for _, shape := range []string{"described", "live"} {
		suffix := ""
		if shape == "live" {
			suffix = "/live"
		}
		rt := cannedPages{card: answers["card"+suffix], page: answers["page"+suffix]}
		c, err := loyalty.NewClient("lt_bench", loyalty.WithBaseURL("http://bench.invalid"), loyalty.WithInsecureHTTP(),
			loyalty.WithHTTPClient(&http.Client{Transport: rt}))
		if err != nil {
			b.Fatal(err)
		}
		var id string
		var probe struct {
			Data struct {
				ID string `json:"id"`
			} `json:"data"`
		}
		_ = json.Unmarshal(answers["card"], &probe)
		id = probe.Data.ID
		b.Run("op=read/shape="+shape, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, resp, err := c.Cards.Get(ctx, id); err != nil || len(resp.UnreadFields) > 0 {
					b.Fatal(err, resp.UnreadFields)
				}
			}
		})
		for _, per := range []int{100, 1000} {
			b.Run(fmt.Sprintf("op=page%d/shape=%s", per, shape), func(b *testing.B) {
				b.ReportAllocs()
				opts := &loyalty.CardListOptions{ListOptions: loyalty.ListOptions{ItemsPerPage: per}}
				for b.Loop() {
					cards, resp, err := c.Cards.List(ctx, opts)
					if err != nil || len(cards) != per || len(resp.UnreadFields) > 0 {
						b.Fatal(err, len(cards))
					}
				}
			})
		}
		b.Run("op=walk100k/shape="+shape, func(b *testing.B) {
			if testing.Short() {
				b.Skip("100 pages of 1,000")
			}
			for page := range 100 { // cut before the clock starts: only the walk is measured
				pageOf(rt.page, page+1, 1000)
			}
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				for _, err := range c.Cards.All(ctx, &loyalty.CardListOptions{ListOptions: loyalty.ListOptions{ItemsPerPage: 1000}}) {
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != 100_000 {
					b.Fatal(n)
				}
			}
		})
	}
}
