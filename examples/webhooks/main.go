// Command webhooks keeps a local copy of card balances in step with the platform's events,
// instead of polling: it receives deliveries with loyalty.WebhookHandler, drops repeats by
// their key, and updates its copy from each card event.
//
//	go run ./examples/webhooks        # subscribe on the built-in fake, issue a card, stamp it
//	LOYALTY_BASE_URL=http://127.0.0.1:8787 LOYALTY_API_KEY=... go run ./examples/webhooks -write   # the sandbox
//
// With LOYALTY_API_KEY set it subscribes on that account (LOYALTY_BASE_URL picks the server),
// finds or issues a card and stamps it three times under fixed receipt ids, so a second run
// stamps nothing and starts its copy from the card as it is. The real API must reach the
// receiver: mount it at a public https URL (-public) carrying the secret token it checks, and
// keep the process running.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// balances is the local copy: stamps per card, and the events already applied.
type balances struct {
	mu       sync.Mutex
	seen     map[string]bool // Event.Key of every event applied: deliveries come at least once
	stamps   map[string]int
	received int           // deliveries, repeats included
	changed  chan struct{} // told after every delivery, for wait
}

func newBalances() *balances {
	return &balances{seen: map[string]bool{}, stamps: map[string]int{}, changed: make(chan struct{}, 1)}
}

// apply is the WebhookHandler's Handle: it runs once per accepted delivery.
func (b *balances) apply(_ context.Context, e *loyalty.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.received++
	defer func() {
		select {
		case b.changed <- struct{}{}:
		default:
		}
	}()
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

// wait waits until the copy has card at stamps, or gives up after a while: a delivery is
// late, or lost for good.
func (b *balances) wait(card string, stamps int) error {
	give := time.After(30 * time.Second)
	for {
		b.mu.Lock()
		n, ok := b.stamps[card]
		b.mu.Unlock()
		if ok && n == stamps {
			return nil
		}
		select {
		case <-b.changed:
		case <-give:
			return fmt.Errorf("no event brought card %s to %d stamps in 30s (is the receiver reachable?)", card, stamps)
		}
	}
}

func main() {
	write := flag.Bool("write", false, "allow writes to the account of LOYALTY_API_KEY")
	listen := flag.String("listen", "127.0.0.1:0", "receive the deliveries on this address")
	public := flag.String("public", "", "the https URL at which the platform reaches -listen (default: -listen itself, which only a server on this machine reaches)")
	flag.Parse()
	client, fake, templateID := connect(*write)
	ctx := context.Background()

	// The receiver. The platform's signature scheme is not confirmed, so the URL carries a
	// secret token that VerifyToken checks; anything without it gets 401.
	token := rand.Text()
	local := newBalances()
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	// A public receiver bounds what a sender may hold: the headers, the body, the answer.
	receiver := &http.Server{
		Handler:           &loyalty.WebhookHandler{Handle: local.apply, VerifyRequest: loyalty.VerifyToken("token", token)},
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second,
	}
	go func() { _ = receiver.Serve(l) }()
	defer receiver.Close()
	url := "http://" + l.Addr().String()
	if *public != "" {
		url = *public
	}

	sub, _, err := client.Webhooks.Subscribe(ctx, &loyalty.WebhookSubscribeRequest{
		URL:    url + "/hooks?token=" + token,
		Events: []loyalty.EventName{loyalty.EventCardIssued, loyalty.EventCardBalanceUpdated, loyalty.EventCardRemoved, loyalty.EventCustomerCreated},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("subscribed:", sub.ID)
	defer func() {
		if _, err := client.Webhooks.Unsubscribe(ctx, string(sub.ID)); err != nil {
			log.Print(err)
		}
	}()

	// Find-or-create, so a second run uses the card of the first.
	customer, _, err := client.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550160"})
	if err != nil {
		log.Fatal(err)
	}
	card, _, err := client.Cards.FindOrIssue(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: templateID}, nil)
	if err != nil {
		log.Fatal(err)
	}
	// The copy starts from the card as it is; events move it on from there.
	local.mu.Lock()
	local.stamps[card.ID] = card.Balance.NumberStampsTotal
	local.mu.Unlock()
	fmt.Printf("card %s starts with %d stamps\n", card.ID, card.Balance.NumberStampsTotal)
	if fake != nil {
		fake.WaitForDeliveries()
		fake.InjectWebhookFault(loyaltytest.WebhookFault{Repeat: 1}) // the next delivery comes twice
	}

	for i := 1; i <= 3; i++ {
		card, _, err = client.Cards.ApplyOnce(ctx, card.ID, loyalty.Bind(client.Cards.AddStamps, 1),
			&loyalty.ActionOptions{Reference: "webhooks-example-" + strconv.Itoa(i)}, nil)
		if errors.Is(err, loyalty.ErrAlreadyApplied) {
			fmt.Printf("stamp %d: applied by an earlier run, not again\n", i)
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		if err := local.wait(card.ID, card.Balance.NumberStampsTotal); err != nil { // so the lines print in order
			log.Fatal(err)
		}
	}
	if fake != nil {
		fake.WaitForDeliveries() // the repeated delivery too
	}

	local.mu.Lock()
	fmt.Printf("local copy: card %s has %d stamps (%d deliveries received, repeats dropped)\n",
		card.ID, local.stamps[card.ID], local.received)
	local.mu.Unlock()
}

// connect returns a client of the account of LOYALTY_API_KEY, or of the built-in fake (then
// returned too), and the stamp template to issue from.
func connect(write bool) (*loyalty.Client, *loyaltytest.Server, int) {
	if os.Getenv("LOYALTY_API_KEY") == "" {
		fake := loyaltytest.NewServer()
		fmt.Println("no LOYALTY_API_KEY: running against the built-in fake API at", fake.URL)
		return fake.Client, fake, fake.TemplateNamed(loyaltytest.TemplateStampVisits)
	}
	if !write {
		log.Fatal("LOYALTY_API_KEY is set: this example issues and stamps a card on that account; run it with -write")
	}
	client, err := loyalty.NewClientFromEnv(loyalty.WithUserAgent("webhooks-example"))
	if err != nil {
		log.Fatal(err)
	}
	if id := os.Getenv("LOYALTY_TEMPLATE_ID"); id != "" {
		n, err := strconv.Atoi(id)
		if err != nil {
			log.Fatalf("LOYALTY_TEMPLATE_ID=%q: want a template id", id)
		}
		return client, nil, n
	}
	for t, err := range client.Templates.All(context.Background(), nil) {
		if err != nil {
			log.Fatal(err)
		}
		if t.Type == loyalty.CardTypeStamp && t.Mechanics.Kind() != loyalty.MechanicsSpend {
			fmt.Printf("using stamp template %d %q (LOYALTY_TEMPLATE_ID picks another)\n", t.ID, t.Name)
			return client, nil, t.ID
		}
	}
	log.Fatal("no stamp template stamps per visit on this account: set LOYALTY_TEMPLATE_ID")
	return nil, nil, 0
}
