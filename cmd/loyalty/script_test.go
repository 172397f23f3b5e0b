package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// TestMain lets the scripts run "loyalty" as a program: the test binary, run again, is it.
// "exits N loyalty ARGS..." runs it and succeeds when its exit status is N, so that a script
// pins the status of a failure, not only that it failed.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"loyalty": main,
		"exits": func() {
			if len(os.Args) < 3 || os.Args[2] != "loyalty" {
				fmt.Fprintln(os.Stderr, "usage: exits N loyalty ARGS...")
				os.Exit(100)
			}
			got := run(context.Background(), os.Args[3:], stdio())
			if want, _ := strconv.Atoi(os.Args[1]); got != want {
				fmt.Fprintf(os.Stderr, "exit status %d, want %d\n", got, want)
				os.Exit(100)
			}
			os.Exit(0)
		},
	})
}

// TestScripts runs testdata/script/*.txtar: each a shell session against a fresh fake API,
// its exit codes and output checked.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			srv := loyaltytest.NewServer()
			env.Defer(srv.Close)
			env.Values["srv"] = srv
			env.Values["counted"] = new(int)
			// A script named credentials* starts without them, to find them where it puts them:
			// a script can set a variable, even to "", but not unset it.
			if !strings.HasPrefix(filepath.Base(env.WorkDir), "script-credentials") {
				env.Setenv(envBaseURL, srv.URL)
				env.Setenv(envKey, srv.APIKey)
			}
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_CONFIG_HOME", env.WorkDir+"/.config")
			env.Setenv("XDG_CACHE_HOME", env.WorkDir+"/.cache")
			for _, ct := range []loyalty.CardType{loyalty.CardTypeStamp, loyalty.CardTypeCashback, loyalty.CardTypeCoupon} {
				env.Setenv(strings.ToUpper(ct.String())+"_TEMPLATE", strconv.Itoa(srv.TemplateID(ct)))
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"issue":     issueCard,
			"companies": countCompanies,
			"fault":     injectFault,
			"waitfor":   waitFor,
			"envfile":   envFile,
			"mode":      fileMode,
			"freeport":  freePort,
			"subscribe": subscribe,
			"delivered": delivered,
			"requests":  requests,
		},
	})
}

func server(ts *testscript.TestScript) *loyaltytest.Server {
	return ts.Value("srv").(*loyaltytest.Server)
}

// issueCard: issue TYPE PHONE VAR — issues a card of TYPE to a customer with PHONE (created
// if need be), and sets VAR to its id.
func issueCard(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: issue TYPE PHONE VAR")
	}
	srv := server(ts)
	ct, err := loyalty.ParseCardType(args[0])
	ts.Check(err)
	ctx := context.Background()
	cu, _, err := srv.Client.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{FirstName: "Ann", Phone: args[1]})
	ts.Check(err)
	card, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: srv.TemplateID(ct)})
	ts.Check(err)
	ts.Setenv(args[2], card.ID)
}

// countCompanies: companies EMAIL N — the fake holds exactly N companies with EMAIL.
func countCompanies(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: companies EMAIL N")
	}
	n := 0
	for co, err := range server(ts).Client.Companies.All(context.Background(), nil) {
		ts.Check(err)
		if strings.EqualFold(co.Email, args[0]) {
			n++
		}
	}
	if want, _ := strconv.Atoi(args[1]); (n == want) == neg {
		ts.Fatalf("%d companies with email %s, want %s", n, args[0], args[1])
	}
}

// injectFault: fault ROUTE KIND [TIMES] — the fake misbehaves on ROUTE ("POST /api/v2/companies"):
// pass (no fault, to let requests through before the next), hang (applied, answered after
// an hour), hold (applied 3 s after it came, whether its sender waits or not), 401, 429,
// 503, drop (applied, answer lost).
func injectFault(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: fault ROUTE KIND [TIMES]")
	}
	var f loyaltytest.Fault
	switch args[1] {
	case "pass":
	case "hang":
		f.DelayAnswer = time.Hour
	case "hold":
		f.Hold = 3 * time.Second
	case "drop":
		f.DropAfter = true
	case "401", "429", "503":
		f.Status, _ = strconv.Atoi(args[1])
	default:
		ts.Fatalf("unknown fault %q", args[1])
	}
	if len(args) > 2 {
		f.Times, _ = strconv.Atoi(args[2])
	}
	server(ts).InjectFault(args[0], f)
}

// waitFor: waitfor companies N — waits until the fake holds N companies, for a script that
// interrupts a command half-way: it reads the fake's state until then, within 30 s.
// waitfor listening ADDR — waits until a program in the background serves on ADDR.
// waitfor requests ROUTE N — waits until the fake has received N requests on ROUTE.
func waitFor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || (args[0] != "companies" && args[0] != "listening" && args[0] != "requests") {
		ts.Fatalf("usage: waitfor companies N | waitfor listening ADDR | waitfor requests ROUTE N")
	}
	deadline := time.Now().Add(30 * time.Second)
	if args[0] == "requests" {
		want, _ := strconv.Atoi(args[2])
		for server(ts).Requests(args[1]) < want {
			if time.Now().After(deadline) {
				ts.Fatalf("%d requests on %s after 30 s, want %d", server(ts).Requests(args[1]), args[1], want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		return
	}
	if args[0] == "listening" {
		for {
			c, err := net.Dial("tcp", args[1])
			if err == nil {
				c.Close()
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("nothing serves on %s after 30 s", args[1])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	want, _ := strconv.Atoi(args[1])
	for {
		n := 0
		for _, err := range server(ts).Client.Companies.All(context.Background(), nil) {
			ts.Check(err)
			n++
		}
		if n >= want {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("the fake holds %d companies after 30 s, want %d", n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// envFile: envfile FILE MODE — writes the fake's base URL and key to a credentials FILE with
// MODE (octal), for scripts that read them from a file rather than the environment.
func envFile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile FILE MODE")
	}
	srv := server(ts)
	mode, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	path := ts.MkAbs(args[0])
	body := fmt.Sprintf("# the sandbox's\nexport %s=%s\n%s=%s\n", envBaseURL, srv.URL, envKey, srv.APIKey)
	ts.Check(os.WriteFile(path, []byte(body), os.FileMode(mode)))
	ts.Check(os.Chmod(path, os.FileMode(mode)))
}

// fileMode: mode FILE PERM — FILE's permission bits are PERM (octal).
func fileMode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if (fi.Mode().Perm() == os.FileMode(want)) == neg {
		ts.Fatalf("%s has mode %04o", args[0], fi.Mode().Perm())
	}
}

// freePort: freeport VAR — sets VAR to a loopback address nothing listens on.
func freePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Setenv(args[0], l.Addr().String())
	ts.Check(l.Close())
}

// subscribe: subscribe URL — the fake delivers every card event to URL.
func subscribe(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: subscribe URL")
	}
	_, _, err := server(ts).Client.Webhooks.Subscribe(context.Background(), &loyalty.WebhookSubscribeRequest{
		URL: args[0], Events: []loyalty.EventName{loyalty.EventCardIssued, loyalty.EventCardBalanceUpdated}})
	ts.Check(err)
}

// delivered: delivered STATUS N — waits for the fake's deliveries to end, then checks that N
// of them were answered STATUS.
func delivered(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: delivered STATUS N")
	}
	srv := server(ts)
	srv.WaitForDeliveries()
	status, _ := strconv.Atoi(args[0])
	want, _ := strconv.Atoi(args[1])
	n := 0
	for _, d := range srv.Deliveries() {
		if d.Status == status {
			n++
		}
	}
	if n != want {
		ts.Fatalf("%d deliveries answered %d, want %d (all: %d)", n, status, want, len(srv.Deliveries()))
	}
}

// requests: requests N — the fake received N requests since the script's last requests
// command (or its start): what each job costs, pinned as a test pins any other figure.
// requests start counts from here, after a script's own set-up.
func requests(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: requests N | requests start")
	}
	counted := ts.Value("counted").(*int)
	total := server(ts).TotalRequests()
	got := total - *counted
	*counted = total
	if args[0] == "start" {
		return
	}
	if want, _ := strconv.Atoi(args[0]); got != want {
		ts.Fatalf("%d requests, want %s", got, args[0])
	}
}
