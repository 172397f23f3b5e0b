package main

import (
	"context"
	"testing"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// TestRunTwice provisions the sample twice, as a script killed half-way and run again would:
// each company exists exactly once.
func TestRunTwice(t *testing.T) {
	fake := loyaltytest.NewServer()
	t.Cleanup(fake.Close)
	ctx := context.Background()
	rows := readCSV("")
	first := map[string]int{}
	for _, row := range rows[:2] { // killed after two
		r := provision(ctx, fake.Client, row)
		if r.Error != "" {
			t.Fatal(r.Error)
		}
		if r.Outcome != "created" {
			t.Errorf("%s: the first run says %q, want created", r.Company, r.Outcome)
		}
		first[r.Company] = r.ID
	}
	for _, row := range rows {
		r := provision(ctx, fake.Client, row)
		if r.Error != "" {
			t.Fatal(r.Error)
		}
		if id, ok := first[r.Company]; ok && id != r.ID {
			t.Errorf("%s: created again (%d, then %d)", r.Company, id, r.ID)
		}
		want := "created"
		if _, ok := first[r.Company]; ok {
			want = "found"
		}
		if r.Outcome != want {
			t.Errorf("%s: the row says %q, want %q", r.Company, r.Outcome, want)
		}
	}
	n := 0
	for _, err := range fake.Client.Companies.All(ctx, &loyalty.CompanyListOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != len(rows) {
		t.Errorf("%d companies, want %d", n, len(rows))
	}
	const tariffRoute = "POST /api/v2/companies/{id}/change-tariff"
	if n := fake.Requests(tariffRoute); n != 0 {
		t.Errorf("change-tariff sent %d times for companies already on their tariff", n)
	}

	// The CSV moves a company to another tariff: the next run moves it, once.
	moved := rows[0]
	moved["tariffId"] = "2"
	for range 2 {
		if r := provision(ctx, fake.Client, moved); r.Error != "" {
			t.Fatal(r.Error)
		}
	}
	if n := fake.Requests(tariffRoute); n != 1 {
		t.Errorf("change-tariff sent %d times, want 1", n)
	}
	company, _, err := fake.Client.Companies.Get(ctx, first[moved["name"]])
	if err != nil {
		t.Fatal(err)
	}
	if company.TariffID != 2 {
		t.Errorf("tariff %d, want 2", company.TariffID)
	}
}
