// Package loyaltyredis keeps a loyalty client's once-ledger and rate limit in Redis, so that
// every process and machine that uses one API key shares them: a receipt re-sent to another
// replica is answered from the ledger instead of being applied again, and eight workers on
// two machines stay within the key's limit between them.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	limiter, err := loyaltyredis.NewRateLimiter(rdb, 10, 5)
//	...
//	client, err := loyalty.NewClientFromEnv(
//		loyalty.WithLedger(loyaltyredis.NewLedger(rdb)),
//		loyalty.WithRateLimiter(limiter),
//	)
//
// It is a module of its own, so that the loyalty module does not pull in a Redis client. It
// is built on github.com/redis/go-redis/v9 and, for the limit, on
// github.com/go-redis/redis_rate/v10 (GCRA, timed by the Redis server's clock, so the
// processes' own clocks never meet).
//
// # Keys and their lifetimes
//
// Every key starts with a prefix ("loyalty:" unless WithPrefix says otherwise), so one Redis
// can serve other applications and several environments:
//
//	loyalty:once:<account>:<kind>:<reference>   a ledger entry (a string)
//	rate:loyalty:<account>                      a limit's state (redis_rate adds "rate:")
//
// <account> is a digest of the base URL and the API key, <reference> a digest of the
// reference and what it applies to: no key holds a secret, a reference or personal data. A
// ledger entry's value is its state, a random holder token, two server times and the id of
// the card, customer or company it concerns.
//
// A claim lives as long as the hold the client asks for (loyalty.DefaultLedgerHold, 15
// minutes), so a claim left by a process that died frees itself; an outcome lives as long as
// the client keeps it (loyalty.DefaultLedgerKeep, 7 days, as far back as the history look-up
// searches). A limit's state lives no longer than the time its bucket takes to fill again.
// Redis need not persist anything: after it loses its data the operations history, which the
// client always consults for a reference the ledger does not know, is the witness.
//
// # When Redis cannot be reached
//
// The ledger fails closed: a claim that cannot be made is an error (errors.Is(err,
// loyalty.ErrLedger) on the call), and the call sends nothing. An outcome that cannot be
// recorded is reported the same way; the next call with that reference finds it in the
// history.
//
// The limiter fails over: while Redis cannot be asked, each process keeps the limit in its
// own memory, so N processes may send up to N times the limit until Redis is back, and the
// API's 429 answers, which the client waits out, are the backstop. A merchant's till keeps
// working through a Redis outage. WithFailClosed makes the limiter refuse instead (the call
// fails with an error matching ErrUnavailable, and nothing is sent); WithErrorHandler is told
// of every failure either way.
package loyaltyredis
