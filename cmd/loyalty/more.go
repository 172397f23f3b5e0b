package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/internal/sandbox"
)

func (a *app) exportCmd() *cobra.Command {
	c := &cobra.Command{Use: "export", Short: "Stream every record of a kind, for a spreadsheet or a script"}
	var f loyalty.CardListOptions
	cards := &cobra.Command{
		Use:   "cards",
		Short: "Every card, streamed as CSV (the default) or JSON lines (-o json)",
		Long: "Every card, a page of 1,000 at a time within the rate limit, streamed as it is read: CSV with a\n" +
			"header by default, one JSON object a line with -o json. The filters of 'cards list' apply.",
		Args: args(0, "no arguments"),
		RunE: a.withAPI(func(cmd *cobra.Command, _ []string, api *loyalty.Client) error {
			if a.output == "text" {
				a.output = "csv"
			}
			f.ItemsPerPage = loyalty.MaxItemsPerPage
			t := a.table(cardCols...)
			bar := a.progress(-1, "cards")
			defer bar.done()
			for card, err := range api.Cards.All(cmd.Context(), &f) {
				if err != nil {
					_ = t.flush()
					return err
				}
				if err := t.row(cardRow(&card)...); err != nil {
					return err
				}
				bar.step()
			}
			return t.flush()
		}),
	}
	cards.Flags().StringVar(&f.CustomerPhone, "phone", "", "only the cards of the customer with this phone")
	cards.Flags().StringVar(&f.CustomerEmail, "email", "", "only the cards of the customer with this email")
	cards.Flags().StringVar(&f.CustomerID, "customer", "", "only the cards of this customer id")
	cards.Flags().IntVar(&f.TemplateID, "template", 0, "only the cards issued from this template id")
	c.AddCommand(cards)
	return c
}

func (a *app) pushesCmd() *cobra.Command {
	c := &cobra.Command{Use: "pushes", Short: "Push messages to the cards in customers' wallets"}
	var req loyalty.PushSendRequest
	var at string
	var yes bool
	send := &cobra.Command{
		Use:   "send --template ID [--card CARD] --message TEXT",
		Short: "Send a push to one card, or to every card of a template",
		Args:  args(0, "no arguments"),
		RunE: a.withAPI(func(cmd *cobra.Command, _ []string, api *loyalty.Client) error {
			if strings.TrimSpace(req.Message) == "" {
				return usagef("pushes send needs --message")
			}
			if at != "" {
				t, err := time.Parse(time.RFC3339, at)
				if err != nil {
					return usagef("--at %q: want a time such as 2027-01-31T09:00:00+01:00", at)
				}
				req.ScheduledAt = loyalty.Timestamp{Time: t}
			}
			to := fmt.Sprintf("a push to every card of template %d", req.TemplateID)
			if req.CardID != "" {
				to = "a push to card " + req.CardID
			}
			if err := a.confirm(to, yes); err != nil {
				return err
			}
			p, _, err := api.Pushes.Send(cmd.Context(), &req)
			if err != nil {
				return err
			}
			t := a.table("id", "templateId", "cardId", "message")
			if err := t.row(p.ID, p.TemplateID, p.CardID, p.Message); err != nil {
				return err
			}
			return t.flush()
		}),
	}
	send.Flags().IntVar(&req.TemplateID, "template", 0, "the template whose cards get it")
	send.Flags().StringVar(&req.CardID, "card", "", "only this card")
	send.Flags().StringVar(&req.Message, "message", "", "the text shown on the card")
	send.Flags().StringVar(&at, "at", "", "send at this time (RFC 3339) instead of now")
	send.Flags().BoolVarP(&yes, "yes", "y", false, "send without asking (a push cannot be taken back)")
	_ = send.MarkFlagRequired("template")
	c.AddCommand(send)
	return c
}

// envWebhookToken carries the token a webhook receiver checks; a variable, not a flag, as
// every secret.
const envWebhookToken = "LOYALTY_WEBHOOK_TOKEN"

func (a *app) webhooksCmd() *cobra.Command {
	c := &cobra.Command{Use: "webhooks", Short: "Receive the platform's event deliveries"}
	var listen, path, param string
	var insecure bool
	recv := &cobra.Command{
		Use:   "receive --listen ADDR",
		Short: "Receive deliveries and print each typed event as a JSON line",
		Long: "Serve a webhook receiver on ADDR at --path. Each delivery must carry the token of " + envWebhookToken + "\n" +
			"in the URL's query (subscribe https://your.host/hooks?token=<token>); one without is refused\n" +
			"before its body is read. Each accepted event prints as one JSON line: event, timestamp, key\n" +
			"(deliveries come at least once: drop repeats by it), subject, and the typed payload.",
		Args: args(0, "no arguments"),
		RunE: a.do(func(cmd *cobra.Command, _ []string) error {
			token, _ := a.getenv(envWebhookToken)
			if token == "" && !insecure {
				return usagef("set %s to the token your subscription's URL carries (or --no-token, for a URL nobody else knows)", envWebhookToken)
			}
			l, err := net.Listen("tcp", listen)
			if err != nil {
				return err
			}
			return a.receive(cmd.Context(), l, path, param, token)
		}),
	}
	recv.Flags().StringVar(&listen, "listen", "127.0.0.1:8443", "address to serve on")
	recv.Flags().StringVar(&path, "path", "/hooks", "the URL path deliveries come to")
	recv.Flags().StringVar(&param, "token-param", "token", "the query parameter that carries the token")
	recv.Flags().BoolVar(&insecure, "no-token", false, "accept deliveries without a token")
	c.AddCommand(recv)
	return c
}

// receive serves deliveries on l until ctx ends, printing each event as a JSON line.
func (a *app) receive(ctx context.Context, l net.Listener, path, param, token string) error {
	var mu sync.Mutex
	enc := json.NewEncoder(a.out)
	enc.SetEscapeHTML(false)
	h := &loyalty.WebhookHandler{Handle: func(_ context.Context, e *loyalty.Event) error {
		kind, payload := typed(e)
		mu.Lock()
		defer mu.Unlock()
		return enc.Encode(map[string]any{
			"event": e.Name, "timestamp": e.Timestamp.UTC().Format(time.RFC3339), "key": e.Key(),
			"subject": e.Subject(), "kind": kind, "data": payload,
		})
	}}
	if token != "" {
		h.VerifyRequest = loyalty.VerifyToken(param, token)
	}
	mux := http.NewServeMux()
	mux.Handle(path, h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second}
	fmt.Fprintf(a.err, "receiving webhooks at http://%s%s\n", l.Addr(), path)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return err
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// typed reads an event's payload as its kind's type; an event this version does not know, or
// whose payload does not read, is printed as it came.
func typed(e *loyalty.Event) (kind string, payload any) {
	var v any
	var err error
	switch name := string(e.Name); {
	case strings.HasPrefix(name, "Card"):
		kind = "card"
		v, err = e.Card()
	case strings.HasPrefix(name, "Customer"):
		kind = "customer"
		v, err = e.Customer()
	case strings.HasPrefix(name, "Company"):
		kind = "company"
		v, err = e.Company()
	case strings.HasPrefix(name, "Template"):
		kind = "template"
		v, err = e.Template()
	}
	if kind == "" || err != nil {
		return "unknown", json.RawMessage(e.Data)
	}
	return kind, v
}

func (a *app) sandboxCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "sandbox [-addr ADDR] [-state FILE] [-live-shapes]",
		Short: "Serve the local sandbox of the API, for trying things without a live account",
		Long: "Serve the local sandbox: the SDK's fake of the API on a port (127.0.0.1:8787 by default), with\n" +
			"seeded templates, printing the LOYALTY_* lines to point this command (or any client) at it.\n" +
			"-state keeps its accounts, cards and keys in a file across restarts. Flags as loyalty-sandbox's:\n" +
			"loyalty sandbox -- -help lists them.",
		DisableFlagParsing: true,
		RunE: a.do(func(cmd *cobra.Command, argv []string) error {
			if len(argv) > 0 && argv[0] == "--" {
				argv = argv[1:]
			}
			return sandbox.Run(cmd.Context(), "loyalty sandbox", argv, sandbox.IO{Stdout: a.out, Stderr: a.err})
		}),
	}
}
