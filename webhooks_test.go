// Tests of webhooks.go, webhook_events.go and webhook_receiver.go.

package loyalty

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSubscribeSendsTheURLAndEvents(t *testing.T) {
	t.Parallel()
	for name, answer := range map[string]string{
		"in the envelope, a number": `{"code":201,"data":{"id":17}}`,
		"bare, a string":            `{"id":"17"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c, ts := setup(t)
			ts.handle("POST /api/automation/webhooks", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(answer))
			})
			sub, _, err := c.Webhooks.Subscribe(context.Background(), &WebhookSubscribeRequest{
				URL: "https://crm.example/hooks?token=s3cret", Events: []EventName{EventCardIssued, "SomethingNewEvent"}})
			require.NoError(t, err)
			assert.Equal(t, ID("17"), sub.ID)
			assertRequest(t, ts.only(), "POST", "/api/automation/webhooks", "",
				`{"url":"https://crm.example/hooks?token=s3cret","events":["CardIssuedEvent","SomethingNewEvent"]}`)
		})
	}
}

func TestUnsubscribeAndMe(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	ts.handle("DELETE /api/automation/webhooks/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	ts.handle("GET /api/automation/users/me", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"id":154435,"email":"owner@example.com","name":"Bean There"}`))
	})
	_, err := c.Webhooks.Unsubscribe(context.Background(), "17")
	require.NoError(t, err)
	me, _, err := c.Webhooks.Me(context.Background())
	require.NoError(t, err)
	assert.Equal(t, AutomationUser{ID: "154435", Email: "owner@example.com", Name: "Bean There"}, *me)
	reqs := ts.requests()
	require.Len(t, reqs, 2)
	assertRequest(t, reqs[0], "DELETE", "/api/automation/webhooks/17", "", "")
	assertRequest(t, reqs[1], "GET", "/api/automation/users/me", "", "")
}

func TestSubscribeRefusesBadInput(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	for _, req := range []*WebhookSubscribeRequest{
		{URL: "http://crm.example/hooks", Events: []EventName{EventCardIssued}},
		{URL: "/hooks", Events: []EventName{EventCardIssued}},
		{URL: "ftp://crm.example/hooks", Events: []EventName{EventCardIssued}},
		{URL: "https://crm.example/hooks"},
		{URL: "https://crm.example/hooks", Events: []EventName{" "}},
	} {
		_, _, err := c.Webhooks.Subscribe(context.Background(), req)
		assert.ErrorIs(t, err, ErrInvalidArgument, "%+v", req)
	}
	assert.Empty(t, ts.requests())
}

func TestEveryKnownEventDecodes(t *testing.T) {
	t.Parallel()
	require.Len(t, EventNames(), 24)
	for _, name := range append(EventNames(), "SomethingNewEvent") {
		body := fmt.Sprintf(`{"timestamp":1767225600,"event":%q,"data":{"id":7,"future_field":{"x":[1,2]}}}`, name)
		e, err := ParseEvent([]byte(body))
		require.NoError(t, err, name)
		assert.Equal(t, name, e.Name)
		assert.Equal(t, name.Known(), name != "SomethingNewEvent")
		assert.Equal(t, time.Unix(1767225600, 0).UTC(), e.Timestamp)
		assert.JSONEq(t, `{"id":7,"future_field":{"x":[1,2]}}`, string(e.Data), "the raw payload keeps every field")
		assert.Equal(t, body, string(e.Raw))
	}
}

func TestCardEventReadsTheSnakeCasePayload(t *testing.T) {
	t.Parallel()
	e, err := ParseEvent([]byte(`{"timestamp":"1767225600","event":"CardBalanceUpdatedEvent","data":{"serial_number":"638920-251-210",
		"cardholder_id":"c-1","status":"installed","device_type":"Apple Wallet","card_type":"stamp","template_id":"955805",
		"cardholder_email":"jane@example.com","cardholder_phone":"12135550142","cardholder_first_name":"Jane",
		"cardholder_last_name":"Doe","bonus_balance":"12.5"}}`))
	require.NoError(t, err)
	card, err := e.Card()
	require.NoError(t, err)
	assert.Equal(t, CardEvent{SerialNumber: "638920-251-210", CardholderID: "c-1", Status: CardStatusInstalled, DeviceType: "Apple Wallet",
		CardType: CardTypeStamp, TemplateID: 955805, CardholderEmail: "jane@example.com", CardholderPhone: "12135550142",
		CardholderFirstName: "Jane", CardholderLastName: "Doe", BonusBalance: 12.5}, *card)
	assert.Equal(t, "638920-251-210", e.Subject())
	assert.True(t, strings.HasPrefix(e.Key(), "CardBalanceUpdatedEvent/638920-251-210/"), e.Key())
	same, err := ParseEvent(e.Raw)
	require.NoError(t, err)
	assert.Equal(t, e.Key(), same.Key(), "a repeated delivery has the same key")
	other, err := ParseEvent([]byte(strings.Replace(string(e.Raw), `"12.5"`, `"13.5"`, 1)))
	require.NoError(t, err)
	assert.NotEqual(t, e.Key(), other.Key(), "another change in the same second does not")
}

func TestParseEventRefusesWhatIsNotADelivery(t *testing.T) {
	t.Parallel()
	for _, body := range []string{``, `x`, `[]`, `{"event":"CardIssuedEvent","data":{}}`, `{"timestamp":1767225600,"data":{}}`,
		`{"timestamp":"soon","event":"CardIssuedEvent"}`} {
		_, err := ParseEvent([]byte(body))
		assert.ErrorIs(t, err, ErrBadDelivery, "%q", body)
	}
}

func TestWebhookHandler(t *testing.T) {
	t.Parallel()
	now := time.Unix(1767225600, 0)
	var got []string
	h := &WebhookHandler{
		VerifyRequest: VerifyToken("token", "s3cret"),
		Handle: func(_ context.Context, e *Event) error {
			if e.Name == "FailMeEvent" {
				return errors.New("the CRM is down")
			}
			got = append(got, e.Key())
			return nil
		},
		MaxBody: 1024,
		Now:     func() time.Time { return now },
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	delivery := func(event string, at int64) string {
		return fmt.Sprintf(`{"timestamp":%d,"event":%q,"data":{"serial_number":"1-2-3"}}`, at, event)
	}
	tests := []struct {
		name, method, query, body string
		want                      int
	}{
		{"accepted", "POST", "?token=s3cret", delivery("CardIssuedEvent", now.Unix()), 200},
		{"an unknown event, accepted", "POST", "?token=s3cret", delivery("SomethingNewEvent", now.Unix()-60), 200},
		{"no token", "POST", "", delivery("CardIssuedEvent", now.Unix()), 401},
		{"a wrong token", "POST", "?token=guess", delivery("CardIssuedEvent", now.Unix()), 401},
		{"too large", "POST", "?token=s3cret", `{"pad":"` + strings.Repeat("x", 2048) + `"}`, 413},
		{"malformed", "POST", "?token=s3cret", `{"event":`, 400},
		{"an hour old by this clock, accepted", "POST", "?token=s3cret", delivery("OldEvent", now.Unix()-3600), 200},
		{"an hour ahead of this clock, accepted", "POST", "?token=s3cret", delivery("AheadEvent", now.Unix()+3600), 200},
		{"not a POST", "GET", "?token=s3cret", "", 405},
		{"the handler failed: deliver again", "POST", "?token=s3cret", delivery("FailMeEvent", now.Unix()), 500},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, srv.URL+tt.query, strings.NewReader(tt.body))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, tt.want, resp.StatusCode, tt.name)
	}
	require.Len(t, got, 4, "only accepted deliveries reach the code")
	assert.True(t, strings.HasPrefix(got[0], "CardIssuedEvent/1-2-3/"))
	assert.True(t, strings.HasPrefix(got[1], "SomethingNewEvent/1-2-3/"))
}

func TestSubscribeRequestDoesNotPrintItsToken(t *testing.T) {
	t.Parallel()
	req := WebhookSubscribeRequest{URL: "https://crm.example/hooks?token=s3cret", Events: []EventName{EventCardIssued}}
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("subscribing", "req", req, "ptr", &req)
	for _, s := range []string{fmt.Sprint(req), fmt.Sprintf("%+v %#v %v", req, req, &req), logs.String()} {
		assert.NotContains(t, s, "s3cret")
		assert.Contains(t, s, "https://crm.example/hooks?[redacted]")
	}
}

// A receiver whose clock is six minutes fast, or an hour slow, still takes every genuine
// delivery: the timestamp is not signed, and the platform does not redeliver what is refused
// as malformed. A staleness filter is opt-in (MaxAge), and answers so the platform retries.
func TestWebhookReceiverDropsNothingForItsOwnClock(t *testing.T) {
	t.Parallel()
	sent := time.Unix(1767225600, 0)
	body := fmt.Sprintf(`{"timestamp":%d,"event":"CardIssuedEvent","data":{"serial_number":"1-2-3"}}`, sent.Unix())
	deliver := func(h *WebhookHandler) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/hooks?token=s3cret", strings.NewReader(body)))
		return w
	}
	for _, skew := range []time.Duration{6 * time.Minute, time.Hour, -time.Hour} {
		handled := 0
		h := &WebhookHandler{VerifyRequest: VerifyToken("token", "s3cret"), Now: func() time.Time { return sent.Add(skew) },
			Handle: func(context.Context, *Event) error { handled++; return nil }}
		assert.Equal(t, http.StatusOK, deliver(h).Code, "receiver clock off by %s", skew)
		assert.Equal(t, 1, handled, skew)
	}
	h := &WebhookHandler{VerifyRequest: VerifyToken("token", "s3cret"), MaxAge: 5 * time.Minute,
		Now: func() time.Time { return sent.Add(6 * time.Minute) }, Handle: func(context.Context, *Event) error { return nil }}
	w := deliver(h)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "too old by this clock: the platform is asked to try again")
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	h.Now = func() time.Time { return sent.Add(-time.Hour) }
	assert.Equal(t, http.StatusOK, deliver(h).Code, "a timestamp ahead of this clock is this clock's problem")
}

// The timestamp is not signed: a repeat with a rewritten timestamp is the same event.
func TestEventKeyLeavesTheTimestampOut(t *testing.T) {
	t.Parallel()
	a, err := ParseEvent([]byte(`{"timestamp":1767225600,"event":"CardIssuedEvent","data":{"serial_number":"1-2-3"}}`))
	require.NoError(t, err)
	b, err := ParseEvent([]byte(`{"timestamp":1767229999,"event":"CardIssuedEvent","data":{"serial_number":"1-2-3"}}`))
	require.NoError(t, err)
	assert.Equal(t, a.Key(), b.Key())
	assert.NotContains(t, a.Key(), "1767225600")
}

// blockingBody is a request body that never delivers a byte, and counts the reads tried.
type blockingBody struct {
	reads   atomic.Int32
	release chan struct{}
}

func (b *blockingBody) Read([]byte) (int, error) { b.reads.Add(1); <-b.release; return 0, io.EOF }

// A delivery without the right token is answered before its body is read, and the answer
// says nothing of why (a verifier's reason may help forge the next attempt): the reason goes
// to the logger.
func TestWebhookRefusalReadsNothingAndTellsNothing(t *testing.T) {
	t.Parallel()
	var logs lockedBuffer
	h := &WebhookHandler{VerifyRequest: VerifyToken("token", "s3cret"), Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Verify: func(*http.Request, []byte) error { return errors.New(`signature "" does not match "8441021c"`) },
		Handle: func(context.Context, *Event) error { return nil }}
	body := &blockingBody{release: make(chan struct{})}
	defer close(body.release)
	w := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.ServeHTTP(w, httptest.NewRequest("POST", "/hooks?token=guess", body))
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("a delivery with a wrong token held the handler")
	}
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Zero(t, body.reads.Load(), "its body was not read")
	assert.Equal(t, "Unauthorized\n", w.Body.String())
	assert.Contains(t, logs.String(), "wrong or missing token")
	assert.NotContains(t, logs.String(), "s3cret")

	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/hooks?token=s3cret", strings.NewReader(`{"timestamp":1,"event":"X","data":{}}`)))
	assert.Equal(t, http.StatusUnauthorized, w.Code)
	assert.Equal(t, "Unauthorized\n", w.Body.String(), "no signing oracle")
	assert.Contains(t, logs.String(), "8441021c", "the reason is logged")
}

// A sender with the right token that stalls mid-body holds the handler for ReadTimeout, not
// for ever.
func TestWebhookBodyReadIsBounded(t *testing.T) {
	t.Parallel()
	h := &WebhookHandler{VerifyRequest: VerifyToken("token", "s3cret"), ReadTimeout: 200 * time.Millisecond,
		Handle: func(context.Context, *Event) error { return nil }}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /?token=s3cret HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"timestamp\":")
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(time.Minute)))
	status, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err, "the receiver answered, and did not wait for the rest")
	assert.Contains(t, status, "408")
}

// Unsubscribing twice is safe, as the doc says: the second finds it gone and reports success.
func TestUnsubscribeIsSafeToRepeat(t *testing.T) {
	t.Parallel()
	c, ts := setup(t)
	var calls atomic.Int32
	ts.handle("DELETE /api/automation/webhooks/{id}", func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			_, _ = w.Write([]byte(`{"data":{"id":"7"}}`))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"Webhook not found"}`))
	})
	resp, err := c.Webhooks.Unsubscribe(context.Background(), "7")
	require.NoError(t, err)
	assert.False(t, resp.DeletedEarlier)
	resp, err = c.Webhooks.Unsubscribe(context.Background(), "7")
	require.NoError(t, err, "already gone counts as removed")
	assert.True(t, resp.DeletedEarlier)
}
