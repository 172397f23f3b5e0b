// Command loyalty-sandbox serves the loyaltytest fake of the loyalty card API on a port, for
// trying the examples and for testing a till or a back office written in any language without
// touching a live merchant:
//
//	go run github.com/loyaltycards/loyalty-go/loyaltytest/cmd/loyalty-sandbox -state sandbox.json
//
// It prints the base URL, an agency key and a marketplace app token as environment
// variables the examples read (LOYALTY_BASE_URL, LOYALTY_API_KEY, LOYALTY_APP_TOKEN), and the
// seeded templates (one per card type and mechanics). With -state its accounts, cards,
// history, subscriptions and keys are kept in that file and come back when it restarts;
// without, they last as long as the process.
//
// The control routes below /_sandbox/ take the agency key in X-API-Key: POST
// /_sandbox/faults injects a fault on a route, DELETE /_sandbox/faults clears them, POST
// /_sandbox/webhook-faults drops or repeats webhook deliveries, POST /_sandbox/mark and GET
// /_sandbox/report tell what the server received and created since the mark. See
// loyaltytest.WithControl for the shapes.
//
// The state file holds the keys: keep it as you would keep them. The sandbox listens on
// loopback unless -addr says otherwise (and warns when it does), and takes no TLS. SIGTERM
// ends it within a few seconds with its state saved. The loyalty command line serves the same
// sandbox as "loyalty sandbox".
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/loyaltycards/loyalty-go/internal/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := sandbox.Run(ctx, "loyalty-sandbox", os.Args[1:], sandbox.IO{Stdout: os.Stdout, Stderr: os.Stderr}); err != nil {
		fmt.Fprintln(os.Stderr, "loyalty-sandbox:", err)
		os.Exit(1)
	}
}
