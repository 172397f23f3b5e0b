package main

import (
	"context"
	"encoding/json"
	"io"
	"iter"
	"slices"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/loyaltytest"
)

// assistant connects an MCP client to the tools, over the MCP SDK's in-memory transport.
func assistant(t *testing.T, srv *loyaltytest.Server, writes bool) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	api, err := srv.NewClient()
	require.NoError(t, err)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := newMCPServer(api, writes).Connect(ctx, st, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(ctx, ct, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// call calls a tool and returns its structured result as JSON, and whether it was an error,
// with the text the assistant reads.
func call(t *testing.T, cs *mcp.ClientSession, tool string, args any) (map[string]any, bool, string) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	require.NoError(t, err)
	raw, err := json.Marshal(res)
	require.NoError(t, err)
	text := ""
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text += tc.Text
		}
	}
	var out map[string]any
	if res.StructuredContent != nil {
		b, _ := json.Marshal(res.StructuredContent)
		require.NoError(t, json.Unmarshal(b, &out))
	}
	return out, res.IsError, string(raw) + text
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	res, err := cs.ListTools(context.Background(), nil)
	require.NoError(t, err)
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
		if assert.NotNil(t, tool.Annotations, tool.Name) {
			assert.Equal(t, slices.Contains(readTools, tool.Name), tool.Annotations.ReadOnlyHint,
				"%s is marked read-only exactly when it only reads", tool.Name)
		}
	}
	slices.Sort(names)
	return names
}

var readTools = []string{"card_history", "find_customer", "list_cards", "list_companies", "list_templates", "read_card"}

func TestMCPIsReadOnlyUnlessWritesAreAllowed(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	assert.Equal(t, readTools, toolNames(t, assistant(t, srv, false)))

	cs := assistant(t, srv, false)
	_, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "record_purchase",
		Arguments: map[string]any{"card": "x", "amount": 5, "receipt": "R1"}})
	assert.ErrorContains(t, err, `unknown tool "record_purchase"`)

	all := toolNames(t, assistant(t, srv, true))
	assert.Equal(t, slices.Sorted(slices.Values(append(slices.Clone(readTools), "apply_card_action", "provision_company", "record_purchase"))), all)
}

func TestMCPToolsDoTheJobsOnceAndCheckBeforeSending(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	ctx := context.Background()
	cu, _, err := srv.Client.Customers.Create(ctx, &loyalty.CustomerCreateRequest{FirstName: "Ann", Phone: "15555550123"})
	require.NoError(t, err)
	stamp, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: srv.TemplateID(loyalty.CardTypeStamp)})
	require.NoError(t, err)
	cashback, _, err := srv.Client.Cards.Create(ctx, &loyalty.CardCreateRequest{CustomerID: cu.ID, TemplateID: srv.TemplateID(loyalty.CardTypeCashback)})
	require.NoError(t, err)
	cs := assistant(t, srv, true)

	out, isErr, _ := call(t, cs, "find_customer", map[string]any{"phone": "15555550123"})
	require.False(t, isErr)
	assert.Equal(t, []any{map[string]any{"id": cu.ID, "firstName": "Ann", "surname": "", "email": "", "phone": "15555550123"}}, out["customers"])

	out, isErr, _ = call(t, cs, "read_card", map[string]any{"card": stamp.ID})
	require.False(t, isErr)
	assert.Equal(t, "stamp", out["type"])
	assert.Equal(t, "stamps", out["unit"])
	assert.Contains(t, out["actions"], "add-stamp")

	// A purchase, once per receipt.
	out, isErr, _ = call(t, cs, "record_purchase", map[string]any{"card": stamp.ID, "amount": 4.5, "receipt": "R-1"})
	require.False(t, isErr)
	assert.Equal(t, map[string]any{"card": stamp.ID, "action": "add-stamp", "quantity": 1.0, "quantityUnit": "stamps",
		"balance": 1.0, "balanceUnit": "stamps", "rewardAvailable": false, "alreadyRecorded": false}, out)
	out, _, _ = call(t, cs, "record_purchase", map[string]any{"card": stamp.ID, "amount": 4.5, "receipt": "R-1"})
	assert.Equal(t, true, out["alreadyRecorded"])
	assert.Equal(t, 1.0, out["balance"])

	// An action, once per reference; one the card does not take is refused before anything is sent.
	out, isErr, _ = call(t, cs, "apply_card_action", map[string]any{"card": stamp.ID, "action": "add-stamp", "args": []string{"2"}, "reference": "T-1"})
	require.False(t, isErr)
	assert.Equal(t, 3.0, out["card"].(map[string]any)["balance"])
	out, _, _ = call(t, cs, "apply_card_action", map[string]any{"card": stamp.ID, "action": "add-stamp", "args": []string{"2"}, "reference": "T-1"})
	assert.Equal(t, true, out["alreadyApplied"])
	sent := srv.Requests("POST /api/v2/cards/{id}/add-stamp")
	_, isErr, text := call(t, cs, "apply_card_action", map[string]any{"card": cashback.ID, "action": "add-stamp", "args": []string{"1"}, "reference": "T-2"})
	assert.True(t, isErr)
	assert.Contains(t, text, "add-stamp refused by the client")
	assert.Equal(t, sent, srv.Requests("POST /api/v2/cards/{id}/add-stamp"), "nothing sent")
	_, isErr, text = call(t, cs, "apply_card_action", map[string]any{"card": stamp.ID, "action": "set-membership-tier", "args": []string{"1", "month"}, "reference": "T-3"})
	assert.True(t, isErr)
	assert.Contains(t, text, "set-membership-tier takes no reference, so it cannot be applied once")

	// A company, once per email; its key never in a result.
	company := map[string]any{"name": "Bean There", "email": "bean@example.com", "phone": "15555550100", "country": "US",
		"userName": "Ann", "userSurname": "Lee", "tariffId": 1, "tariffPeriod": "month"}
	out, isErr, text = call(t, cs, "provision_company", company)
	require.False(t, isErr, text)
	assert.Equal(t, "created", out["outcome"])
	assert.NotContains(t, text, "lt_company_")
	out, _, text = call(t, cs, "provision_company", company)
	assert.Equal(t, "found", out["outcome"])
	assert.NotContains(t, text, "lt_company_")
	_, _, text = call(t, cs, "list_companies", map[string]any{})
	assert.Contains(t, text, "bean@example.com")
	assert.NotContains(t, text, "lt_company_")
	assert.NotContains(t, text, "apiKey")
}

// TestMCPCommandServesOverItsStreams runs "loyalty mcp" as an assistant starts it, its
// credentials from the environment, and talks to it over its stdin and stdout.
func TestMCPCommandServesOverItsStreams(t *testing.T) {
	t.Parallel()
	srv := loyaltytest.NewServer()
	t.Cleanup(srv.Close)
	toServer, fromClient := io.Pipe()
	toClient, fromServer := io.Pipe()
	env := map[string]string{envKey: srv.APIKey, envBaseURL: srv.URL}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"mcp"}, streams{in: toServer, out: fromServer, err: io.Discard,
			getenv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	}()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test"}, nil).Connect(ctx,
		&mcp.IOTransport{Reader: toClient, Writer: fromClient}, nil)
	require.NoError(t, err)
	assert.Equal(t, readTools, toolNames(t, cs))
	out, isErr, _ := call(t, cs, "list_templates", map[string]any{})
	require.False(t, isErr)
	assert.NotEmpty(t, out["templates"])
	cancel()
	assert.Equal(t, exitOK, <-done)
	_ = cs.Close()
}

func TestListToolsReturnAtMostAHundredAndSaySo(t *testing.T) {
	t.Parallel()
	seq := func(n int, read *int) iter.Seq2[int, error] {
		return func(yield func(int, error) bool) {
			for i := range n {
				*read++
				if !yield(i, nil) {
					return
				}
			}
		}
	}
	double := func(i *int) int { return 2 * *i }
	var read int
	out, more, err := collect(seq(100, &read), double)
	require.NoError(t, err)
	assert.Len(t, out, 100)
	assert.False(t, more)
	assert.Equal(t, 198, out[99])

	read = 0
	out, more, err = collect(seq(100_000, &read), double)
	require.NoError(t, err)
	assert.Len(t, out, listMax)
	assert.True(t, more)
	assert.Equal(t, listMax+1, read, "it stops reading at the first item past the bound")
}
