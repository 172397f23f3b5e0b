package loyaltytest_test

import (
	"context"
	"errors"
	"fmt"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// rewardVisit is the code under test: it stamps a customer's card at the till and says
// whether a reward is waiting.
func rewardVisit(ctx context.Context, client *loyalty.Client, cardID string) (bool, error) {
	card, _, err := client.Cards.AddStamps(ctx, cardID, 1, &loyalty.ActionOptions{Comment: "till 1"})
	if err != nil {
		return false, err
	}
	return card.Balance.NumberRewardsUnused > 0, nil
}

// A test of your own code against the fake: start it, seed what the test needs through the
// ready client, run your code, and check the outcome. In a test, use t.Cleanup(srv.Close)
// and t.Fatal where this example prints.
func Example() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	ctx := context.Background()

	customer, _, _ := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	card, _, _ := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{
		CustomerID: customer.ID,
		TemplateID: srv.TemplateID(loyalty.CardTypeStamp), // 10 stamps earn a reward
	})

	for visit := 1; visit <= 10; visit++ {
		reward, err := rewardVisit(ctx, srv.Client, card.ID)
		if err != nil || reward {
			fmt.Println("visit", visit, "reward:", reward, "error:", err)
		}
	}
	fmt.Println("requests to add-stamp:", srv.Requests("POST /api/v2/cards/{id}/add-stamp"))
	// Output:
	// visit 10 reward: true error: <nil>
	// requests to add-stamp: 10
}

// Faults show how your code behaves when the answer to a card action is lost after the server
// applied it: the SDK reports the outcome as unknown instead of stamping twice.
func ExampleServer_InjectFault() {
	srv := loyaltytest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	customer, _, _ := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Jane", Phone: "15555550142"})
	card, _, _ := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})

	srv.InjectFault("POST /api/v2/cards/{id}/add-stamp", loyaltytest.Fault{DropAfter: true, Times: 1})
	_, err := rewardVisit(ctx, srv.Client, card.ID)
	fmt.Println("outcome unknown:", errors.Is(err, loyalty.ErrOutcomeUnknown))

	ops, _, _ := srv.Client.Operations.List(ctx, &loyalty.OperationListOptions{CardID: card.ID})
	fmt.Println("applied:", len(ops), "time(s)")
	// Output:
	// outcome unknown: true
	// applied: 1 time(s)
}
