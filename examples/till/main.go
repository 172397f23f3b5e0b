// Command till is a small HTTP service a point of sale calls:
//
//	GET  /cards/{id}            the card's type and balance
//	POST /cards/{id}/purchases  {"receipt": "r-1001", "amount": 12.50}: Cards.Purchase, the
//	                            action that fits the card, applied at most once per receipt
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
	// One call: the action that fits the card (points on a cashback card, a stamp, a visit,
	// the coupon, …), applied at most once per receipt, even when the POS sends it twice or
	// an answer is lost on the way.
	res, _, err := t.client.Cards.Purchase(r.Context(), &loyalty.PurchaseRequest{
		CardID: r.PathValue("id"), Amount: in.Amount, Receipt: in.Receipt, Comment: "till",
	}, t.once)
	if err != nil {
		fail(w, err)
		return
	}
	out := map[string]any{"receipt": in.Receipt, "balance": res.Balance, "unit": res.BalanceUnit, "reward": res.RewardAvailable}
	if res.AlreadyRecorded {
		out["note"] = "already recorded"
	} else {
		out["did"] = fmt.Sprintf("%s %g %s", res.Action, res.Quantity, res.QuantityUnit)
	}
	reply(w, http.StatusOK, out)
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
