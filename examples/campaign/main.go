// Command campaign sends a push notification to every holder of a template's cards, now or
// at a time, then reads how many it was sent to and how many received it.
//
//	go run ./examples/campaign                                   # the built-in fake API
//	LOYALTY_API_KEY=... go run ./examples/campaign -template 42 -message "2 for 1 today" -write
//	LOYALTY_API_KEY=... go run ./examples/campaign -template 42 -at 2030-01-31T18:00:00+01:00 -write
//
// It sends a campaign once: run again with the same template, message and time, it finds the
// push it sent in the last week and reports that one instead of sending another (-again sends
// anyway). LOYALTY_BASE_URL points it at another server, such as the sandbox.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

func main() {
	templateID := flag.Int("template", 0, "send to the holders of this template's cards")
	message := flag.String("message", "Double stamps this weekend!", "what the card holders read")
	at := flag.String("at", "", "send at this time (RFC 3339) instead of now")
	write := flag.Bool("write", false, "allow sending from a real account")
	again := flag.Bool("again", false, "send even if the same push was sent in the last week")
	flag.Parse()
	client, fakeTemplate := connect(*write)
	if *templateID == 0 {
		*templateID = fakeTemplate
	}
	if *templateID == 0 {
		log.Fatal("-template: the id of the template whose holders get the push")
	}
	req := &loyalty.PushSendRequest{Message: *message, TemplateID: *templateID}
	if *at != "" {
		when, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			log.Fatalf("-at: %v", err)
		}
		req.ScheduledAt = loyalty.Timestamp{Time: when} // sent in the API's form, offset kept
	}
	ctx := context.Background()

	// A push is not idempotent: sent twice, its holders get it twice. So look for it first,
	// and if the answer to Send is lost, look again rather than send again.
	push, err := findSent(ctx, client, req)
	if err != nil {
		log.Fatal(err)
	}
	if push != nil && !*again {
		fmt.Printf("already sent: push %s %s for %s (-again sends another)\n", push.ID, push.Status, push.ScheduledAt)
	} else {
		push, _, err = client.Pushes.Send(ctx, req)
		if loyalty.IsOutcomeUnknown(err) {
			log.Fatalf("the push may have been sent; run again without -again to find it: %v", err)
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("push %s %s for %s\n", push.ID, push.Status, push.ScheduledAt)
	}

	push, _, err = client.Pushes.Get(ctx, push.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("sent to %d cards, delivered to %d\n", push.SentAmount, push.DeliveredAmount)
}

// findSent returns the push of req's message to req's template (at req's time, when it has
// one) created in the last week, or nil. The week is counted from this machine's date with a
// day to spare, so a server clock or time zone a day away does not hide a push.
func findSent(ctx context.Context, client *loyalty.Client, req *loyalty.PushSendRequest) (*loyalty.Push, error) {
	since := loyalty.DateOf(time.Now().AddDate(0, 0, -8))
	for p, err := range client.Pushes.All(ctx, &loyalty.PushListOptions{TemplateID: req.TemplateID, StartDate: since}) {
		if err != nil {
			return nil, err
		}
		if p.CardID != "" || p.Message != req.Message {
			continue
		}
		if !req.ScheduledAt.IsZero() && !p.ScheduledAt.Time.Equal(req.ScheduledAt.Time) {
			continue
		}
		return &p, nil
	}
	return nil, nil
}

// connect returns a client of the real API when LOYALTY_API_KEY is set, else of the fake,
// with a stamp template three customers hold cards of.
func connect(write bool) (*loyalty.Client, int) {
	if os.Getenv("LOYALTY_API_KEY") != "" {
		if !write {
			log.Fatal("LOYALTY_API_KEY is set: this example sends a push to real customers; run it with -write")
		}
		client, err := loyalty.NewClientFromEnv(loyalty.WithUserAgent("campaign-example"))
		if err != nil {
			log.Fatal(err)
		}
		return client, 0
	}
	fake := loyaltytest.NewServer()
	fmt.Fprintln(os.Stderr, "no LOYALTY_API_KEY: running against the built-in fake API at", fake.URL)
	ctx := context.Background()
	tmpl := fake.TemplateNamed(loyaltytest.TemplateStampVisits)
	for _, phone := range []string{"15555550142", "15555550143", "15555550144"} {
		cu, _, err := fake.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Holder", Phone: phone})
		if err == nil {
			_, _, err = fake.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: tmpl})
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	return fake.Client, tmpl
}
