package loyalty

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// VerifyToken is a WebhookHandler.VerifyRequest that checks the secret token in the URL the
// platform calls (subscribe https://example.com/hooks?token=<secret>). This is the safe
// check the platform supports today; its signature header is not confirmed. It needs no
// body, so a delivery without the token is refused before its body is read.
func VerifyToken(param, secret string) func(r *http.Request) error {
	return func(r *http.Request) error {
		got := r.URL.Query().Get(param)
		if secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			return errors.New("wrong or missing token")
		}
		return nil
	}
}

// Default bounds of a WebhookHandler.
const (
	// DefaultWebhookMaxBody bounds a delivery's body.
	DefaultWebhookMaxBody = 1 << 20
	// DefaultWebhookReadTimeout bounds the reading of a delivery's body.
	DefaultWebhookReadTimeout = 10 * time.Second
)

// WebhookHandler receives deliveries: an http.Handler to mount at the URL you subscribed.
// It checks what it can before it reads anything: a delivery that fails VerifyRequest is
// answered 401 with its body unread. Then it reads the body, at most MaxBody (413) within
// ReadTimeout (408), checks it with Verify (401), parses it (400) and hands it to Handle;
// Handle's error answers 500, so the platform may deliver again. Every refusal's body is its
// status text alone; Logger, when set, records why.
//
// Serve it from an http.Server with its own timeouts, so that a sender cannot hold a
// connection before the handler runs:
//
//	srv := &http.Server{Addr: ":8443", Handler: mux, ReadHeaderTimeout: 5 * time.Second,
//		ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second}
type WebhookHandler struct {
	// Handle is called once per accepted delivery. Deliveries come at least once: use
	// Event.Key to drop repeats.
	Handle func(ctx context.Context, e *Event) error
	// VerifyRequest checks a delivery by what comes before its body (its URL, its headers):
	// one it refuses is answered 401 before the body is read, so a sender without the token
	// makes the receiver read and hold nothing. VerifyToken is one.
	VerifyRequest func(r *http.Request) error
	// Verify checks a delivery with its body (a signature over it, say), after
	// VerifyRequest. With neither set every delivery is accepted: only for a URL nobody else
	// knows.
	Verify func(r *http.Request, body []byte) error
	// MaxBody bounds a delivery (DefaultWebhookMaxBody when zero).
	MaxBody int64
	// ReadTimeout bounds the reading of a delivery's body (DefaultWebhookReadTimeout when
	// zero; negative leaves the server's own), so a sender that stalls mid-body holds a
	// handler that long at most.
	ReadTimeout time.Duration
	// MaxAge, when set, refuses a delivery whose timestamp is more than MaxAge before this
	// machine's clock, answering 503 with Retry-After so that the platform tries again. It is
	// a staleness filter, not a defence against replays: the timestamp is not signed (drop
	// repeats with Event.Key). It is off by default, because a receiver whose clock runs fast
	// would refuse genuine events; a timestamp ahead of this clock is never refused.
	MaxAge time.Duration
	// Now is the clock of MaxAge (default time.Now), for tests.
	Now func() time.Time
	// Logger records every refused delivery with its reason. Nil logs nothing.
	Logger *slog.Logger
}

// ServeHTTP checks, reads and hands over one delivery.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		h.refuse(w, r, http.StatusMethodNotAllowed, "not a POST")
		return
	}
	if h.VerifyRequest != nil {
		if err := h.VerifyRequest(r); err != nil {
			h.refuse(w, r, http.StatusUnauthorized, "verification failed: "+err.Error())
			return
		}
	}
	e, err := h.read(w, r)
	if err != nil {
		status := http.StatusBadRequest
		var de *deliveryError
		if errors.As(err, &de) {
			status = de.status
		}
		if status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", "60")
		}
		h.refuse(w, r, status, err.Error())
		return
	}
	if h.Handle == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := h.Handle(r.Context(), e); err != nil {
		h.refuse(w, r, http.StatusInternalServerError, "Handle: "+err.Error())
		return
	}
	w.WriteHeader(http.StatusOK)
}

// refuse answers status with its text alone, and logs the reason.
func (h *WebhookHandler) refuse(w http.ResponseWriter, r *http.Request, status int, reason string) {
	if h.Logger != nil {
		h.Logger.LogAttrs(r.Context(), slog.LevelWarn, "loyalty: webhook delivery refused", slog.Int("status", status),
			slog.String("path", r.URL.Path), slog.String("reason", reason))
	}
	http.Error(w, http.StatusText(status), status)
}

func (h *WebhookHandler) read(w http.ResponseWriter, r *http.Request) (*Event, error) {
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultWebhookMaxBody
	}
	if r.ContentLength > limit {
		return nil, badDelivery(http.StatusRequestEntityTooLarge, "over %d bytes", limit)
	}
	if d := h.readTimeout(); d > 0 {
		// Not every ResponseWriter can (a recorder in a test cannot): then the server's own
		// ReadTimeout is the bound.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	var timeout interface{ Timeout() bool }
	switch {
	case errors.As(err, &timeout) && timeout.Timeout():
		return nil, badDelivery(http.StatusRequestTimeout, "the body did not arrive within %s", h.readTimeout())
	case err != nil:
		return nil, badDelivery(http.StatusBadRequest, "reading the body: %v", err)
	case int64(len(body)) > limit:
		return nil, badDelivery(http.StatusRequestEntityTooLarge, "over %d bytes", limit)
	}
	if h.Verify != nil {
		if err := h.Verify(r, body); err != nil {
			return nil, badDelivery(http.StatusUnauthorized, "verification failed: %v", err)
		}
	}
	e, err := ParseEvent(body)
	if err != nil {
		return nil, err
	}
	if h.MaxAge > 0 {
		now := time.Now
		if h.Now != nil {
			now = h.Now
		}
		if age := now().Sub(e.Timestamp); age > h.MaxAge {
			return nil, badDelivery(http.StatusServiceUnavailable, "timestamp %s is %s old by this clock, over MaxAge %s",
				e.Timestamp.Format(time.RFC3339), age.Round(time.Second), h.MaxAge)
		}
	}
	return e, nil
}

func (h *WebhookHandler) readTimeout() time.Duration {
	if h.ReadTimeout == 0 {
		return DefaultWebhookReadTimeout
	}
	return h.ReadTimeout
}
