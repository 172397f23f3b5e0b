// Command benchserver serves the benchmarks' endpoints on loopback in a process of its own,
// so that a benchmark measures the client alone:
//
//	go run ./internal/benchserver/cmd/benchserver -addr 127.0.0.1:8099 &
//	LOYALTY_BENCH_URL=http://127.0.0.1:8099 go test -run '^$' -bench . -benchmem
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/loyaltycards/loyalty-go/internal/benchserver"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on")
	latency := flag.Duration("latency", 0, "delay before each answer")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	srv := &http.Server{Handler: benchserver.Handler(*latency), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.Serve(ln))
}
