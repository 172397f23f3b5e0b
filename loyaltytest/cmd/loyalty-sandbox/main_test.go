package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// sandbox runs the command with args until the returned stop is called, which returns what
// run returned and what it printed.
func sandbox(t *testing.T, args ...string) (*loyaltytest.Server, func() (string, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	started := make(chan *loyaltytest.Server, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), &out, func(s *loyaltytest.Server) { started <- s })
	}()
	select {
	case srv := <-started:
		return srv, func() (string, error) { cancel(); err := <-done; return out.String(), err }
	case err := <-done:
		cancel()
		t.Fatalf("the sandbox did not start: %v\n%s", err, out.String())
		return nil, nil
	}
}

// A restarted sandbox has the keys, the cards and their history of the one before it, and
// what it prints is what a client needs.
func TestSandboxKeepsItsStateAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "sandbox.json")
	srv, stop := sandbox(t, "-state", file)
	client, err := loyalty.NewClient(srv.APIKey, loyalty.WithBaseURL(srv.URL))
	require.NoError(t, err)
	customer, _, err := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Ada", Phone: "15555550101"})
	require.NoError(t, err)
	card, _, err := client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})
	require.NoError(t, err)
	_, _, err = client.Cards.AddStamps(ctx, card.ID, 2, &loyalty.ActionOptions{Reference: "receipt-1"})
	require.NoError(t, err)
	// Saved while it runs (a sandbox killed outright loses no more than the last moments).
	assert.Eventually(t, func() bool {
		b, _ := os.ReadFile(file)
		return bytes.Contains(b, []byte("receipt-1"))
	}, 10*time.Second, 10*time.Millisecond, "the change is written without waiting for the end")
	printed, err := stop()
	require.NoError(t, err)
	assert.Contains(t, printed, "export LOYALTY_BASE_URL="+srv.URL+"\n")
	assert.Contains(t, printed, "export LOYALTY_API_KEY="+srv.APIKey+"\n")
	assert.Contains(t, printed, "export LOYALTY_APP_TOKEN="+srv.AppToken+"\n")
	assert.Contains(t, printed, loyaltytest.TemplateStampVisits)
	info, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the file holds the keys")

	again, stop := sandbox(t, "-state", file)
	assert.Equal(t, srv.APIKey, again.APIKey)
	client, err = loyalty.NewClient(again.APIKey, loyalty.WithBaseURL(again.URL))
	require.NoError(t, err)
	read, _, err := client.Cards.Get(ctx, card.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, read.Balance.NumberStampsTotal)
	_, _, err = client.Cards.ApplyOnce(ctx, card.ID, loyalty.Bind(client.Cards.AddStamps, 2),
		&loyalty.ActionOptions{Reference: "receipt-1"}, nil)
	assert.ErrorIs(t, err, loyalty.ErrAlreadyApplied, "the history came back too")
	_, err = stop()
	require.NoError(t, err)
}

// Keys given on the command line are the ones served; a state file with other keys is not
// silently served under them.
func TestSandboxKeys(t *testing.T) {
	file := filepath.Join(t.TempDir(), "sandbox.json")
	srv, stop := sandbox(t, "-state", file, "-key", "lt_agency_mine", "-app-token", "lt_app_mine")
	assert.Equal(t, "lt_agency_mine", srv.APIKey)
	assert.Equal(t, "lt_app_mine", srv.AppToken)
	_, err := stop()
	require.NoError(t, err)

	var out bytes.Buffer
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-state", file, "-key", "lt_agency_other"}, &out, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "other keys")
	assert.NotContains(t, err.Error(), "lt_agency_mine", "the file's key is not printed in the error")

	require.NoError(t, os.WriteFile(file, []byte("{not json"), 0o600))
	err = run(context.Background(), []string{"-addr", "127.0.0.1:0", "-state", file}, &out, nil)
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), file), "the error names the file: %v", err)
}

// TestMain fails the tests if a sandbox leaves a goroutine behind once stopped: its saver,
// its server, a webhook delivery.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
