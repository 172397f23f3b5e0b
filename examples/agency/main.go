// Command agency provisions sub-accounts from a CSV: it creates each company at most once,
// puts it on its tariff, acts as it (lists its templates, issues a sign-in link for its
// owner), all within the API's rate limit per key. Progress goes to stderr, a JSON summary to
// stdout. Killed half-way and run again, it ends with each company exactly once.
//
//	go run ./examples/agency                                  # its sample companies.csv, built-in fake
//	LOYALTY_API_KEY=... go run ./examples/agency -csv mine.csv -write
//
// LOYALTY_BASE_URL points it at another server, such as the sandbox. With -redis, copies
// running at once on several machines share one rate limit per key and one once-ledger, so
// that between them they still create each company once and stay within the limit:
//
//	LOYALTY_API_KEY=... go run ./examples/agency -redis redis://10.0.0.5:6379/0 -write   # on each machine
//
// This example is a module of its own (examples/agency/go.mod), so that only it, and not the
// SDK, depends on a Redis client.
package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltyredis"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// result is one company's line in the summary. The SSO link is a bearer credential: print
// it only where its owner will see it.
type result struct {
	Company string `json:"company"`
	// Outcome is "created" (by this run), "found" (it existed) or "failed".
	Outcome   string `json:"outcome"`
	ID        int    `json:"id,omitempty"`
	Templates int    `json:"templates"`
	SignIn    string `json:"signIn,omitempty"`
	Error     string `json:"error,omitempty"`
}

func main() {
	file := flag.String("csv", "", "name,email,phone,country,userName,userSurname,tariffId,tariffPeriod (default: the sample companies.csv)")
	write := flag.Bool("write", false, "allow writes to a real account")
	redisURL := flag.String("redis", "", "share the rate limit and the once-ledger with other copies through this Redis (redis://host:port/db)")
	flag.Parse()
	// The API allows about 10 requests a second per key; each company's key has its own.
	agency := connect(*write, shared(*redisURL, 10, 5)...)
	rows := readCSV(*file)
	ctx := context.Background()

	var summary []result
	for i, row := range rows {
		fmt.Fprintf(os.Stderr, "[%d/%d] %s\n", i+1, len(rows), row["name"])
		summary = append(summary, provision(ctx, agency, row))
	}
	out := json.NewEncoder(os.Stdout)
	out.SetIndent("", "  ")
	out.SetEscapeHTML(false)
	if err := out.Encode(summary); err != nil {
		log.Fatal(err)
	}
}

// provision creates (or finds) one company and sets it up.
func provision(ctx context.Context, agency *loyalty.Client, row map[string]string) result {
	r := result{Company: row["name"]}
	tariff, _ := strconv.Atoi(row["tariffId"])
	// CreateOnce looks the company up by email first (listing the agency's companies once for
	// the whole run), so a second run finds what the first created; Response.Found says which.
	// Its answer carries the company's own key.
	company, resp, err := agency.Companies.CreateOnce(ctx, &loyalty.CompanyCreateRequest{
		Name: row["name"], Email: row["email"], Phone: row["phone"], Country: row["country"],
		UserName: row["userName"], UserSurname: row["userSurname"], Password: loyalty.NewSecret(password()),
		TariffID: tariff, TariffPeriod: loyalty.TariffPeriod(row["tariffPeriod"]),
	}, nil)
	if err != nil {
		r.Outcome, r.Error = "failed", err.Error()
		return r
	}
	r.ID, r.Outcome = company.ID, "created"
	if resp.Found {
		r.Outcome = "found"
	}
	// A company found from an earlier run may be on another tariff since the CSV changed: move
	// it. One already on the row's tariff is left alone (the company record does not show
	// the period, so a change of period alone is not seen).
	if company.TariffID != tariff {
		if _, _, err := agency.Companies.ChangeTariff(ctx, company.ID, &loyalty.ChangeTariffRequest{
			TariffID: tariff, TariffPeriod: loyalty.TariffPeriod(row["tariffPeriod"])}); err != nil {
			r.Error = "tariff: " + err.Error()
			return r
		}
		fmt.Fprintf(os.Stderr, "  tariff %d -> %d\n", company.TariffID, tariff)
	}
	// Act as the company: a derived client with its key shares the agency's connections.
	sub, err := agency.ForCompany(company)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	templates, _, err := sub.Templates.List(ctx, nil)
	if err != nil {
		r.Error = "templates: " + err.Error()
		return r
	}
	r.Templates = len(templates)
	link, _, err := agency.Companies.SSOLink(ctx, company.ID)
	if err != nil {
		r.Error = "sign-in link: " + err.Error()
		return r
	}
	r.SignIn = link.String() // without its token; link.Link is the whole link
	return r
}

// sample is the CSV the example provisions unless -csv names another: built in, so that the
// example runs from any folder.
//
//go:embed companies.csv
var sample string

// readCSV reads the rows of the file name (the sample when "") as maps keyed by the header.
func readCSV(name string) []map[string]string {
	var r io.Reader = strings.NewReader(sample)
	if name != "" {
		f, err := os.Open(name)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		r = f
	}
	records, err := csv.NewReader(r).ReadAll()
	if err != nil || len(records) < 1 {
		log.Fatalf("%s: %v", name, err)
	}
	var rows []map[string]string
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, h := range records[0] {
			row[h] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows
}

// password makes a first password for the company's owner, who changes it on signing in.
func password() string { return "Lc-" + rand.Text()[:12] }

// shared returns the options that keep the rate limit and the once-ledger: in this process's
// memory, or in Redis for every copy that uses it.
func shared(redisURL string, perSecond float64, burst int) []loyalty.Option {
	if redisURL == "" {
		return []loyalty.Option{loyalty.WithRateLimit(perSecond, burst)}
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		log.Fatalf("-redis: %v", err)
	}
	rdb := redis.NewClient(opt) // lives until the program ends
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		log.Fatalf("-redis: %v", err)
	}
	limiter, err := loyaltyredis.NewRateLimiter(rdb, perSecond, burst)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stderr, "sharing the rate limit and the once-ledger through Redis at", opt.Addr)
	return []loyalty.Option{loyalty.WithRateLimiter(limiter), loyalty.WithLedger(loyaltyredis.NewLedger(rdb))}
}

// connect returns a client of the real API when LOYALTY_API_KEY is set, else of the fake.
func connect(write bool, opts ...loyalty.Option) *loyalty.Client {
	if os.Getenv("LOYALTY_API_KEY") == "" {
		fake := loyaltytest.NewServer() // lives until the program ends
		fmt.Fprintln(os.Stderr, "no LOYALTY_API_KEY: running against the built-in fake API at", fake.URL)
		client, err := fake.NewClient(opts...)
		if err != nil {
			log.Fatal(err)
		}
		return client
	}
	if !write {
		log.Fatal("LOYALTY_API_KEY is set: this example creates companies in that account; run it with -write")
	}
	client, err := loyalty.NewClientFromEnv(append(opts, loyalty.WithUserAgent("agency-example"))...)
	if err != nil {
		log.Fatal(err)
	}
	return client
}
