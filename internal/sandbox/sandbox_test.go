package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"net"
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

// syncBuffer is a buffer the sandbox may write to while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sandbox runs the command with args until the returned stop is called, which returns what
// run returned and what it printed (standard output and error together).
func sandbox(t *testing.T, args ...string) (*loyaltytest.Server, func() (string, error)) {
	t.Helper()
	srv, _, stop := sandboxOut(t, args...)
	return srv, stop
}

// sandboxOut is sandbox, with what the sandbox prints as it runs.
func sandboxOut(t *testing.T, args ...string) (*loyaltytest.Server, *syncBuffer, func() (string, error)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := new(syncBuffer)
	started := make(chan *loyaltytest.Server, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, "loyalty-sandbox", append([]string{"-addr", "127.0.0.1:0"}, args...), IO{Stdout: out, Stderr: out,
			Ready: func(s *loyaltytest.Server) { started <- s }, Grace: 200 * time.Millisecond, Retry: 100 * time.Millisecond})
	}()
	select {
	case srv := <-started:
		return srv, out, func() (string, error) { cancel(); err := <-done; return out.String(), err }
	case err := <-done:
		cancel()
		t.Fatalf("the sandbox did not start: %v\n%s", err, out.String())
		return nil, nil, nil
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
	err = Run(context.Background(), "loyalty-sandbox", []string{"-addr", "127.0.0.1:0", "-state", file, "-key", "lt_agency_other"}, IO{Stdout: &out, Stderr: &out})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "other keys")
	assert.NotContains(t, err.Error(), "lt_agency_mine", "the file's key is not printed in the error")

	require.NoError(t, os.WriteFile(file, []byte("{not json"), 0o600))
	err = Run(context.Background(), "loyalty-sandbox", []string{"-addr", "127.0.0.1:0", "-state", file}, IO{Stdout: &out, Stderr: &out})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), file), "the error names the file: %v", err)
}

// SIGTERM ends the sandbox within a few seconds with its state saved, whatever a request is
// doing: a body that never finishes arriving, a request a fault holds for a minute.
func TestSandboxEndsPromptlyWithItsStateSaved(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "sandbox.json")
	srv, stop := sandbox(t, "-state", file)
	client, err := loyalty.NewClient(srv.APIKey, loyalty.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, _, err = client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Kept", Phone: "15555550103"})
	require.NoError(t, err)

	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /api/v2/customers HTTP/1.1\r\nHost: x\r\nX-API-Key: %s\r\nContent-Length: 100\r\n\r\n{", srv.APIKey)
	require.NoError(t, err)
	srv.InjectFault("GET /api/v2/profile", loyaltytest.Fault{Hold: time.Minute})
	held := make(chan error, 1)
	go func() {
		_, _, err := client.Profile.Get(ctx)
		held <- err
	}()
	require.Eventually(t, func() bool { return srv.Requests("GET /api/v2/profile") == 1 }, 5*time.Second, 5*time.Millisecond)

	began := time.Now()
	_, err = stop()
	require.NoError(t, err)
	assert.Less(t, time.Since(began), 6*time.Second, "ended within a few seconds")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Contains(t, string(b), "Kept", "the state was saved")
	<-held
	client.CloseIdleConnections()
}

// A periodic save that fails is said and tried again; the sandbox goes on serving.
func TestSandboxSurvivesAFailedSave(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state")
	require.NoError(t, os.Mkdir(dir, 0o700))
	file := filepath.Join(dir, "sandbox.json")
	srv, out, stop := sandboxOut(t, "-state", file)
	client, err := loyalty.NewClient(srv.APIKey, loyalty.WithBaseURL(srv.URL))
	require.NoError(t, err)
	require.NoError(t, os.RemoveAll(dir)) // the disk goes away under it
	_, _, err = client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Late", Phone: "15555550104"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "saving the state failed") }, 10*time.Second, 10*time.Millisecond)
	_, _, err = client.Profile.Get(ctx)
	require.NoError(t, err, "still serving")

	require.NoError(t, os.Mkdir(dir, 0o700)) // and comes back
	require.Eventually(t, func() bool {
		b, _ := os.ReadFile(file)
		return bytes.Contains(b, []byte("Late"))
	}, 10*time.Second, 10*time.Millisecond, "saved once it can be")
	client.CloseIdleConnections()
	_, err = stop()
	require.NoError(t, err)
}

// What a user who does not read Go needs is in what the sandbox prints: what -live-shapes
// does, the card types as the API names them, what it assumes, and a warning when it listens
// beyond this machine.
func TestSandboxSaysWhatItIs(t *testing.T) {
	_, stop := sandbox(t)
	printed, err := stop()
	require.NoError(t, err)
	for _, want := range []string{"-live-shapes", "numbers as strings", "subscription", "certificate", "assumed"} {
		assert.Contains(t, printed, want)
	}
	assert.NotContains(t, printed, "warning")
	assert.Empty(t, exposure("loyalty-sandbox", "127.0.0.1:8787"))
	assert.Empty(t, exposure("loyalty-sandbox", "localhost:8787"))
	assert.Empty(t, exposure("loyalty-sandbox", "[::1]:0"))
	for _, addr := range []string{"0.0.0.0:8787", ":8787", "10.1.2.3:80"} {
		assert.Contains(t, exposure("loyalty-sandbox", addr), "warning", addr)
	}
}

// TestMain fails the tests if a sandbox leaves a goroutine behind once stopped: its saver,
// its server, a webhook delivery.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A stop that comes while the sandbox starts (a script that stops it once it listens) still
// gets the whole welcome: the keys and the templates.
func TestAStopWhileStartingStillPrintsTheWholeWelcome(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	err := Run(ctx, "loyalty-sandbox", []string{"-addr", "127.0.0.1:0"}, IO{Stdout: &out, Stderr: &out, Grace: 100 * time.Millisecond})
	require.NoError(t, err)
	assert.Contains(t, out.String(), "export LOYALTY_API_KEY=lt_agency_")
	assert.Contains(t, out.String(), "Coffee stamps")
	assert.NotContains(t, out.String(), "could not list them")
}
