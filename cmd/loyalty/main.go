// Command loyalty is the loyalty card API at a shell prompt: the jobs of agencies and support
// staff, each one command, on the loyalty-go SDK and with its promises. It provisions
// companies from a CSV (each at most once, the new keys to a file of the user's own), reads
// companies, customers, cards, templates, the card history and tariffs, records a purchase
// once per receipt and applies any card action by name, exports every card, sends pushes,
// prints the typed events a webhook delivers, serves the local sandbox, and offers the same
// jobs to AI assistants over the Model Context Protocol (loyalty mcp).
//
//	go run ./cmd/loyalty --help                                   # from a clone
//	go install github.com/loyaltycards/loyalty-go/cmd/loyalty@latest
//
// Credentials come from LOYALTY_API_KEY, LOYALTY_APP_TOKEN and LOYALTY_BASE_URL, or from a
// credentials file (--credentials; by default loyalty/credentials in the user's config
// folder), never from an argument: other users of the machine can read a process's
// arguments. The exit status says what kind of failure ended a command; see exitCodes.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], stdio())
	stop()
	os.Exit(code)
}
