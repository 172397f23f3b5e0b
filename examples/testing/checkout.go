// Package checkout is a stand-in for your own code: it credits a purchase to a customer's
// stamp card. Its test, checkout_test.go, is the part to copy: it shows how to test code that
// uses the loyalty SDK against loyaltytest, the SDK's fake API, with injected faults and
// request counts.
package checkout

import (
	"context"
	"fmt"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// Credit adds a stamp to the card for a receipt, at most once per receipt, and returns the
// stamps on the card.
func Credit(ctx context.Context, client *loyalty.Client, cardID, receipt string) (int, error) {
	card, _, err := client.Cards.ApplyOnce(ctx, cardID, loyalty.Bind(client.Cards.AddStamps, 1),
		&loyalty.ActionOptions{Reference: receipt, Comment: "checkout"}, &loyalty.OnceOptions{Settle: 1})
	if err != nil {
		return 0, fmt.Errorf("crediting receipt %s: %w", receipt, err)
	}
	return card.Balance.NumberStampsTotal, nil
}
