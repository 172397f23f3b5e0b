// Command webhooks keeps a local copy of card balances in step with the platform's events,
// instead of polling: it receives deliveries with loyalty.WebhookHandler, drops repeats by
// their key, and updates its copy from each card event.
//
//	go run ./examples/webhooks        # subscribe on the built-in fake, issue a card, stamp it
//
// Against the real API, mount the handler at a public https URL carrying a secret token,
// subscribe that URL once (client.Webhooks.Subscribe), and keep the process running.
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log"
	"net/http/httptest"
	"sync"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// balances is the local copy: stamps per card, and the events already applied.
type balances struct {
	mu     sync.Mutex
	seen   map[string]bool // Event.Key of every event applied: deliveries come at least once
	stamps map[string]int
}

// apply is the WebhookHandler's Handle: it runs once per accepted delivery.
func (b *balances) apply(_ context.Context, e *loyalty.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[e.Key()] {
		return nil // a repeat of an event already applied
	}
	b.seen[e.Key()] = true
	switch e.Name {
	case loyalty.EventCardIssued, loyalty.EventCardBalanceUpdated:
		card, err := e.Card()
		if err != nil {
			return err // 500: the platform delivers it again
		}
		b.stamps[card.SerialNumber] = card.NumberStampsTotal
		fmt.Printf("event %s: card %s has %d stamps\n", e.Name, card.SerialNumber, card.NumberStampsTotal)
	case loyalty.EventCardRemoved:
		card, err := e.Card()
		if err != nil {
			return err
		}
		delete(b.stamps, card.SerialNumber)
		fmt.Printf("event %s: card %s forgotten\n", e.Name, card.SerialNumber)
	default:
		fmt.Printf("event %s (kept raw: %s)\n", e.Name, e.Data) // a name this program does not use
	}
	return nil
}

func main() {
	fake := loyaltytest.NewServer()
	defer fake.Close()
	fmt.Println("running against the built-in fake API at", fake.URL)
	client, ctx := fake.Client, context.Background()

	// The receiver. The platform's signature scheme is not confirmed, so the URL carries a
	// secret token that VerifyToken checks; anything without it gets 401.
	token := rand.Text()
	local := &balances{seen: map[string]bool{}, stamps: map[string]int{}}
	receiver := httptest.NewUnstartedServer(&loyalty.WebhookHandler{Handle: local.apply, VerifyRequest: loyalty.VerifyToken("token", token)})
	// A public receiver bounds what a sender may hold: the headers, the body, the answer.
	receiver.Config.ReadHeaderTimeout, receiver.Config.ReadTimeout, receiver.Config.WriteTimeout = 5*time.Second, 15*time.Second, 15*time.Second
	receiver.Start()
	defer receiver.Close()

	sub, _, err := client.Webhooks.Subscribe(ctx, &loyalty.WebhookSubscribeRequest{
		URL:    receiver.URL + "/hooks?token=" + token,
		Events: []loyalty.EventName{loyalty.EventCardIssued, loyalty.EventCardBalanceUpdated, loyalty.EventCardRemoved, loyalty.EventCustomerCreated},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("subscribed:", sub.ID)

	customer, _, err := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	if err != nil {
		log.Fatal(err)
	}
	card, _, err := client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: fake.TemplateID(loyalty.CardTypeStamp)})
	if err != nil {
		log.Fatal(err)
	}
	fake.WaitForDeliveries()
	fake.InjectWebhookFault(loyaltytest.WebhookFault{Repeat: 1}) // the next delivery comes twice
	for range 3 {
		if _, _, err := client.Cards.AddStamps(ctx, card.ID, 1, nil); err != nil {
			log.Fatal(err)
		}
		fake.WaitForDeliveries() // here, so the lines print in order
	}

	local.mu.Lock()
	fmt.Printf("local copy: card %s has %d stamps (%d deliveries made, repeats dropped)\n",
		card.ID, local.stamps[card.ID], len(fake.Deliveries()))
	local.mu.Unlock()
	if _, err := client.Webhooks.Unsubscribe(ctx, string(sub.ID)); err != nil {
		log.Fatal(err)
	}
}
