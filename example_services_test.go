// Examples of each service, run against the fake.

package loyalty_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// A sign-up form that may be sent twice: one customer, whatever happens to the answers.
func ExampleCustomersService_FindOrCreate() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()

	req := &loyalty.CustomerCreateRequest{FirstName: "Jane", Email: "jane@example.com"}
	first, _, err := client.Customers.FindOrCreate(ctx, req)
	if err != nil {
		log.Fatal(err)
	}
	again, _, err := client.Customers.FindOrCreate(ctx, req) // the form, sent again
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first.ID == again.ID, srv.Requests("POST /api/v2/customers"))
	// Output: true 1
}

// A customer's card from a template, issued once however often the step runs.
func ExampleCardsService_FindOrIssue() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	customer, _, _ := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})

	req := &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)}
	for range 2 {
		card, _, err := client.Cards.FindOrIssue(ctx, req, nil)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(card.Type, srv.Requests("POST /api/v2/cards"))
	}
	// Output:
	// stamp 1
	// stamp 1
}

// An agency script that may crash half-way: run again, it finds the company it made.
func ExampleCompaniesService_CreateOnce() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	agency, ctx := srv.Client, context.Background()

	req := &loyalty.CompanyCreateRequest{Name: "Bean There", Email: "owner@beanthere.example", Phone: "+15555550100",
		Country: "US", UserName: "Ann", UserSurname: "Lee", Password: loyalty.NewSecret("change-me-1"),
		TariffID: 2, TariffPeriod: loyalty.TariffMonth}
	company, _, err := agency.Companies.CreateOnce(ctx, req, nil)
	if err != nil {
		log.Fatal(err)
	}
	rerun, _, err := agency.Companies.CreateOnce(ctx, req, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(company.ID == rerun.ID, rerun.APIKey, srv.Requests("POST /api/v2/companies"))
	// Output: true [redacted] 1
}

// Whether a receipt's stamp was applied, asked of the card's history: here, before any send.
func ExampleOperationsService_FindReference() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	customer, _, _ := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	card, _, _ := client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})
	_, _, _ = client.Cards.AddStamps(ctx, card.ID, 1, &loyalty.ActionOptions{Reference: "receipt-1"})

	for _, ref := range []string{"receipt-1", "receipt-2"} {
		f, _, err := client.Operations.FindReference(ctx, loyalty.ReferenceQuery{CardID: card.ID, Reference: ref})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ref, f.Outcome)
	}
	// Output:
	// receipt-1 applied
	// receipt-2 not applied
}

// Every operation of a card, newest rows included, a page at a time.
func ExampleOperationsService_All() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	customer, _, _ := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	card, _, _ := client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})
	_, _, _ = client.Cards.AddStamps(ctx, card.ID, 2, &loyalty.ActionOptions{Comment: "till 3"})

	for op, err := range client.Operations.All(ctx, &loyalty.OperationListOptions{CardID: card.ID}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(op.Amount, op.Balance, op.Comment)
	}
	// Output: 2 2 till 3
}

// The plans a company can be put on.
func ExampleTariffsService_List() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	tariffs, _, err := srv.Client.Tariffs.List(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tariffs {
		fmt.Println(t.ID, t.Name, t.Limits.Templates)
	}
	// Output:
	// 1 Trial 1
	// 2 Starter 3
	// 3 Business 10
}

// A template's mechanics, which decide what its cards take: pass the template in
// ActionOptions.Template and the client checks them before sending.
func ExampleTemplatesService_Get() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	tmpl, _, err := client.Templates.Get(ctx, srv.TemplateNamed(loyaltytest.TemplateRewardSpend))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tmpl.Type, tmpl.Mechanics.Kind())
	// Output: reward spend
}

// A push to every holder of a template's cards, and how many it reached.
func ExamplePushesService_Send() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	tmpl := srv.TemplateID(loyalty.CardTypeStamp)
	customer, _, _ := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	_, _, _ = client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: tmpl})

	push, _, err := client.Pushes.Send(ctx, &loyalty.PushSendRequest{Message: "Double stamps today!", TemplateID: tmpl})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(push.Status, push.SentAmount)
	// Output: sent 1
}

// A text message to a customer who has a phone.
func ExampleSMSService_Send() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	customer, _, _ := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})

	sms, resp, err := client.SMS.Send(ctx, &loyalty.SMSSendRequest{CustomerID: customer.ID, Message: "Your reward is waiting"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, sms.ID != "")
	// Output: 201 true
}

// Revenue for a date range: with no purchase recorded, nothing yet.
func ExampleStatisticsService_Revenue() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	stats, _, err := srv.Client.Statistics.Revenue(context.Background(), &loyalty.RevenueOptions{
		StartDate: loyalty.Date{Year: 2030, Month: time.January, Day: 1},
		EndDate:   loyalty.Date{Year: 2030, Month: time.January, Day: 31},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(stats.RevenueTotal, stats.TotalCost)
	// Output: 0 0
}

// The account a key belongs to, and its settings.
func ExampleProfileService_Get() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	profile, _, err := srv.Client.Profile.Get(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(profile.Name, profile.Currency, profile.Timezone)
	// Output: Fake Agency USD America/New_York
}

// A marketplace app's accrual: the transaction id makes it safe to send again.
func ExampleMarketplaceService_Accrue() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	customer, _, _ := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	card, _, _ := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeCashback)})
	app, err := loyalty.NewAppClient(srv.AppToken, loyalty.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}

	req := &loyalty.AccrueRequest{TransactionID: "pos-2030-0001", SerialNumber: card.ID,
		Check: loyalty.Check{Amount: 4000, Currency: "USD"}} // 40.00 USD, in cents
	for range 2 {
		tx, _, err := app.Marketplace.Accrue(ctx, req)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tx.TransactionID, tx.Results[0].IsSuccess)
	}
	card, _, _ = srv.Client.Cards.Get(ctx, card.ID)
	fmt.Println(card.Balance.Balance, "cashback, once")
	// Output:
	// pos-2030-0001 true
	// pos-2030-0001 true
	// 2 cashback, once
}

// A subscription, and a delivery to a receiver that checks the URL's token before it reads
// anything.
func ExampleWebhooksService_Subscribe() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	client, ctx := srv.Client, context.Background()
	got := make(chan loyalty.EventName, 1)
	receiver := httptest.NewServer(&loyalty.WebhookHandler{
		VerifyRequest: loyalty.VerifyToken("token", "s3cret"),
		Handle:        func(_ context.Context, e *loyalty.Event) error { got <- e.Name; return nil },
	})
	defer receiver.Close()

	sub, _, err := client.Webhooks.Subscribe(ctx, &loyalty.WebhookSubscribeRequest{
		URL: receiver.URL + "/hooks?token=s3cret", Events: []loyalty.EventName{loyalty.EventCustomerCreated}})
	if err != nil {
		log.Fatal(err)
	}
	_, _, _ = client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	fmt.Println(<-got)
	if _, err := client.Webhooks.Unsubscribe(ctx, string(sub.ID)); err != nil {
		log.Fatal(err)
	}
	// Output: CustomerCreatedEvent
}
