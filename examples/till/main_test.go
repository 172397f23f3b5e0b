package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// TestPurchaseWhoseAnswerWasLost drives the till against the fake with the accrual's answer
// dropped after it was applied: the till answers 200, and the card is credited once.
func TestPurchaseWhoseAnswerWasLost(t *testing.T) {
	fake := loyaltytest.NewServer()
	t.Cleanup(fake.Close)
	ctx := context.Background()
	customer, _, err := fake.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	if err != nil {
		t.Fatal(err)
	}
	card, _, err := fake.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID,
		TemplateID: fake.TemplateNamed(loyaltytest.TemplateStampSpend)})
	if err != nil {
		t.Fatal(err)
	}
	till := httptest.NewServer(newTill(fake.Client, &loyalty.OnceOptions{Settle: 1}))
	t.Cleanup(till.Close)

	fake.InjectFault("POST /api/v2/cards/{id}/add-purchase", loyaltytest.Fault{DropAfter: true, Times: 1})
	for range 2 { // the POS sends the receipt twice
		resp, err := http.Post(till.URL+"/cards/"+card.ID+"/purchases", "application/json", strings.NewReader(`{"receipt":"r-7","amount":30}`))
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %v", resp.StatusCode, out)
		}
	}
	if n := fake.Requests("POST /api/v2/cards/{id}/add-purchase"); n != 1 {
		t.Errorf("add-purchase sent %d times, want 1", n)
	}
	got, _, err := fake.Client.Cards.Get(ctx, card.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Balance.NumberStampsTotal != 3 { // a stamp per 10 spent
		t.Errorf("%d stamps, want 3", got.Balance.NumberStampsTotal)
	}

	resp, err := http.Get(till.URL + "/cards/no-such-card")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown card: %d, want 404", resp.StatusCode)
	}
}

// A membership visit is used up on a limited tier and counted on an open one: both are 200,
// and each sends the action its tier takes.
func TestMembershipPurchaseUsesTheActionItsTierTakes(t *testing.T) {
	fake := loyaltytest.NewServer()
	t.Cleanup(fake.Close)
	ctx := context.Background()
	customer, _, err := fake.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	if err != nil {
		t.Fatal(err)
	}
	till := httptest.NewServer(newTill(fake.Client, nil))
	t.Cleanup(till.Close)
	for _, tt := range []struct{ template, route string }{
		{loyaltytest.TemplateMembershipLimited, "POST /api/v2/cards/{id}/subtract-visit"},
		{loyaltytest.TemplateMembershipOpen, "POST /api/v2/cards/{id}/add-visit"},
	} {
		card, _, err := fake.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: fake.TemplateNamed(tt.template)})
		if err != nil {
			t.Fatal(err)
		}
		before := fake.Requests(tt.route)
		resp, err := http.Post(till.URL+"/cards/"+card.ID+"/purchases", "application/json", strings.NewReader(`{"receipt":"m-1","amount":45}`))
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: status %d: %v", tt.template, resp.StatusCode, out)
		}
		if n := fake.Requests(tt.route) - before; n != 1 {
			t.Errorf("%s: %s sent %d times, want 1", tt.template, tt.route, n)
		}
	}
}
