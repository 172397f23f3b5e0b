// Command quickstart finds or creates a customer, issues them a stamp card, stamps it at the
// till until it earns a reward (recovering once from a lost answer), and shows that an action
// the card cannot take is refused without a request.
//
//	go run ./examples/quickstart                 # against the built-in fake API: no key needed
//	LOYALTY_API_KEY=... LOYALTY_TEMPLATE_ID=42 go run ./examples/quickstart -write
//
// With LOYALTY_API_KEY set it talks to the real API (LOYALTY_BASE_URL overrides the address,
// for the sandbox); the API has no sandbox of its own, so it writes only with -write. Without
// LOYALTY_TEMPLATE_ID it uses the account's first stamp template that stamps per visit.
// Running it again is safe: it finds the customer and the card it made before, stamps no
// receipt twice, and says when the reward is already waiting.
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
	fmt.Printf("card %s for %s: %d stamps, %d rewards waiting\n", card.ID, customer.FirstName,
		card.Balance.NumberStampsTotal, card.Balance.NumberRewardsUnused)
	if card.Balance.NumberRewardsUnused > 0 {
		fmt.Printf("found from an earlier run: reward earned (%d waiting); nothing to stamp\n", card.Balance.NumberRewardsUnused)
	}

	if fake != nil {
		// Show a lost answer once: the fake applies the next stamp and drops the connection.
		fake.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{DropAfter: true, Times: 1})
	}
	// Receipt ids are fixed, so that a run stopped half-way and started again stamps only the
	// receipts the first run did not: each is applied once, whatever happens to the program.
	for receipt := 1; card.Balance.NumberRewardsUnused == 0 && receipt <= 100; receipt++ {
		before := sent.Load()
		// ApplyOnce tags the stamp with the receipt id; if the answer is lost it reads the
		// card's history to learn whether the stamp landed, and never stamps twice.
		card, _, err = client.Cards.ApplyOnce(ctx, card.ID, loyalty.Bind(client.Cards.AddStamps, 1),
			&loyalty.ActionOptions{Comment: "till 1", Reference: "quickstart-receipt-" + strconv.Itoa(receipt)}, once(fake))
		if errors.Is(err, loyalty.ErrAlreadyApplied) {
			fmt.Printf("receipt %d: stamped by an earlier run, not again\n", receipt)
			continue
		}
		if loyalty.IsOutcomeUnknown(err) {
			log.Fatalf("still unknown whether the stamp landed; run again later to find out: %v", err)
		}
		check(err, "stamp")
		if n := sent.Load() - before; n > 3 {
			fmt.Printf("receipt %d: the fake dropped the answer on purpose (to show recovery); the history showed the stamp "+
				"landed, found in %d requests; stamped once\n", receipt, n)
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
	return client, stampTemplate(client), nil
}

// stampTemplate is LOYALTY_TEMPLATE_ID, or else the account's first stamp template that
// stamps per visit.
func stampTemplate(client *loyalty.Client) int {
	if id := os.Getenv("LOYALTY_TEMPLATE_ID"); id != "" {
		n, err := strconv.Atoi(id)
		if err != nil {
			log.Fatalf("LOYALTY_TEMPLATE_ID=%q: want the id of one of your stamp card templates", id)
		}
		return n
	}
	for t, err := range client.Templates.All(context.Background(), nil) {
		check(err, "templates")
		if t.Type == loyalty.CardTypeStamp && t.Mechanics.Kind() != loyalty.MechanicsSpend {
			fmt.Printf("using stamp template %d %q (LOYALTY_TEMPLATE_ID picks another)\n", t.ID, t.Name)
			return t.ID
		}
	}
	log.Fatal("no stamp template stamps per visit on this account: set LOYALTY_TEMPLATE_ID to the one to use")
	return 0
}

// once waits the default 5s before reading the history after a lost answer; the fake has
// nothing in flight, so it needs no wait.
func once(fake *loyaltytest.Server) *loyalty.OnceOptions {
	if fake != nil {
		return &loyalty.OnceOptions{Settle: 1}
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
