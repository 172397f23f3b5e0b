// Examples that the README quotes: run against the fake, checked by their Output.

package loyalty_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/url"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// Issue a card to a new customer, stamp it at the till, and walk the customer's cards. Against
// the real API, the client comes from loyalty.NewClient(os.Getenv("LOYALTY_API_KEY")).
func Example() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	templateID := srv.TemplateID(loyalty.CardTypeStamp)

	customer, _, err := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{
		FirstName: "Jane",
		Email:     "jane.doe@example.com",
	})
	if err != nil {
		log.Fatal(err)
	}

	card, resp, err := client.Cards.Create(ctx, &loyalty.CardCreateRequest{
		CustomerID: customer.ID,
		TemplateID: templateID,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(card.Type, resp.StatusCode, resp.ResponseID != "")

	card, _, err = client.Cards.AddStamps(ctx, card.ID, 2, &loyalty.ActionOptions{Comment: "till 3"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(card.Balance.NumberStampsTotal, "stamps,", card.Balance.StampsBeforeReward, "to go")

	for card, err := range client.Cards.All(ctx, &loyalty.CardListOptions{CustomerID: customer.ID}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(card.Type, card.Balance.NumberStampsTotal)
	}
	// Output:
	// stamp 201 true
	// 2 stamps, 8 to go
	// stamp 2
}

// An action that does not fit the card is refused before anything is sent.
func ExampleCardsService_AddStamps() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	customer, _, _ := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Email: "jane@example.com"})
	coupon, _, _ := client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeCoupon)})

	_, _, err := client.Cards.AddStamps(ctx, coupon.ID, 1, nil)
	var refused *loyalty.ActionNotAllowedError
	if errors.As(err, &refused) {
		fmt.Println(refused.Action, "on a", refused.CardType, "card; it applies to", refused.AllowedTypes)
	}
	fmt.Println("sent:", srv.Requests("POST /api/v2/cards/{id}/add-stamp"))
	// Output:
	// add-stamp on a coupon card; it applies to [stamp]
	// sent: 0
}

// An agency creates a sub-account and acts as it with its own key, over the same connections.
func ExampleClient_ForCompany() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	agency, ctx := srv.Client, context.Background()

	company, _, err := agency.Companies.Create(ctx, &loyalty.CompanyCreateRequest{
		Name: "Bean There Coffee", Email: "owner@beanthere.example", Phone: "+15555550100", Country: "US",
		UserName: "Ann", UserSurname: "Lee", Password: loyalty.NewSecret("change-me-1"),
		TariffID: 2, TariffPeriod: loyalty.TariffMonth,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%v\n", company.APIKey) // secrets never print

	sub, err := agency.ForCompany(company)
	if err != nil {
		log.Fatal(err)
	}
	templates, _, err := sub.Templates.List(ctx, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(templates), "templates in the new sub-account")
	// Output:
	// [redacted]
	// 12 templates in the new sub-account
}

// Branch on what went wrong with errors.Is; reach the details with errors.As.
func ExampleAPIError() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	id := "000000-000-000"

	card, _, err := client.Cards.Get(ctx, id)
	switch {
	case errors.Is(err, loyalty.ErrNotFound):
		fmt.Println("no such card")
	case errors.Is(err, loyalty.ErrInvalidArgument):
		fmt.Println("refused before sending")
	case loyalty.IsOutcomeUnknown(err):
		fmt.Println("check the operations history before repeating")
	case err != nil:
		var apiErr *loyalty.APIError
		if errors.As(err, &apiErr) {
			fmt.Println(apiErr.StatusCode, apiErr.Message, apiErr.ResponseID)
		}
	default:
		fmt.Println(card.ID)
	}
	// Output:
	// no such card
}

// Reach an endpoint the SDK has no method for, with the client's key, retries and errors.
func ExampleClient_Do() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	if _, _, err := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"}); err != nil {
		log.Fatal(err)
	}

	// The same call as client.Customers.List, for an endpoint the SDK does not know yet.
	var customers []map[string]any
	resp, err := client.Do(ctx, &loyalty.Request{
		Method: "GET",
		Path:   "customers",
		Query:  url.Values{"phone": {"15555550142"}},
	}, &customers)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(customers), customers[0]["firstName"], resp.Meta.TotalItems)
	// Output:
	// 1 Jane 1
}

// A till stamps a card for a receipt. The answer is lost (the fake drops the connection after
// applying the stamp); ApplyOnce finds the receipt in the card's history instead of stamping
// twice. The POS then sends the receipt again: it is answered ErrAlreadyApplied, and nothing
// is sent.
func ExampleCardsService_ApplyOnce() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	customer, _, _ := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	card, _, _ := client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})
	srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{DropAfter: true, Times: 1})

	for range 2 { // the second time, the POS sends the receipt again
		card, _, err := client.Cards.ApplyOnce(ctx, card.ID, loyalty.Bind(client.Cards.AddStamps, 2),
			&loyalty.ActionOptions{Reference: "receipt-8812", Comment: "till 3"},
			&loyalty.OnceOptions{Settle: 10 * time.Millisecond}) // at a real till, leave the options nil
		switch {
		case errors.Is(err, loyalty.ErrAlreadyApplied):
			// the POS sent this receipt before: nothing was sent now, card is as it stands
		case err != nil:
			log.Fatal(err) // unknown: show "check the card" to the cashier, do not resend
		}
		fmt.Println(card.Balance.NumberStampsTotal, "stamps;", srv.Requests("POST /api/v2/cards/{id}/add-stamp"),
			"stamp request sent; already applied:", errors.Is(err, loyalty.ErrAlreadyApplied))
	}
	// Output:
	// 2 stamps; 1 stamp request sent; already applied: false
	// 2 stamps; 1 stamp request sent; already applied: true
}

// A till records a purchase in one call: the card by a scanned id or by the customer's phone,
// the action that fits it, once per receipt.
func ExampleCardsService_Purchase() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	templateID := srv.TemplateNamed(loyaltytest.TemplateCashback) // a 5% cashback card
	customer, _, _ := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	_, _, _ = client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: templateID})

	for range 2 { // the POS sends the receipt twice
		res, _, err := client.Cards.Purchase(ctx, &loyalty.PurchaseRequest{
			CustomerPhone: "15555550142", TemplateID: templateID, // or CardID: a scanned card
			Amount:  42.60,
			Receipt: "receipt-8812",
		}, nil)
		if err != nil {
			log.Fatal(err) // ErrNotFound: no such card; ErrOutcomeUnknown: check the card, do not resend
		}
		if res.AlreadyRecorded {
			fmt.Printf("receipt already recorded; balance %.2f\n", res.Balance)
			continue
		}
		fmt.Printf("%s %.2f %s; balance %.2f %s\n", res.Action, res.Quantity, res.QuantityUnit, res.Balance, res.BalanceUnit)
	}
	// Output:
	// add-point 42.60 currency; balance 2.13 currency
	// receipt already recorded; balance 2.13
}
