package loyaltyredis

import (
	"errors"
	"strings"
)

// ErrUnavailable matches a limiter's refusal to let a request go while Redis cannot be asked
// (WithFailClosed): the request was not sent.
var ErrUnavailable = errors.New("loyaltyredis: Redis cannot be asked")

// Option tunes a Ledger or a RateLimiter.
type Option func(*settings)

type settings struct {
	prefix     string
	failClosed bool
	onError    func(error)
}

func newSettings(opts []Option) settings {
	s := settings{prefix: "loyalty:"}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// WithPrefix starts every key with prefix instead of "loyalty:", to keep environments or
// applications that share one Redis apart. Processes share a ledger or a limit only when
// they use the same prefix.
func WithPrefix(prefix string) Option {
	return func(s *settings) {
		if prefix != "" && !strings.HasSuffix(prefix, ":") {
			prefix += ":"
		}
		s.prefix = prefix
	}
}

// WithFailClosed makes a RateLimiter refuse requests while Redis cannot be asked, rather
// than keep the limit in the process's memory until it can. (A Ledger always fails closed.)
func WithFailClosed() Option {
	return func(s *settings) { s.failClosed = true }
}

// WithErrorHandler calls f with every error Redis answers, for logs and metrics. The errors
// carry no key and no secret.
func WithErrorHandler(f func(error)) Option {
	return func(s *settings) { s.onError = f }
}

func (s *settings) report(err error) {
	if s.onError != nil {
		s.onError(err)
	}
}
