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
//	loyalty:{ledger}:once:<account>:<kind>:<reference>   a ledger entry (a string)
//	loyalty:{ledger}:epoch                               when the ledger began, on which server
//	rate:loyalty:<account>                               a limit's state (redis_rate adds "rate:")
//
// <account> is a digest of the base URL and the API key, <reference> a digest of the
// reference and what it applies to: no key holds a secret, a reference or personal data. A
// ledger entry's value is its state, a random holder token, two server times and the id of
// the card, customer or company it concerns. Every ledger key carries the hash tag {ledger},
// so that on a cluster a ledger lives in one slot and each script is atomic.
//
// A claim lives as long as the hold the client asks for (loyalty.DefaultLedgerHold, 15
// minutes), renewed before each step of the call that holds it, so a claim left by a process
// that died frees itself and a live one never expires under its holder; an outcome lives as
// long as the client keeps it (loyalty.DefaultLedgerKeep, 7 days, as far back as the history
// look-up searches). A limit's state lives no longer than the time its bucket takes to fill
// again.
//
// # What Redis must be
//
// The ledger keeps its promise on a Redis that never evicts its keys: maxmemory-policy
// noeviction, or no maxmemory at all. A claim or an outcome evicted is forgotten without a
// word, and another process would send what the first one already has. The ledger's first
// claim checks this (Check, with CONFIG GET; a server that does not allow CONFIG is not
// checked, and the error handler is told) and fails closed on a server that evicts.
//
// Persistence is not needed for the promise, and neither is a replica. The ledger knows when
// Redis lost what it held: the epoch key records when the ledger began, by the server's
// clock, and the run id of the server that holds it. A FLUSHALL removes it; a restart (with
// or without persistence: a snapshot may be older than the last claims) or a failover to
// another server changes the run id. The next claim then begins a new epoch, and reports how
// long ago in loyalty.LedgerClaim.Kept. A send whose claim Redis forgot may still be in flight,
// so for two in-flight bounds after that (2 × loyalty.OnceOptions.InFlight + 2 s: 62 s with the
// defaults) every first send of a reference the ledger does not know waits out that time and
// reads the card's history first, as after a lost answer. A holder renews its claim before
// every send, so nothing is sent under a claim Redis lost. What persistence (AOF) does buy is
// that outcomes outlive a restart, so a repeat after it is answered by the ledger rather than
// by the history. A Redis that started afresh (a new server, a new prefix) is treated the
// same way: it cannot know what came before it.
//
// A ledger that has kept everything for longer than the history look-up searches
// (loyalty.OnceOptions.Window, 7 days) vouches for a free key alone: ApplyOnce then sends with no
// look-up before, one request instead of three. This holds when every send of a reference
// goes through ApplyOnce with this ledger; a reference sent another way (AddStamps with a
// Reference, another application) is caught by the history only when the ledger cannot vouch.
//
// The epoch's age is measured by the Redis server's clock alone; the client measures only
// how long it waits. Two primaries accepting writes at once (a split brain) are not detected.
//
// # When Redis cannot be reached
//
// go-redis logs its own connection-pool errors to stderr before an error reaches the SDK;
// redis.SetLogger routes them elsewhere, or quiets them.
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
