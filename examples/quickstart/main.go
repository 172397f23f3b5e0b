// Command quickstart finds or creates a customer, issues them a stamp card, stamps it at the
// till until it earns a reward (recovering once from a lost answer), and shows that an action
// the card cannot take is refused without a request.
//
//	go run ./examples/quickstart                 # against the built-in fake API: no key needed
//	LOYALTY_API_KEY=... LOYALTY_TEMPLATE_ID=42 go run ./examples/quickstart -write
//
// With LOYALTY_API_KEY set it talks to the real API (LOYALTY_BASE_URL overrides the address);
// the API has no sandbox, so it writes only with -write. Running it again is safe: it finds
// the customer and the card it made before.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

func main() {
	write := flag.Bool("write", false, "allow writes to a real account")
	flag.Parse()
	var sent atomic.Int64 // every request that leaves this program
	client, templateID, fake := connect(&sent, *write)
	ctx := context.Background()

	// Find-or-create: a second run finds what the first made instead of failing with 409.
	customer, _, err := client.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{
		FirstName: "Jane", Email: "jane.doe@example.com",
	})
	check(err, "customer")
	card, _, err := client.Cards.FindOrIssue(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: templateID}, nil)
	check(err, "card")
	fmt.Printf("card %s for %s, %d stamps\n", card.ID, customer.FirstName, card.Balance.NumberStampsTotal)

	if fake != nil {
		// Show a lost answer once: the fake applies the next stamp and drops the connection.
		fake.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{DropAfter: true, Times: 1})
	}
	run := strconv.FormatInt(time.Now().Unix(), 36) // receipt ids must not repeat across runs
	for receipt := 1; card.Balance.NumberRewardsUnused == 0; receipt++ {
		before := sent.Load()
		// ApplyOnce tags the stamp with the receipt id; if the answer is lost it reads the
		// card's history to learn whether the stamp landed, and never stamps twice.
		card, _, err = client.Cards.ApplyOnce(ctx, card.ID, loyalty.Bind(client.Cards.AddStamps, 1),
			&loyalty.ActionOptions{Comment: "till 1", Reference: run + "-" + strconv.Itoa(receipt)}, once(fake))
		if loyalty.IsOutcomeUnknown(err) {
			log.Fatalf("still unknown whether the stamp landed; check the card before stamping again: %v", err)
		}
		check(err, "stamp")
		if n := sent.Load() - before; n > 1 {
			fmt.Printf("receipt %d: the answer was lost; recovered from the history in %d requests, stamped once\n", receipt, n)
		}
		// NumberStampsTotal counts the current round: the stamp that completes it starts a new
		// round at 0 and adds a reward.
		if card.Balance.NumberRewardsUnused > 0 {
			fmt.Printf("receipt %d: reward earned (%d waiting), the next round starts at %d stamps\n",
				receipt, card.Balance.NumberRewardsUnused, card.Balance.NumberStampsTotal)
		} else {
			fmt.Printf("receipt %d: %d stamps, %d to the reward\n", receipt, card.Balance.NumberStampsTotal, card.Balance.StampsBeforeReward)
		}
	}

	// A wrong action is refused before anything is sent: the count does not move.
	before := sent.Load()
	_, _, err = client.Cards.RedeemCoupon(ctx, card.ID, nil)
	var refused *loyalty.ActionNotAllowedError
	if errors.As(err, &refused) {
		fmt.Printf("refused: %s does not apply to %s cards; %d requests sent\n", refused.Action, refused.CardType, sent.Load()-before)
	}
}

// connect returns a client of the real API when LOYALTY_API_KEY is set, and of the built-in
// fake otherwise (then the fake is returned too), with the stamp template to issue from.
// Every request is counted in sent.
func connect(sent *atomic.Int64, write bool) (*loyalty.Client, int, *loyaltytest.Server) {
	counting := loyalty.WithHTTPClient(&http.Client{Transport: countingTransport{http.DefaultTransport, sent}})
	if os.Getenv("LOYALTY_API_KEY") == "" {
		fake := loyaltytest.NewServer()
		fmt.Println("no LOYALTY_API_KEY: running against the built-in fake API at", fake.URL)
		client, err := fake.NewClient(counting)
		check(err, "client")
		return client, fake.TemplateNamed(loyaltytest.TemplateStampVisits), fake
	}
	if !write {
		log.Fatal("LOYALTY_API_KEY is set: this example writes to that account; run it with -write to allow it")
	}
	client, err := loyalty.NewClientFromEnv(loyalty.WithUserAgent("quickstart"), counting)
	check(err, "client")
	templateID, err := strconv.Atoi(os.Getenv("LOYALTY_TEMPLATE_ID"))
	if err != nil {
		log.Fatal("set LOYALTY_TEMPLATE_ID to the id of one of your stamp card templates")
	}
	return client, templateID, nil
}

// once waits the default 5s before reading the history after a lost answer; the fake has
// nothing in flight, so it needs no wait.
func once(fake *loyaltytest.Server) *loyalty.Once {
	if fake != nil {
		return &loyalty.Once{Settle: 1}
	}
	return nil
}

// countingTransport counts the requests that leave the program.
type countingTransport struct {
	next http.RoundTripper
	n    *atomic.Int64
}

// RoundTrip counts the request and sends it on.
func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	return t.next.RoundTrip(r)
}

func check(err error, what string) {
	if err != nil {
		log.Fatalf("%s: %v", what, err)
	}
}
