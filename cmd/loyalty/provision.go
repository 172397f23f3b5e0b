package main

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// provisionCols are the CSV columns provision reads; language and password may be left out.
var provisionCols = []string{"name", "email", "phone", "country", "userName", "userSurname", "tariffId", "tariffPeriod"}

// company is one row of a provisioning CSV.
type company struct {
	line int // in the file, for messages
	req  loyalty.CompanyCreateRequest
	// generated says the password was made here: the keys file is then the only place it is.
	generated bool
}

func (a *app) provisionCmd() *cobra.Command {
	var file, keys string
	var dryRun, showKeys bool
	c := &cobra.Command{
		Use:   "provision -f COMPANIES.csv --keys KEYS.csv",
		Short: "Create each company of a CSV at most once, on its tariff",
		Long: `Create each company of a CSV at most once, and put it on its tariff. A company whose email
exists already is found, not created again: run it again after a failure or a kill, and each
company exists once. Each row is reported: created, found, or failed, with why.

The CSV has a header with the columns ` + strings.Join(provisionCols, ",") + `, and
may add language and password (a first password is made for each company otherwise).

The companies' API keys (and the passwords made here) go to the --keys file, created readable
by you alone; never to the terminal unless --show-keys asks for it. --dry-run reads only, and
says what would be created.`,
		Args: args(0, "no arguments (the CSV goes in -f)"),
		RunE: a.withAPI(func(cmd *cobra.Command, _ []string, api *loyalty.Client) error {
			rows, err := readCompanies(file)
			if err != nil {
				return usageError{err}
			}
			if dryRun {
				return a.provisionDry(cmd, api, rows)
			}
			var kw *keyWriter
			if keys != "" {
				if kw, err = createKeys(keys); err != nil {
					return err
				}
				defer kw.close()
			} else if !showKeys {
				fmt.Fprintln(a.err, "no --keys file: the companies' keys will not be saved (the dashboard shows them)")
			}
			return a.provision(cmd, api, rows, kw, showKeys)
		}),
	}
	c.Flags().StringVarP(&file, "file", "f", "", "the companies' CSV (- for stdin)")
	c.Flags().StringVar(&keys, "keys", "", "write each company's API key (and made password) to this file, mode 0600")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "read only: say what would be created, send no write")
	c.Flags().BoolVar(&showKeys, "show-keys", false, "print the keys in the report too (they are secrets)")
	_ = c.MarkFlagRequired("file")
	return c
}

var reportCols = []string{"line", "name", "email", "outcome", "id", "tariff", "error"}

// report is one row's line in provision's output.
type report struct {
	row     company
	outcome string // created, found, failed; would create, with --dry-run
	id      int
	tariff  string // the change made, or that would be
	err     error
}

func (r report) values() []any {
	var id, tariff, msg any
	if r.id != 0 {
		id = r.id
	}
	if r.tariff != "" {
		tariff = r.tariff
	}
	if r.err != nil {
		msg = message(r.err)
	}
	return []any{r.row.line, r.row.req.Name, r.row.req.Email, r.outcome, id, tariff, msg}
}

// provision creates or finds each row's company, then moves it to its tariff.
func (a *app) provision(cmd *cobra.Command, api *loyalty.Client, rows []company, kw *keyWriter, showKeys bool) error {
	ctx := cmd.Context()
	cols := reportCols
	if showKeys {
		cols = append(slices.Clone(reportCols), "apiKey")
	}
	t := a.table(cols...)
	bar := a.progress(len(rows), "companies")
	failed := 0
	for _, row := range rows {
		co, r, err := provisionOne(ctx, api, row)
		if err == nil && kw != nil {
			password := ""
			if row.generated && r.outcome == "created" {
				password = row.req.Password.Reveal()
			}
			if err := kw.write(co, password); err != nil {
				return err // a key not written down is a key lost: stop here
			}
		}
		if r.err != nil {
			failed++
		}
		values := r.values()
		if showKeys {
			key := ""
			if co != nil {
				key = co.APIKey.Reveal()
			}
			values = append(values, key)
		}
		bar.step()
		if err := t.row(values...); err != nil {
			return err
		}
		if ctx.Err() != nil {
			break
		}
	}
	bar.done()
	if err := t.flush(); err != nil {
		return err
	}
	if failed > 0 {
		return reportedError{failed, len(rows)}
	}
	return ctx.Err()
}

// provisionOne creates or finds one row's company and puts it on the row's tariff. It
// returns the company whenever it exists, with the row's report; the error says the company
// was neither created nor found (a failed tariff change is in the report alone).
func provisionOne(ctx context.Context, api *loyalty.Client, row company) (*loyalty.Company, report, error) {
	r := report{row: row, outcome: "failed"}
	co, resp, err := api.Companies.CreateOnce(ctx, &row.req, nil)
	if err != nil {
		r.err = err
		return nil, r, err
	}
	r.outcome, r.id = "created", co.ID
	if resp.Found {
		r.outcome = "found"
	}
	if co.TariffID != row.req.TariffID {
		_, _, err := api.Companies.ChangeTariff(ctx, co.ID, &loyalty.ChangeTariffRequest{TariffID: row.req.TariffID, TariffPeriod: row.req.TariffPeriod})
		if err != nil {
			r.err = fmt.Errorf("tariff: %w", err)
		} else {
			r.tariff = fmt.Sprintf("%d -> %d", co.TariffID, row.req.TariffID)
		}
	}
	return co, r, nil
}

// provisionDry says what provision would do, with reads only: the company list, once.
func (a *app) provisionDry(cmd *cobra.Command, api *loyalty.Client, rows []company) error {
	existing := map[string]loyalty.Company{}
	for co, err := range api.Companies.All(cmd.Context(), nil) {
		if err != nil {
			return err
		}
		existing[strings.ToLower(co.Email)] = co
	}
	t := a.table(reportCols...)
	for _, row := range rows {
		co, found := existing[strings.ToLower(row.req.Email)]
		r := report{row: row, outcome: "would create"}
		if found {
			r.outcome, r.id = "found", co.ID
			if co.TariffID != row.req.TariffID {
				r.tariff = fmt.Sprintf("would change %d -> %d", co.TariffID, row.req.TariffID)
			}
		} else {
			existing[strings.ToLower(row.req.Email)] = loyalty.Company{} // a second row with its email is found
		}
		if err := t.row(r.values()...); err != nil {
			return err
		}
	}
	return t.flush()
}

// readCompanies reads and checks a provisioning CSV, before anything is sent.
func readCompanies(path string) ([]company, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%s: empty; want a header: %s", path, strings.Join(provisionCols, ","))
	}
	col := map[string]int{}
	for i, h := range records[0] {
		col[strings.TrimSpace(h)] = i
	}
	for _, want := range provisionCols {
		if _, ok := col[want]; !ok {
			return nil, fmt.Errorf("%s: no %q column; the header needs %s", path, want, strings.Join(provisionCols, ","))
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var rows []company
	var problems []error
	for n, rec := range records[1:] {
		line := n + 2
		tariff, err := strconv.Atoi(get(rec, "tariffId"))
		if err != nil {
			problems = append(problems, fmt.Errorf("%s:%d: tariffId %q is not a number", path, line, get(rec, "tariffId")))
			continue
		}
		c := company{line: line, req: loyalty.CompanyCreateRequest{
			Name: get(rec, "name"), Email: get(rec, "email"), Phone: get(rec, "phone"), Country: get(rec, "country"),
			UserName: get(rec, "userName"), UserSurname: get(rec, "userSurname"), TariffID: tariff,
			TariffPeriod: loyalty.TariffPeriod(get(rec, "tariffPeriod")), Language: get(rec, "language"),
		}}
		if p := get(rec, "password"); p != "" {
			c.req.Password = loyalty.NewSecret(p)
		} else {
			c.req.Password, c.generated = loyalty.NewSecret(newPassword()), true
		}
		if c.req.Email == "" || c.req.Name == "" {
			problems = append(problems, fmt.Errorf("%s:%d: name and email are needed", path, line))
			continue
		}
		rows = append(rows, c)
	}
	return rows, errors.Join(problems...)
}

// newPassword makes a first password for a company's owner, who changes it on signing in.
func newPassword() string { return "Lc-" + rand.Text()[:12] }

// keyWriter adds the companies' keys to a file only its owner reads, a row at a time, so
// that a run killed half-way keeps the keys of the rows it finished. A run again adds the
// companies the file lacks and leaves the rest, the passwords made before among them.
type keyWriter struct {
	f    *os.File
	w    *csv.Writer
	have map[string]bool // the company ids the file holds
}

func createKeys(path string) (*keyWriter, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil { // a file that was there keeps its mode otherwise
		f.Close()
		return nil, err
	}
	kw := &keyWriter{f: f, w: csv.NewWriter(f), have: map[string]bool{}}
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	old, err := cr.ReadAll()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w (not a keys file this command wrote?)", path, err)
	}
	if len(old) == 0 {
		return kw, kw.row("id", "name", "email", "apiKey", "password")
	}
	for _, rec := range old[1:] {
		kw.have[rec[0]] = true
	}
	return kw, nil
}

func (kw *keyWriter) write(co *loyalty.Company, password string) error {
	id := strconv.Itoa(co.ID)
	if kw.have[id] {
		return nil
	}
	kw.have[id] = true
	return kw.row(id, co.Name, co.Email, co.APIKey.Reveal(), password)
}

func (kw *keyWriter) row(rec ...string) error {
	if err := kw.w.Write(rec); err != nil {
		return err
	}
	kw.w.Flush()
	return kw.w.Error()
}

func (kw *keyWriter) close() { _ = kw.f.Close() }
