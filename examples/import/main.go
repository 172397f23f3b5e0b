// Command import imports customers from a CSV and issues each a card, several at a time
// within the API's rate limit. Rows that fail are written to a failure report, a CSV of the
// same shape that can be imported again; rows already imported are found, not duplicated.
//
//	go run ./examples/import                                 # testdata/customers.csv, built-in fake
//	LOYALTY_API_KEY=... go run ./examples/import -csv mine.csv -template 42 -write
//	LOYALTY_API_KEY=... go run ./examples/import -csv mine.csv -template "Coffee stamps" -write
//
// On an account it checks the template (an id or a name) before the first row, so a wrong one
// stops the import instead of failing every row. LOYALTY_BASE_URL points it at another
// server, such as the sandbox.
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

func main() {
	file := flag.String("csv", "testdata/customers.csv", "firstName,surname,email,phone")
	failures := flag.String("failures", "import-failures.csv", "where the rows that failed go")
	template := flag.String("template", "", "the template to issue cards from: its id or its name (the fake's stamp template by default)")
	workers := flag.Int("workers", 8, "rows imported at once")
	write := flag.Bool("write", false, "allow writes to a real account")
	flag.Parse()
	client, stampTemplate := connect(*write)
	header, rows := readCSV(*file)
	templateID := stampTemplate
	if *template != "" || templateID == 0 {
		templateID = findTemplate(context.Background(), client, *template)
	}

	var (
		done, failed atomic.Int64
		mu           sync.Mutex
		report       [][]string
		wg           sync.WaitGroup
		jobs         = make(chan []string)
	)
	for range *workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for row := range jobs {
				if err := importRow(context.Background(), client, templateID, row); err != nil {
					failed.Add(1)
					mu.Lock()
					report = append(report, append(row, err.Error()))
					mu.Unlock()
				}
				fmt.Fprintf(os.Stderr, "\r%d/%d imported, %d failed", done.Add(1)-failed.Load(), len(rows), failed.Load())
			}
		}()
	}
	for _, row := range rows {
		jobs <- row
	}
	close(jobs)
	wg.Wait()
	fmt.Fprintln(os.Stderr)
	if len(report) > 0 {
		writeCSV(*failures, append(header, "error"), report)
	}
	fmt.Printf("imported %d of %d customers; %d failed (see %s)\n", len(rows)-len(report), len(rows), len(report), *failures)
}

// importRow finds or creates the customer and finds or issues their card: running the
// import again, or the failure report, never duplicates either.
func importRow(ctx context.Context, client *loyalty.Client, templateID int, row []string) error {
	customer, _, err := client.Customers.FindOrCreate(ctx, &loyalty.CustomerCreateRequest{
		FirstName: row[0], Surname: row[1], Email: row[2], Phone: row[3],
	})
	if err != nil {
		return err
	}
	_, _, err = client.Cards.FindOrIssue(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: templateID}, nil)
	return err
}

// findTemplate returns the id of the template named by want (an id or a name), or stops the
// program, saying which templates the account has.
func findTemplate(ctx context.Context, client *loyalty.Client, want string) int {
	var found []loyalty.Template
	var names []string
	for t, err := range client.Templates.All(ctx, nil) {
		if err != nil {
			log.Fatalf("templates: %v", err)
		}
		names = append(names, fmt.Sprintf("%d %q (%s)", t.ID, t.Name, t.Type))
		if want != "" && (strconv.Itoa(t.ID) == want || t.Name == want) {
			found = append(found, t)
		}
	}
	switch {
	case want == "":
		log.Fatalf("-template: which template to issue the cards from, by id or name; this account has:\n  %s", strings.Join(names, "\n  "))
	case len(found) == 0:
		log.Fatalf("-template %q: no such template; this account has:\n  %s", want, strings.Join(names, "\n  "))
	case len(found) > 1:
		log.Fatalf("-template %q: %d templates have that name; give the id", want, len(found))
	}
	fmt.Fprintf(os.Stderr, "issuing cards from template %d %q\n", found[0].ID, found[0].Name)
	return found[0].ID
}

func readCSV(name string) (header []string, rows [][]string) {
	f, err := os.Open(name)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil || len(records) == 0 {
		log.Fatalf("%s: %v", name, err)
	}
	return records[0], records[1:]
}

func writeCSV(name string, header []string, rows [][]string) {
	f, err := os.Create(name)
	if err != nil {
		log.Fatal(err)
	}
	w := csv.NewWriter(f)
	_ = w.Write(header)
	_ = w.WriteAll(rows)
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// connect returns a client of the real API when LOYALTY_API_KEY is set, else of the fake,
// and the fake's stamp template.
func connect(write bool) (*loyalty.Client, int) {
	limit := loyalty.WithRateLimit(10, 5) // the API answers 429 past about 10 a second per key
	if os.Getenv("LOYALTY_API_KEY") == "" {
		fake := loyaltytest.NewServer()
		fmt.Fprintln(os.Stderr, "no LOYALTY_API_KEY: running against the built-in fake API at", fake.URL)
		client, err := fake.NewClient(limit)
		if err != nil {
			log.Fatal(err)
		}
		return client, fake.TemplateNamed(loyaltytest.TemplateStampVisits)
	}
	if !write {
		log.Fatal("LOYALTY_API_KEY is set: this example creates customers and cards; run it with -write")
	}
	client, err := loyalty.NewClientFromEnv(limit, loyalty.WithUserAgent("import-example"))
	if err != nil {
		log.Fatal(err)
	}
	return client, 0
}
