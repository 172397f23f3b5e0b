package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// demoFake runs the demo against the built-in fake, with one answer lost on the way.
func demoFake() {
	fake := loyaltytest.NewServer()
	defer fake.Close()
	fmt.Println("no LOYALTY_API_KEY: the till runs against the built-in fake API")
	demo(fake.Client, fake)
}

// demo drives the till: scan a cashback card, record two purchases (on the fake, the answer
// to the second is lost after it was applied), let the POS send the second again, and read
// the card. Customer, card and receipts are fixed, so a second run changes nothing.
func demo(client *loyalty.Client, fake *loyaltytest.Server) {
	ctx := context.Background()
	templateID := 0
	if fake != nil {
		templateID = fake.TemplateNamed(loyaltytest.TemplateCashback)
	} else {
		templateID = cashbackTemplate(ctx, client)
	}
	customer, _, err := client.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550170"})
	if err != nil {
		log.Fatal(err)
	}
	card, _, err := client.Cards.FindOrIssue(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: templateID}, nil)
	if err != nil {
		log.Fatal(err)
	}
	once := &loyalty.OnceOptions{Settle: 1} // the fake has nothing in flight: no need to wait before reading the history
	if fake == nil {
		once = nil
	}
	till := httptest.NewServer(newTill(client, once))
	defer till.Close()

	show("GET", till.URL+"/cards/"+card.ID, "")
	show("POST", till.URL+"/cards/"+card.ID+"/purchases", `{"receipt":"r-1001","amount":40}`)
	if fake != nil {
		fake.InjectFault("POST /api/v2/cards/{id}/add-point", loyaltytest.Fault{DropAfter: true, Times: 1})
	}
	show("POST", till.URL+"/cards/"+card.ID+"/purchases", `{"receipt":"r-1002","amount":60}`) // answer lost, recovered
	show("POST", till.URL+"/cards/"+card.ID+"/purchases", `{"receipt":"r-1002","amount":60}`) // the POS retried: applied again? no
	show("GET", till.URL+"/cards/"+card.ID, "")
	show("GET", till.URL+"/cards/no-such-card", "")
}

// cashbackTemplate is LOYALTY_TEMPLATE_ID, or else the account's first cashback template.
func cashbackTemplate(ctx context.Context, client *loyalty.Client) int {
	if id := os.Getenv("LOYALTY_TEMPLATE_ID"); id != "" {
		n, err := strconv.Atoi(id)
		if err != nil {
			log.Fatalf("LOYALTY_TEMPLATE_ID=%q: want a template id", id)
		}
		return n
	}
	for t, err := range client.Templates.All(ctx, nil) {
		if err != nil {
			log.Fatal(err)
		}
		if t.Type == loyalty.CardTypeCashback {
			fmt.Printf("using cashback template %d %q (LOYALTY_TEMPLATE_ID picks another)\n", t.ID, t.Name)
			return t.ID
		}
	}
	log.Fatal("no cashback template on this account: set LOYALTY_TEMPLATE_ID")
	return 0
}

// show sends a request to the till and prints what it answered.
func show(method, url, body string) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	fmt.Printf("%s %s -> %d %v\n", method, url[strings.Index(url, "/cards"):], resp.StatusCode, out)
}

// serveFake serves the till on addr over the built-in fake, with a card of each template to
// try it on.
func serveFake(addr string) {
	fake := loyaltytest.NewServer()
	defer fake.Close()
	ctx := context.Background()
	customer, _, err := fake.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550170"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("no LOYALTY_API_KEY: the till serves the built-in fake API on %s; its cards:\n", addr)
	for t, err := range fake.Client.Templates.All(ctx, nil) {
		if err != nil {
			log.Fatal(err)
		}
		card, _, err := fake.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: t.ID})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("  %-14s %-11s %s\n", card.ID, card.Type, t.Name)
	}
	fmt.Printf("try: curl -d '{\"receipt\":\"r-1\",\"amount\":12.5}' http://%s/cards/CARD/purchases\n", strings.TrimPrefix(addr, ":"))
	log.Fatal(serve(addr, newTill(fake.Client, nil)))
}
