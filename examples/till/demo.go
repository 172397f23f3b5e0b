package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// demo runs the till against the fake: scan a card, record two purchases, lose one answer.
func demo() {
	fake := loyaltytest.NewServer()
	defer fake.Close()
	fmt.Println("no LOYALTY_API_KEY: the till runs against the built-in fake API")
	ctx := context.Background()
	customer, _, _ := fake.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	card, _, _ := fake.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: fake.TemplateNamed(loyaltytest.TemplateCashback)})
	till := httptest.NewServer(newTill(fake.Client, &loyalty.Once{Settle: 1}))
	defer till.Close()

	show := func(method, path, body string) {
		req, _ := http.NewRequest(method, till.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		fmt.Printf("%s %s -> %d %v\n", method, path, resp.StatusCode, out)
	}
	show("GET", "/cards/"+card.ID, "")
	show("POST", "/cards/"+card.ID+"/purchases", `{"receipt":"r-1001","amount":40}`)
	fake.InjectFault("POST /api/v2/cards/{id}/add-point", loyaltytest.Fault{DropAfter: true, Times: 1})
	show("POST", "/cards/"+card.ID+"/purchases", `{"receipt":"r-1002","amount":60}`) // answer lost, recovered
	show("POST", "/cards/"+card.ID+"/purchases", `{"receipt":"r-1002","amount":60}`) // the POS retried: applied again? no
	show("GET", "/cards/"+card.ID, "")
	show("GET", "/cards/no-such-card", "")
}
