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
	rows := readCSV("../../testdata/companies.csv")
	first := map[string]int{}
	for _, row := range rows[:2] { // killed after two
		r := provision(ctx, fake.Client, row)
		if r.Error != "" {
			t.Fatal(r.Error)
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
}
