package checkout

import (
	"context"
	"errors"
	"testing"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// newCard starts a fake API for one test and issues a stamp card on it.
func newCard(t *testing.T, opts ...loyaltytest.Option) (*loyaltytest.Server, string) {
	t.Helper()
	srv := loyaltytest.NewServer(opts...)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	customer, _, err := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	if err != nil {
		t.Fatal(err)
	}
	card, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID,
		TemplateID: srv.TemplateNamed(loyaltytest.TemplateStampVisits)})
	if err != nil {
		t.Fatal(err)
	}
	return srv, card.ID
}

func TestCredit(t *testing.T) {
	srv, cardID := newCard(t)
	stamps, err := Credit(context.Background(), srv.Client, cardID, "r-1")
	if err != nil || stamps != 1 {
		t.Fatalf("got %d stamps, %v", stamps, err)
	}
}

// A lost answer: the fake applies the stamp and drops the connection. The request count
// proves the stamp was sent once.
func TestCreditWhenTheAnswerIsLost(t *testing.T) {
	srv, cardID := newCard(t)
	srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{DropAfter: true, Times: 1})
	stamps, err := Credit(context.Background(), srv.Client, cardID, "r-2")
	if err != nil || stamps != 1 {
		t.Fatalf("got %d stamps, %v", stamps, err)
	}
	if n := srv.Requests("POST /api/v2/cards/{id}/add-stamp"); n != 1 {
		t.Errorf("add-stamp sent %d times, want 1", n)
	}
}

// A rate limit: the fake answers 429 with Retry-After: 1. WithRetryAfterScale makes the
// test's client wait a millisecond instead of a second.
func TestCreditWhenRateLimited(t *testing.T) {
	srv, cardID := newCard(t)
	client, err := srv.NewClient(loyalty.WithRetryAfterScale(0.001))
	if err != nil {
		t.Fatal(err)
	}
	srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{Status: 429, RetryAfter: 1, Times: 2})
	if _, err := Credit(context.Background(), client, cardID, "r-3"); err != nil {
		t.Fatal(err)
	}
	if n := srv.Requests("POST /api/v2/cards/{id}/add-stamp"); n != 3 {
		t.Errorf("add-stamp sent %d times, want 3 (two refused, one applied)", n)
	}
}

// A card the action does not fit is refused by the SDK: nothing reaches the fake.
func TestCreditOnACoupon(t *testing.T) {
	srv, _ := newCard(t)
	ctx := context.Background()
	customer, _, _ := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Sam", Phone: "15555550199"})
	coupon, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeCoupon)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Credit(ctx, srv.Client, coupon.ID, "r-4")
	if !errors.Is(err, loyalty.ErrActionNotAllowed) {
		t.Fatalf("got %v, want ErrActionNotAllowed", err)
	}
	if n := srv.Requests("POST /api/v2/cards/{id}/add-stamp"); n != 0 {
		t.Errorf("add-stamp sent %d times, want 0", n)
	}
}
