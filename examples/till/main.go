// Command till is a small HTTP service a point of sale calls:
//
//	GET  /cards/{id}            the card's type and balance
//	POST /cards/{id}/purchases  {"receipt": "r-1001", "amount": 12.50}: the action that fits
//	                            the card's type, applied at most once per receipt
//
// SDK errors become HTTP statuses the till can show: 404 no such card, 409 the card does not
// take that, 429 slow down, 503 the outcome could not be learned (check the card first).
//
//	go run ./examples/till                       # a demo against the built-in fake API
//	go run ./examples/till -listen :8080         # the till over the fake, with a card of each type
//	LOYALTY_API_KEY=... go run ./examples/till -listen :8080 -write
//	LOYALTY_API_KEY=... go run ./examples/till -demo -write   # the demo on an account (LOYALTY_BASE_URL: the sandbox)
//
// This file is the service; demo.go drives it. The demo is safe to run again: it finds the
// customer and card it made, and its receipts, already recorded, are not applied twice.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
)

func main() {
	listen := flag.String("listen", "", "serve the till on this address")
	runDemo := flag.Bool("demo", false, "with LOYALTY_API_KEY: run the demo on that account instead of serving")
	write := flag.Bool("write", false, "allow writes to a real account")
	flag.Parse()
	if os.Getenv("LOYALTY_API_KEY") == "" {
		if *listen != "" {
			serveFake(*listen)
			return
		}
		demoFake()
		return
	}
	if !*write || (*listen == "") == !*runDemo {
		log.Fatal("LOYALTY_API_KEY is set: serve that account with -listen ADDR -write, or run the demo on it with -demo -write")
	}
	client, err := loyalty.NewClientFromEnv(loyalty.WithUserAgent("till"), loyalty.WithRateLimit(10, 5))
	if err != nil {
		log.Fatal(err)
	}
	if *runDemo {
		demo(client, nil)
		return
	}
	log.Fatal(serve(*listen, newTill(client, nil)))
}

// serve serves the till on addr, with the timeouts a service facing a network needs.
func serve(addr string, h http.Handler) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 2 * time.Minute} // a purchase whose answer was lost may take a minute to settle
	return srv.ListenAndServe()
}

// till serves the point of sale. once tunes the recovery after a lost answer (nil: defaults).
type till struct {
	client *loyalty.Client
	once   *loyalty.OnceOptions
}

func newTill(client *loyalty.Client, once *loyalty.OnceOptions) http.Handler {
	t := &till{client: client, once: once}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /cards/{id}", t.scan)
	mux.HandleFunc("POST /cards/{id}/purchases", t.purchase)
	return mux
}

func (t *till) scan(w http.ResponseWriter, r *http.Request) {
	card, _, err := t.client.Cards.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, err)
		return
	}
	reply(w, http.StatusOK, map[string]any{"type": card.Type.String(), "balance": card.Balance})
}

func (t *till) purchase(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Receipt string  `json:"receipt"`
		Amount  float64 `json:"amount"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Receipt == "" || in.Amount <= 0 {
		reply(w, http.StatusBadRequest, map[string]any{"error": "want {receipt, amount > 0}"})
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	card, _, err := t.client.Cards.Get(ctx, id)
	if err != nil {
		fail(w, err)
		return
	}
	action, err := t.actionFor(ctx, card, in.Amount)
	if err != nil {
		fail(w, err)
		return
	}
	// The receipt is the reference: a purchase sent twice by the POS, or whose answer was
	// lost, is applied once. A repeat comes back as ErrAlreadyApplied, with the card.
	opts := &loyalty.ActionOptions{Card: card, Reference: in.Receipt, Comment: "till"}
	card, _, err = t.client.Cards.ApplyOnce(ctx, id, action, opts, t.once)
	switch {
	case errors.Is(err, loyalty.ErrAlreadyApplied) && card != nil:
		reply(w, http.StatusOK, map[string]any{"receipt": in.Receipt, "balance": card.Balance, "note": "already recorded"})
	case err != nil:
		fail(w, err)
	default:
		reply(w, http.StatusOK, map[string]any{"receipt": in.Receipt, "balance": card.Balance})
	}
}

// actionFor picks what a purchase of amount does to the card, by its type and its
// template's mechanics.
func (t *till) actionFor(ctx context.Context, card *loyalty.Card, amount float64) (loyalty.ActionFunc, error) {
	cards := t.client.Cards
	switch card.Type {
	case loyalty.CardTypeCashback, loyalty.CardTypeDiscount:
		return loyalty.Bind(cards.AddPoints, amount), nil // the purchase amount; the card earns its share
	case loyalty.CardTypeGift:
		return loyalty.Bind(cards.SubtractPoints, amount), nil // paid with the gift card
	case loyalty.CardTypeCoupon:
		return cards.RedeemCoupon, nil
	case loyalty.CardTypeMultipass:
		return loyalty.Bind(cards.AddVisits, 1), nil
	}
	// Stamp and reward cards count by their template's mechanics; a membership visit is used
	// up on a tier with a visit limit and counted on one without.
	tmpl, _, err := t.client.Templates.Get(ctx, card.TemplateID)
	if err != nil {
		return nil, err
	}
	if card.Type == loyalty.CardTypeMembership {
		if limited, _ := card.VisitsLimited(tmpl); limited {
			return loyalty.Bind(cards.SubtractVisits, 1), nil
		}
		return loyalty.Bind(cards.AddVisits, 1), nil
	}
	switch {
	case tmpl.Mechanics != nil && tmpl.Mechanics.Kind() == loyalty.MechanicsSpend:
		return loyalty.Bind(cards.AddPurchase, amount), nil
	case card.Type == loyalty.CardTypeStamp:
		return loyalty.Bind(cards.AddStamps, 1), nil
	case tmpl.Mechanics != nil && tmpl.Mechanics.Kind() == loyalty.MechanicsPoints:
		return loyalty.Bind(cards.AddScores, int(amount)), nil
	}
	return loyalty.Bind(cards.AddVisits, 1), nil
}

// fail maps the SDK's errors to what a till can act on.
func fail(w http.ResponseWriter, err error) {
	status := http.StatusBadGateway
	switch {
	case errors.Is(err, loyalty.ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, loyalty.ErrActionNotAllowed), errors.Is(err, loyalty.ErrCardState):
		status = http.StatusConflict
	case errors.Is(err, loyalty.ErrRateLimited):
		status = http.StatusTooManyRequests
	case loyalty.IsOutcomeUnknown(err), errors.Is(err, loyalty.ErrLedger):
		status = http.StatusServiceUnavailable // check the card before trying again
	case errors.Is(err, loyalty.ErrInvalidArgument):
		status = http.StatusBadRequest
	}
	reply(w, status, map[string]any{"error": err.Error()})
}

func reply(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(body); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
