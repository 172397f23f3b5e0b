package loyaltyredis

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// Ledger is a loyalty.Ledger kept in Redis, for WithLedger: processes that use one Redis and
// one prefix share it. Each entry is one string key, and each change one Lua script, so a
// claim is atomic on a single Redis and on a cluster alike (every key of a ledger is in one
// hash slot). It is safe for concurrent use.
//
// It knows when Redis lost what it held: every script checks the ledger's epoch, a key that
// records when the ledger began and the run id of the Redis server that holds it. A flush, a
// restart (with or without persistence) or a failover to another server ends the epoch, and
// the next claim begins a new one; LedgerClaim.Kept is the epoch's age, by the Redis server's
// clock.
type Ledger struct {
	rdb redis.UniversalClient
	settings
	// checked is set once the server's eviction settings were read and found safe, or could
	// not be read (CONFIG refused).
	checkMu sync.Mutex
	checked bool
}

var _ loyalty.Ledger = (*Ledger)(nil)

// NewLedger returns a ledger kept in rdb. WithPrefix and WithErrorHandler apply. Its first
// claim checks that the server does not evict keys (see Check).
func NewLedger(rdb redis.UniversalClient, opts ...Option) *Ledger {
	return &Ledger{rdb: rdb, settings: newSettings(opts)}
}

// slot is the hash tag every key of a ledger carries, so that a script's keys are in one slot
// of a cluster.
const slot = "{ledger}:"

func (l *Ledger) entryKey(key string) string { return l.prefix + slot + key }
func (l *Ledger) epochKey() string           { return l.prefix + slot + "epoch" }

// An entry's value is "state|holder|sent|ended|id": the scripts read only the state, the
// holder and, for a claim, when its hold lapses (in the sent field, in milliseconds of the
// server's clock); the id, which comes last, may hold anything. A claim's key lives for its
// hold and DefaultLedgerKeep after it: a claim that lapsed is claimed as an unknown outcome,
// never as a free key, since its holder may have sent. The epoch's value is
// "id|seconds|microseconds|run id": when it began by the server's clock, on which server.

// claimScript takes a free key, one whose entry says "unknown", or a lapsed claim, for a
// holder, and answers how long the ledger has kept everything: the age of the epoch, which it
// begins anew when the epoch is missing or was written by another server (a restart, a
// failover).
var claimScript = redis.NewScript(`
local now = redis.call('TIME')
local nowms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
local s, us
local e = redis.call('GET', KEYS[2])
if e then
	local _, es, eus, erun = string.match(e, '^([^|]*)|(%d+)|(%d+)|(%x+)$')
	if erun == run then
		s, us = es, eus
	end
end
if not s then
	s, us = now[1], now[2]
	redis.call('SET', KEYS[2], ARGV[3] .. '|' .. s .. '|' .. us .. '|' .. run)
end
local kept = (tonumber(now[1]) - tonumber(s)) * 1000000 + (tonumber(now[2]) - tonumber(us))
local v = redis.call('GET', KEYS[1])
local prev = v or ''
if v then
	local state, untilms = string.match(v, '^(%a+)|[^|]*|(%d+)|')
	if state == 'applied' or (state == 'held' and tonumber(untilms) > nowms) then
		return {0, v, kept}
	end
	if state == 'held' then
		prev = 'unknown||0|0|'
	end
end
redis.call('SET', KEYS[1], 'held|' .. ARGV[1] .. '|' .. string.format('%.0f', nowms + tonumber(ARGV[2])) .. '|0|',
	'PX', tonumber(ARGV[2]) + tonumber(ARGV[4]))
return {1, prev, kept}
`)

// renewScript extends a holder's claim; recordScript replaces it with an outcome;
// releaseScript frees it. Each changes nothing when the holder does not hold the key.
var renewScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then
	return 0
end
local now = redis.call('TIME')
local nowms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if tonumber(string.match(v, '^held|[^|]*|(%d+)|')) <= nowms then
	return 0
end
redis.call('SET', KEYS[1], ARGV[1] .. string.format('%.0f', nowms + tonumber(ARGV[2])) .. '|0|',
	'PX', tonumber(ARGV[2]) + tonumber(ARGV[3]))
return 1
`)

var recordScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then
	return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

var releaseScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then
	return 0
end
return redis.call('DEL', KEYS[1])
`)

// Claim takes key for holder for hold, when it is free or its entry says LedgerUnknown.
//
// Errors: the server's (wrapped), an entry the ledger did not write, and ErrEvicts on a
// server that may evict the ledger's keys.
func (l *Ledger) Claim(ctx context.Context, key, holder string, hold time.Duration) (loyalty.LedgerClaim, error) {
	if err := checkHolder(holder); err != nil {
		return loyalty.LedgerClaim{}, err
	}
	if err := l.checkOnce(ctx); err != nil {
		return loyalty.LedgerClaim{}, err
	}
	res, err := claimScript.Run(ctx, l.rdb, []string{l.entryKey(key), l.epochKey()}, holder, millis(hold), rand.Text(),
		millis(loyalty.DefaultLedgerKeep)).Slice()
	if err != nil {
		return loyalty.LedgerClaim{}, l.fail("claim", err)
	}
	if len(res) != 3 {
		return loyalty.LedgerClaim{}, l.fail("claim", fmt.Errorf("unexpected answer of %d items", len(res)))
	}
	ok, _ := res[0].(int64)
	value, _ := res[1].(string)
	kept, _ := res[2].(int64)
	e, err := decode(value)
	if err != nil {
		return loyalty.LedgerClaim{}, l.fail("claim", err)
	}
	// A just-begun epoch answers 0; Kept 0 would mean "not tracked".
	return loyalty.LedgerClaim{Claimed: ok == 1, Entry: e, Kept: max(time.Duration(kept)*time.Microsecond, time.Microsecond)}, nil
}

// Renew extends holder's claim on key to hold from now, and reports whether holder held it.
func (l *Ledger) Renew(ctx context.Context, key, holder string, hold time.Duration) (bool, error) {
	if err := checkHolder(holder); err != nil {
		return false, err
	}
	n, err := renewScript.Run(ctx, l.rdb, []string{l.entryKey(key)}, "held|"+holder+"|", millis(hold),
		millis(loyalty.DefaultLedgerKeep)).Int()
	if err != nil {
		return false, l.fail("renew", err)
	}
	return n == 1, nil
}

// Record replaces holder's claim with e, kept for keep.
func (l *Ledger) Record(ctx context.Context, key, holder string, e loyalty.LedgerEntry, keep time.Duration) error {
	if err := checkHolder(holder); err != nil {
		return err
	}
	err := recordScript.Run(ctx, l.rdb, []string{l.entryKey(key)}, "held|"+holder+"|", encode(e), millis(keep)).Err()
	if err != nil {
		return l.fail("record", err)
	}
	return nil
}

// Release frees holder's claim.
func (l *Ledger) Release(ctx context.Context, key, holder string) error {
	if err := checkHolder(holder); err != nil {
		return err
	}
	if err := releaseScript.Run(ctx, l.rdb, []string{l.entryKey(key)}, "held|"+holder+"|").Err(); err != nil {
		return l.fail("release", err)
	}
	return nil
}

// ErrEvicts matches Check's refusal of a server that may evict the ledger's keys.
var ErrEvicts = errors.New("loyaltyredis: this Redis may evict the ledger's keys")

// Check reads the server's eviction settings (CONFIG GET maxmemory, maxmemory-policy) and
// refuses a server that may evict keys: a claim or an outcome evicted is forgotten without a
// word, and a second process would send what the first already has. The ledger needs
// maxmemory-policy noeviction, or no maxmemory at all. A server that does not allow CONFIG
// (a managed Redis, an ACL) cannot be checked: Check then returns nil, and tells the error
// handler. The ledger's first claim runs it; call it at start-up to fail early.
//
// Errors: an error matching ErrEvicts that names the settings to change; the server's.
func (l *Ledger) Check(ctx context.Context) error {
	vals, err := l.rdb.ConfigGet(ctx, "maxmemory*").Result()
	if err != nil {
		if isRefusal(err) {
			l.report(fmt.Errorf("loyaltyredis: cannot read the server's eviction settings (%w): "+
				"make sure maxmemory-policy is noeviction, or maxmemory is 0", err))
			return nil
		}
		return l.fail("check", err)
	}
	if limit := vals["maxmemory"]; limit != "" && limit != "0" && vals["maxmemory-policy"] != "noeviction" {
		return fmt.Errorf("%w: maxmemory is %s and maxmemory-policy is %q; set maxmemory-policy noeviction "+
			"(or maxmemory 0) on the Redis the ledger uses", ErrEvicts, limit, vals["maxmemory-policy"])
	}
	return nil
}

// checkOnce runs Check until it has passed once. A server whose settings change later is not
// seen: the check is for a server set up wrong, not a watch.
func (l *Ledger) checkOnce(ctx context.Context) error {
	l.checkMu.Lock()
	defer l.checkMu.Unlock()
	if l.checked {
		return nil
	}
	if err := l.Check(ctx); err != nil {
		return err
	}
	l.checked = true
	return nil
}

// isRefusal tells a server that answered CONFIG with an error (not allowed, renamed away)
// from one that could not be asked.
func isRefusal(err error) bool {
	var answered redis.Error
	return errors.As(err, &answered)
}

func (l *Ledger) fail(op string, err error) error {
	err = fmt.Errorf("loyaltyredis: ledger %s: %w", op, err)
	l.report(err)
	return err
}

// checkHolder refuses a holder token that would break an entry's value apart.
func checkHolder(holder string) error {
	if holder == "" || strings.Contains(holder, "|") {
		return fmt.Errorf("loyaltyredis: holder token %q: must be non-empty and without '|'", holder)
	}
	return nil
}

// millis is d in whole milliseconds, at least 1: SET PX takes no less.
func millis(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

var stateNames = map[loyalty.LedgerState]string{
	loyalty.LedgerHeld: "held", loyalty.LedgerApplied: "applied", loyalty.LedgerUnknown: "unknown",
}

// encode writes an outcome as an entry's value. Its holder part is empty: an outcome is no
// one's claim.
func encode(e loyalty.LedgerEntry) string {
	return stateNames[e.State] + "||" + unixNano(e.Sent) + "|" + unixNano(e.Ended) + "|" + e.ID
}

// decode reads an entry's value; "" is the free entry.
func decode(v string) (loyalty.LedgerEntry, error) {
	if v == "" {
		return loyalty.LedgerEntry{}, nil
	}
	parts := strings.SplitN(v, "|", 5)
	if len(parts) != 5 {
		return loyalty.LedgerEntry{}, fmt.Errorf("an entry of %d parts, want 5", len(parts))
	}
	e := loyalty.LedgerEntry{ID: parts[4]}
	for s, name := range stateNames {
		if parts[0] == name {
			e.State = s
		}
	}
	switch e.State {
	case loyalty.LedgerFree:
		return loyalty.LedgerEntry{}, fmt.Errorf("an entry in state %q", parts[0])
	case loyalty.LedgerHeld:
		if _, err := strconv.ParseInt(parts[2], 10, 64); err != nil {
			return loyalty.LedgerEntry{}, fmt.Errorf("a claim's hold %q: %w", parts[2], err)
		}
		return loyalty.LedgerEntry{State: loyalty.LedgerHeld}, nil // its times are the hold's, not an attempt's
	}
	var err error
	if e.Sent, err = fromUnixNano(parts[2]); err != nil {
		return loyalty.LedgerEntry{}, err
	}
	if e.Ended, err = fromUnixNano(parts[3]); err != nil {
		return loyalty.LedgerEntry{}, err
	}
	return e, nil
}

func unixNano(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

func fromUnixNano(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("an entry's time %q: %w", s, err)
	}
	if n == 0 {
		return time.Time{}, nil
	}
	return time.Unix(0, n).UTC(), nil
}
