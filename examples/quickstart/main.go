// Command quickstart creates a customer, issues a stamp card, stamps it at the till until it
// earns a reward, and reads the card's history.
//
// Without LOYALTY_API_KEY it runs against loyaltytest, the SDK's in-memory fake of the API,
// so it works anywhere with no account:
//
//	go run ./examples/quickstart
//
// With LOYALTY_API_KEY (and LOYALTY_TEMPLATE_ID, the id of one of your stamp templates) it
// talks to the real API; LOYALTY_BASE_URL overrides the address.
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strconv"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
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
	fmt.Printf("customer %s (%s)\n", customer.ID, customer.FirstName)

	card, resp, err := client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: templateID})
	if err != nil {
		log.Fatalf("issue card: %v", err)
	}
	fmt.Printf("issued %s card %s (responseId %s)\ninstall it: %s\n", card.Type, card.ID, resp.ResponseID, card.InstallLink)

	for card.Balance.NumberRewardsUnused == 0 {
		card, _, err = client.Cards.AddStamps(ctx, card.ID, 1, &loyalty.ActionOptions{Comment: "till 1"})
		if loyalty.IsOutcomeUnknown(err) {
			log.Fatalf("the stamp may or may not have been added; check the card before stamping again: %v", err)
		}
		if err != nil {
			log.Fatalf("add stamp: %v", err)
		}
		fmt.Printf("stamped: %d stamps, %d to the next reward\n", card.Balance.NumberStampsTotal, card.Balance.StampsBeforeReward)
	}
	fmt.Printf("reward earned: %d waiting\n", card.Balance.NumberRewardsUnused)

	// A wrong action is refused before anything is sent.
	_, _, err = client.Cards.RedeemCoupon(ctx, card.ID, nil)
	var refused *loyalty.ActionNotAllowedError
	if errors.As(err, &refused) {
		fmt.Printf("refused as expected: %s does not apply to %s cards\n", refused.Action, refused.CardType)
	}

	var n int
	for _, err := range client.Operations.All(ctx, &loyalty.OperationListOptions{CardID: card.ID}) {
		if err != nil {
			log.Fatalf("history: %v", err)
		}
		n++
	}
	fmt.Printf("the card's history holds %d operations\n", n)
}

// connect returns a client for the real API when a key is set, and for the fake otherwise,
// with the stamp template to issue from.
func connect() (*loyalty.Client, int, func()) {
	if os.Getenv("LOYALTY_API_KEY") != "" {
		client, err := loyalty.NewClientFromEnv(loyalty.WithUserAgent("quickstart"))
		if err != nil {
			log.Fatal(err)
		}
		templateID, err := strconv.Atoi(os.Getenv("LOYALTY_TEMPLATE_ID"))
		if err != nil {
			log.Fatal("set LOYALTY_TEMPLATE_ID to the id of one of your stamp card templates")
		}
		return client, templateID, func() {}
	}
	srv := loyaltytest.NewServer()
	fmt.Println("no LOYALTY_API_KEY: running against the built-in fake API at", srv.URL)
	return srv.Client, srv.TemplateID(loyalty.CardTypeStamp), srv.Close
}
