package loyaltytest

import "github.com/loyaltycards/loyalty-go/internal/pipenet"

// WithInMemoryNetwork serves the fake on an in-memory network instead of a loopback port: the
// server and the clients it makes (Client, NewClient, HTTPClient) talk over net.Pipe
// connections, and no socket is opened. A test can then run the fake and its clients inside a
// testing/synctest bubble, where every timeout, fault delay, retry wait and "once" look-up
// wait passes in virtual time: a test of a 30-second in-flight bound takes microseconds, and
// no longer depends on how busy the machine is.
//
// A client made any other way cannot reach such a server (its URL names no real port).
// Webhook deliveries still go over the real network, to the URLs subscribed.
func WithInMemoryNetwork() Option {
	return func(s *settings) { s.listener = pipenet.New() }
}
