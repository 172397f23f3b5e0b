package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// streams is what a run reads and writes, and what it knows of the terminal: tests give
// buffers and say whether a person is there.
type streams struct {
	in       io.Reader
	out, err io.Writer
	// askable says a person answers on in (a terminal): what cannot be undone is asked about,
	// on err.
	askable bool
	// drawable says err is a terminal: long runs draw a progress bar on it.
	drawable bool
	getenv   func(string) (string, bool)
}

// stdio is the process's own streams.
func stdio() streams {
	return streams{
		in: os.Stdin, out: os.Stdout, err: os.Stderr,
		askable:  term.IsTerminal(int(os.Stdin.Fd())),
		drawable: term.IsTerminal(int(os.Stderr.Fd())),
		getenv:   os.LookupEnv,
	}
}

// app is one run of the command: its streams and the settings its flags gave.
type app struct {
	streams
	output      string  // text, json or csv
	credentials string  // the credentials file, when --credentials names one
	ledger      string  // the once-ledger's file, when --ledger names one
	rate        float64 // requests a second per key
	started     bool    // a command's own work began: an error from here on is not a usage error

	client *loyalty.Client // made on first use, from the credentials
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, s streams) int {
	a := &app{streams: s}
	root := a.root()
	root.SetArgs(args)
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := a.exitCode(err)
	fmt.Fprintln(s.err, "loyalty:", message(err))
	if code == exitUsage && !errors.As(err, new(usageError)) {
		fmt.Fprintln(s.err, "run 'loyalty --help' for usage")
	}
	return code
}

// message is an error as the user reads it: the SDK's errors start "loyalty: ", which the
// program's own prefix already says.
func message(err error) string {
	return strings.TrimPrefix(err.Error(), "loyalty: ")
}

// root is the command tree.
func (a *app) root() *cobra.Command {
	root := &cobra.Command{
		Use:   "loyalty",
		Short: "The loyalty card API at a shell prompt",
		Long: `loyalty runs the jobs of agencies and support staff against the loyalty card API:
provisioning companies, reading cards and customers, recording a purchase once per receipt,
applying card actions, exporting cards, sending pushes, receiving webhooks.

Credentials come from LOYALTY_API_KEY, LOYALTY_APP_TOKEN and LOYALTY_BASE_URL, or from a
credentials file of lines NAME=value with those names (--credentials; by default
loyalty/credentials in your config folder, readable by you alone). Never from an argument.

Exit status: 0 done; 1 failed otherwise; 2 usage; 3 invalid input, refused before anything
was sent or by the API's validation; 4 not found; 5 refused by the card's state; 6 outcome
unknown, check before retrying; 7 rate limited or unavailable; 8 authentication; 9 some rows
of a bulk command failed (each says why).`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	pf := root.PersistentFlags()
	pf.StringVarP(&a.output, "output", "o", "text", "text, json (one object a line) or csv")
	pf.StringVar(&a.credentials, "credentials", "", "credentials file (default: loyalty/credentials in your config folder)")
	pf.Float64Var(&a.rate, "rate", 10, "requests a second per key at most (the API allows about 10)")
	pf.StringVar(&a.ledger, "ledger", "", "the file where runs on this machine claim what they send once (default: loyalty/ledger.json in your cache folder)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		switch a.output {
		case "text", "json", "csv":
			return nil
		}
		return usagef("--output %q: want text, json or csv", a.output)
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.companiesCmd(), a.customersCmd(), a.cardsCmd(), a.templatesCmd(),
		a.operationsCmd(), a.tariffsCmd(), a.exportCmd(), a.pushesCmd(), a.webhooksCmd(),
		a.sandboxCmd(), a.mcpCmd())
	return root
}

// do marks where a command's own work begins: errors before it (flags, arguments) are usage
// errors, and the SDK's errors after it are sorted by kind.
func (a *app) do(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.started = true
		return f(cmd, args)
	}
}

// withAPI is do for a command that calls the API: f gets the client, made from the
// credentials.
func (a *app) withAPI(f func(cmd *cobra.Command, args []string, api *loyalty.Client) error) func(*cobra.Command, []string) error {
	return a.do(func(cmd *cobra.Command, args []string) error {
		api, err := a.api()
		if err != nil {
			return err
		}
		return f(cmd, args, api)
	})
}

// args checks a command's argument count, as a usage error.
func args(n int, names string) cobra.PositionalArgs {
	return func(_ *cobra.Command, got []string) error {
		if len(got) != n {
			return usagef("want %s, got %d argument(s)", names, len(got))
		}
		return nil
	}
}
