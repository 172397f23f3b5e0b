// Command marketplace is a marketplace app's side of a purchase: it accrues loyalty for a
// check, then reverses it (a refund). Both carry a transaction id the API applies once, so
// the SDK retries them after a lost answer or a 5xx, and this program can be run again with
// the same id without accruing twice.
//
//	go run ./examples/marketplace                      # the built-in fake API
//	LOYALTY_APP_TOKEN=... go run ./examples/marketplace -phone 15555550142 -tx pos-0001 -write
//
// LOYALTY_BASE_URL points it at another server, such as the sandbox.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

func main() {
	phone := flag.String("phone", "15555550142", "the customer's phone (a card is registered if they have none)")
	tx := flag.String("tx", "pos-2026-000481", "the transaction id: your order or receipt id")
	write := flag.Bool("write", false, "allow accruing on a real account")
	flag.Parse()
	app, fake := connect(*write)
	ctx := context.Background()

	if fake != nil { // show the retry: the first answer is lost after the accrual was applied
		fake.InjectFault("POST /api/v2/marketplace/accrue", loyaltytest.Fault{DropAfter: true, Times: 1})
	}
	accrued, resp, err := app.Marketplace.Accrue(ctx, &loyalty.AccrueRequest{
		TransactionID: *tx, // your own id, so a crash and a re-run cannot accrue twice
		Phone:         *phone,
		Check: loyalty.Check{Amount: 2500, Currency: "USD", Selections: []loyalty.Selection{
			{DisplayName: "Latte", Quantity: 2, TotalPrice: 1000}, {DisplayName: "Bagel", Quantity: 3, TotalPrice: 1500},
		}},
	})
	if err != nil {
		log.Fatalf("accrue: %v", err)
	}
	for _, r := range accrued.Results {
		fmt.Printf("accrued on %s card %s: %d cents of value (%d attempts)\n", r.CardType, r.SerialNumber, r.AccruedValue, resp.Attempts)
	}

	reversed, _, err := app.Marketplace.Reverse(ctx, &loyalty.ReverseRequest{TransactionID: *tx})
	if err != nil {
		log.Fatalf("reverse: %v", err)
	}
	for _, r := range reversed.Results {
		fmt.Printf("reversed on card %s at %s\n", r.SerialNumber, r.ReversedAt)
	}
}

// connect returns an app client (app token, no merchant key) of the real API when
// LOYALTY_APP_TOKEN is set, else of the fake.
func connect(write bool) (*loyalty.Client, *loyaltytest.Server) {
	if token := os.Getenv("LOYALTY_APP_TOKEN"); token != "" {
		if !write {
			log.Fatal("LOYALTY_APP_TOKEN is set: this example accrues on a real account; run it with -write")
		}
		opts := []loyalty.Option{loyalty.WithUserAgent("marketplace-example")}
		if base := os.Getenv("LOYALTY_BASE_URL"); base != "" {
			opts = append(opts, loyalty.WithBaseURL(base))
		}
		app, err := loyalty.NewAppClient(token, opts...)
		if err != nil {
			log.Fatal(err)
		}
		return app, nil
	}
	fake := loyaltytest.NewServer()
	fmt.Fprintln(os.Stderr, "no LOYALTY_APP_TOKEN: running against the built-in fake API at", fake.URL)
	app, err := loyalty.NewAppClient(fake.AppToken, loyalty.WithBaseURL(fake.URL))
	if err != nil {
		log.Fatal(err)
	}
	return app, fake
}
