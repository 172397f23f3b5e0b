// Command quickstart creates a customer, issues a card and reads it back.
//
// With LOYALTY_API_KEY set it talks to the real API (LOYALTY_BASE_URL overrides the address).
// Without it, it starts a small built-in stand-in of the API on loopback, so it runs anywhere
// with no key:
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/internal/demoapi"
)

func main() {
	client, templateID, stop := connect()
	defer stop()
	ctx := context.Background()

	customer, _, err := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{
		FirstName: "Jane",
		Email:     "jane.doe@example.com",
	})
	if err != nil {
		log.Fatalf("create customer: %v", err)
	}
	fmt.Printf("customer %s %s\n", customer.ID, customer.FirstName)

	card, resp, err := client.Cards.Create(ctx, &loyalty.CardCreateRequest{
		CustomerID: customer.ID,
		TemplateID: templateID,
	})
	if err != nil {
		log.Fatalf("issue card: %v", err)
	}
	fmt.Printf("card %s (%s) issued, responseId %s\n", card.ID, card.Type, resp.ResponseID)

	card, _, err = client.Cards.Get(ctx, card.ID)
	if err != nil {
		log.Fatalf("read card: %v", err)
	}
	fmt.Printf("card %s: %d stamps, install at %s\n", card.ID, card.Balance.NumberStampsTotal, card.InstallLink)
}

// connect returns a client for the real API when a key is set, and for the built-in
// stand-in otherwise, with the template to issue from.
func connect() (*loyalty.Client, int, func()) {
	if os.Getenv("LOYALTY_API_KEY") != "" {
		client, err := loyalty.NewClientFromEnv(loyalty.WithUserAgent("quickstart"))
		if err != nil {
			log.Fatal(err)
		}
		var templateID int
		if _, err := fmt.Sscan(os.Getenv("LOYALTY_TEMPLATE_ID"), &templateID); err != nil {
			log.Fatal("set LOYALTY_TEMPLATE_ID to the id of one of your card templates")
		}
		return client, templateID, func() {}
	}
	srv := demoapi.Start()
	client, err := loyalty.NewClient(srv.APIKey, loyalty.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("no LOYALTY_API_KEY: using the built-in stand-in API at", srv.URL)
	return client, srv.StampTemplateID, srv.Close
}
