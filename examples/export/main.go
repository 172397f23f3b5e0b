// Command export streams every card of the account (or of one template) to CSV or JSON
// Lines. Cards are fetched a page of 1,000 at a time as the output is written, so memory
// stays flat however many cards there are. It only reads, so it needs no -write.
//
//	go run ./examples/export                        # the built-in fake, seeded with 2,500 cards
//	LOYALTY_API_KEY=... go run ./examples/export -template 42 -format jsonl > cards.jsonl
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

func main() {
	format := flag.String("format", "csv", "csv or jsonl")
	templateID := flag.Int("template", 0, "only this template's cards")
	flag.Parse()
	client := connect()
	ctx := context.Background()

	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	var write func(loyalty.Card) error
	switch *format {
	case "jsonl":
		enc := json.NewEncoder(out)
		write = func(c loyalty.Card) error { return enc.Encode(c) }
	case "csv":
		w := csv.NewWriter(out)
		defer w.Flush()
		_ = w.Write([]string{"id", "type", "templateId", "customerId", "stamps", "rewards", "balance", "status"})
		write = func(c loyalty.Card) error {
			return w.Write([]string{c.ID, c.Type.String(), strconv.Itoa(c.TemplateID), c.CustomerID,
				strconv.Itoa(c.Balance.NumberStampsTotal), strconv.Itoa(c.Balance.NumberRewardsUnused),
				strconv.FormatFloat(c.Balance.Balance, 'f', -1, 64), string(c.Status)})
		}
	default:
		log.Fatalf("unknown format %q", *format)
	}

	n := 0
	opts := &loyalty.CardListOptions{TemplateID: *templateID, ListOptions: loyalty.ListOptions{ItemsPerPage: loyalty.MaxItemsPerPage}}
	for card, err := range client.Cards.All(ctx, opts) { // one page in memory at a time
		if err != nil {
			log.Fatalf("after %d cards: %v", n, err)
		}
		if err := write(card); err != nil {
			log.Fatal(err)
		}
		n++
	}
	fmt.Fprintf(os.Stderr, "exported %d cards\n", n)
}

// connect returns a client of the real API when LOYALTY_API_KEY is set, else of the fake,
// seeded with cards to export.
func connect() *loyalty.Client {
	if os.Getenv("LOYALTY_API_KEY") != "" {
		client, err := loyalty.NewClientFromEnv(loyalty.WithUserAgent("export-example"))
		if err != nil {
			log.Fatal(err)
		}
		return client
	}
	fake := loyaltytest.NewServer()
	fmt.Fprintln(os.Stderr, "no LOYALTY_API_KEY: exporting from the built-in fake API, seeded with 2,500 cards")
	ctx := context.Background()
	for i := range 2500 {
		cu, _, err := fake.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Customer", Phone: fmt.Sprintf("1555%07d", i)})
		if err == nil {
			_, _, err = fake.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: fake.TemplateID(loyalty.CardTypeStamp)})
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	return fake.Client
}
