package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// A subscription made before a restart still delivers after it, and webhook faults injected
// over HTTP repeat or drop the next deliveries, as InjectWebhookFault does in a test.
func TestSandboxDeliversWebhooksAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var got []string // each delivery Handle saw, repeats included: "name key"
	hook := httptest.NewServer(&loyalty.WebhookHandler{
		VerifyRequest: loyalty.VerifyToken("token", "s3cret"),
		Handle: func(_ context.Context, e *loyalty.Event) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, string(e.Name)+" "+e.Key())
			return nil
		},
	})
	t.Cleanup(hook.Close)
	file := filepath.Join(t.TempDir(), "sandbox.json")

	srv, stop := sandbox(t, "-state", file)
	client, err := loyalty.NewClient(srv.APIKey, loyalty.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, _, err = client.Webhooks.Subscribe(ctx, &loyalty.WebhookSubscribeRequest{URL: hook.URL + "?token=s3cret",
		Events: []loyalty.EventName{loyalty.EventCardIssued, loyalty.EventCardBalanceUpdated}})
	require.NoError(t, err)
	_, err = stop()
	require.NoError(t, err)

	again, stop := sandbox(t, "-state", file)
	client, err = loyalty.NewClient(again.APIKey, loyalty.WithBaseURL(again.URL))
	require.NoError(t, err)
	webhookFault := func(key, body string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, again.URL+"/_sandbox/webhook-faults", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-API-Key", key)
		req.Close = true // no idle connection outlives the sandbox for goleak to wait on
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusUnauthorized, webhookFault("lt_agency_wrong", `{"repeat":1}`), "the agency's key only")
	assert.Equal(t, http.StatusBadRequest, webhookFault(again.APIKey, `{"repeat":`))

	require.Equal(t, http.StatusNoContent, webhookFault(again.APIKey, `{"repeat":1}`))
	customer, _, err := client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Ada", Phone: "15555550102"})
	require.NoError(t, err)
	card, _, err := client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: customer.ID, TemplateID: again.TemplateID(loyalty.CardTypeStamp)})
	require.NoError(t, err)
	again.WaitForDeliveries()
	require.Equal(t, http.StatusNoContent, webhookFault(again.APIKey, `{"drop":1}`))
	_, _, err = client.Cards.AddStamps(ctx, card.ID, 1, nil)
	require.NoError(t, err)
	again.WaitForDeliveries()
	_, _, err = client.Cards.AddStamps(ctx, card.ID, 2, nil)
	require.NoError(t, err)
	again.WaitForDeliveries()

	mu.Lock()
	names := make([]string, len(got))
	for i, g := range got {
		names[i], _, _ = strings.Cut(g, " ")
	}
	issued, updated := string(loyalty.EventCardIssued), string(loyalty.EventCardBalanceUpdated)
	assert.Equal(t, []string{issued, issued, updated}, names,
		"the issue delivered twice (repeated), the first stamp dropped, the second delivered: %v", got)
	if len(got) == 3 {
		assert.Equal(t, got[0], got[1], "a repeat carries the same event key")
	}
	mu.Unlock()
	var statuses []int
	for _, d := range again.Deliveries() {
		statuses = append(statuses, d.Status)
	}
	assert.Equal(t, []int{200, 200, 0, 200}, statuses, "the dropped delivery is reported, never sent")
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
