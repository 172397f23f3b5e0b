// Package pipenet is an in-memory network for tests: a net.Listener whose connections are
// net.Pipe pairs, and the dialer that reaches it. A server and its clients on it open no
// socket, so they run inside a testing/synctest bubble, where every timeout passes in virtual
// time.
package pipenet

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
)

// Listener is a net.Listener whose connections are the server ends of net.Pipe pairs;
// DialContext hands out the client ends.
type Listener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
	addr   addr
}

// ports numbers listeners, so that each has an address of its own.
var ports atomic.Int32

// New returns a listener on an address of its own, on loopback as far as a URL can tell.
func New() *Listener {
	return &Listener{conns: make(chan net.Conn), closed: make(chan struct{}),
		addr: addr("127.0.0.1:" + strconv.Itoa(int(20000+ports.Add(1)%40000)))}
}

// Accept waits for a client to dial.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops Accept, and refuses later dials.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// Addr is the address a server's URL names: loopback, so that a client takes plain http.
func (l *Listener) Addr() net.Addr { return l.addr }

// DialContext connects to the listener, whatever address it is asked for; a closed
// listener refuses, as a port nothing listens on does.
func (l *Listener) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.closed:
	case <-ctx.Done():
		_, _ = server.Close(), client.Close()
		return nil, ctx.Err()
	}
	_, _ = server.Close(), client.Close()
	return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: l.addr, Err: syscall.ECONNREFUSED}
}

// Transport returns an http.Transport that dials the listener, with the pool a bulk test
// needs.
func (l *Listener) Transport() *http.Transport {
	return &http.Transport{DialContext: l.DialContext, MaxIdleConnsPerHost: 256}
}

type addr string

func (a addr) Network() string { return "tcp" }
func (a addr) String() string  { return string(a) }
