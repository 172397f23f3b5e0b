// Package sandbox is the loyalty-sandbox program as a function, so that the loyalty command
// line serves the same sandbox (loyalty sandbox) as loyaltytest/cmd/loyalty-sandbox does.
// What it serves, and how it keeps to itself, is said on Run.
package sandbox

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"time"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/internal/atomicfile"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

const (
	// saveEvery bounds how often the state file is written while requests keep changing it:
	// a bulk import of thousands of customers writes it a few times a second, not once per row.
	saveEvery = 200 * time.Millisecond
	// saveRetry is how soon a save that failed is tried again.
	saveRetry = 2 * time.Second
	// shutdownGrace is how long a stop waits for the requests being handled before it closes
	// their connections: SIGTERM ends the program within a few seconds, whatever they do.
	shutdownGrace = 2 * time.Second
)

// IO is where Run writes, and what tests tell it.
type IO struct {
	// Stdout takes what the user reads; Stderr, warnings.
	Stdout, Stderr io.Writer
	// Ready, when not nil, is told the running server once it serves.
	Ready func(*loyaltytest.Server)
	// Grace and Retry replace the shutdown grace (2 s) and the wait before a failed save is
	// tried again (2 s) when set: tests wait less.
	Grace, Retry time.Duration
}

// Run serves the loyaltytest fake of the loyalty card API on a port, for
// trying the examples and for testing a till or a back office written in any language without
// touching a live merchant.
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
// loyaltytest.WithControl for the shapes. Webhooks are delivered to the URLs subscribed
// through POST /api/automation/webhooks.
//
// The state file holds the keys: keep it as you would keep them. The sandbox listens on
// loopback unless -addr says otherwise (and warns when it does), and takes no TLS: the keys
// it prints are for it only. It is built to be reached by strangers all the same: read
// timeouts on every connection, the key checked before a body is read, quantities beyond the
// API's 32-bit counts refused, no redirect followed when it delivers a webhook. SIGTERM ends
// it within a few seconds with its state saved; a periodic save that fails is reported on
// stderr and tried again.
//
// It serves until ctx is done, then writes the state a last time. name is the program's
// name, as its messages and usage say it; args are its flags.
func Run(ctx context.Context, name string, args []string, rio IO) error {
	stdout, stderr, ready := rio.Stdout, rio.Stderr, rio.Ready
	grace, retryAfter := cmp.Or(rio.Grace, shutdownGrace), cmp.Or(rio.Retry, saveRetry)
	flags := flag.NewFlagSet(name, flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", "127.0.0.1:8787", "address to serve on (port 0: any free port); off loopback, anyone who reaches it can use it")
	stateFile := flags.String("state", "", "keep the state in this file across restarts (default: in memory)")
	key := flags.String("key", "", "the agency's API key (default: a random one, or the state file's)")
	appToken := flags.String("app-token", "", "the marketplace app token (default: a random one, or the state file's)")
	liveShapes := flags.Bool("live-shapes", false, "answer numbers as strings and booleans as 0/1, as the live API does")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags go before it?)", flags.Arg(0))
	}

	var saved []byte
	if *stateFile != "" {
		b, err := os.ReadFile(*stateFile)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		saved = b
	}
	if warning := exposure(name, *addr); warning != "" {
		fmt.Fprintln(stderr, warning)
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	changed := make(chan struct{}, 1)
	opts := []loyaltytest.Option{
		loyaltytest.WithListener(l),
		loyaltytest.WithControl(),
		loyaltytest.WithOnChange(func() {
			select {
			case changed <- struct{}{}:
			default: // a save is already due; it will see this change too
			}
		}),
	}
	if *key != "" || *appToken != "" {
		opts = append(opts, loyaltytest.WithKeys(*key, *appToken))
	}
	if *liveShapes {
		opts = append(opts, loyaltytest.WithLiveShapes())
	}
	srv, err := loyaltytest.NewServerFromState(saved, opts...)
	if err != nil {
		_ = l.Close()
		return fmt.Errorf("%s: %w", *stateFile, err)
	}
	if (*key != "" && *key != srv.APIKey) || (*appToken != "" && *appToken != srv.AppToken) {
		srv.Close()
		return fmt.Errorf("%s holds other keys than -key or -app-token: leave them out, or start from another file", *stateFile)
	}
	save := func() error {
		if *stateFile == "" {
			return nil
		}
		b, err := srv.Save()
		if err != nil {
			return err
		}
		return atomicfile.Write(*stateFile, b)
	}
	if err := save(); err != nil { // the keys printed below are in the file from the start
		srv.Close()
		return err
	}
	// The welcome is whole even when a stop came while the server started: its template list
	// is a read of this process's own server, which answers at once.
	printWelcome(context.WithoutCancel(ctx), stdout, srv, *stateFile, *liveShapes)
	if ready != nil {
		ready(srv)
	}

	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			graceCtx, cancel := context.WithTimeout(context.Background(), grace)
			_ = srv.Shutdown(graceCtx) // what is still being handled after the grace is cut off
			cancel()
			return save()
		case <-changed:
		case <-retry:
		}
		// A save that fails (a full disk, a folder gone) is said and tried again: the state in
		// memory is whole, and the sandbox goes on serving.
		if err := save(); err != nil {
			fmt.Fprintf(stderr, "%s: saving the state failed; trying again in %s: %v\n", name, retryAfter, err)
			retry = time.After(retryAfter)
			continue
		}
		retry = nil
		select {
		case <-ctx.Done():
		case <-time.After(saveEvery):
		}
	}
}

// exposure warns when addr listens beyond this machine, and is "" on loopback.
func exposure(name, addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err == nil && (host == "localhost" || net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback()) {
		return ""
	}
	return name + ": warning: -addr " + addr + " listens beyond this machine, in plain HTTP: anyone who can reach it " +
		"can read the keys it serves and use them. Put it behind a firewall, or keep it on 127.0.0.1."
}

// apiTypeNames are the card type names the live API writes where the SDK's differ.
var apiTypeNames = map[loyalty.CardType]string{loyalty.CardTypeMultipass: "subscription", loyalty.CardTypeGift: "certificate"}

// printWelcome says where the sandbox is, how to point the examples at it, which templates
// it holds, and what it assumes where the API's documentation is silent.
func printWelcome(ctx context.Context, out io.Writer, srv *loyaltytest.Server, stateFile string, live bool) {
	where := "in memory"
	if stateFile != "" {
		where = "kept in " + stateFile
	}
	fmt.Fprintf(out, "loyalty sandbox on %s (state %s); point a client at it with:\n\n", srv.URL, where)
	fmt.Fprintf(out, "export LOYALTY_BASE_URL=%s\nexport LOYALTY_API_KEY=%s\nexport LOYALTY_APP_TOKEN=%s\n\n",
		srv.URL, srv.APIKey, srv.AppToken)
	fmt.Fprintln(out, "templates (id, card type as the SDK names it and, where it differs, as the API does, name):")
	for tm, err := range srv.Client.Templates.All(ctx, nil) {
		if err != nil {
			fmt.Fprintln(out, "  (could not list them:", err, ")")
			break
		}
		kind := tm.Type.String()
		if api, ok := apiTypeNames[tm.Type]; ok {
			kind += " (API: " + api + ")"
		}
		fmt.Fprintf(out, "  %-6d %-30s %s\n", tm.ID, kind, tm.Name)
	}
	shapes := "as the API's description writes them (numbers as numbers, booleans as true/false).\n" +
		"  Start with -live-shapes to get them as the live API sends them, numbers as strings (\"12.50\") and\n" +
		"  booleans as 0/1: a client of the live API must read those"
	if live {
		shapes = "as the live API sends them (-live-shapes): numbers as strings (\"12.50\") and booleans as 0/1"
	}
	fmt.Fprintf(out, "\nanswers: %s.\n", shapes)
	fmt.Fprintln(out, "assumed, where the API's documentation is silent (the live API may differ):")
	fmt.Fprintln(out, "  - a cashback card's add-point takes the purchase amount and credits the template's percentage of it")
	fmt.Fprintln(out, "    (5%: 25 points add 1.25); add-transaction-amount moves the balance by the amount itself")
	fmt.Fprintln(out, "  - subtract-purchase takes the cards add-purchase does; a membership tier with a visit limit takes")
	fmt.Fprintln(out, "    subtract-visit, one without takes add-visit")
	fmt.Fprintln(out, "  - counts are 32-bit integers: a larger quantity, or one that would leave the card out of range, is refused (422)")
	fmt.Fprintln(out, "\ncontrol routes: POST|DELETE /_sandbox/faults, POST /_sandbox/mark, GET /_sandbox/report (X-API-Key: the agency key)")
}
