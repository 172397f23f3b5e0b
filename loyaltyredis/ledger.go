package loyaltyredis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	loyalty "github.com/loyaltycards/loyalty-go"
)

// Ledger is a loyalty.Ledger kept in Redis, for WithLedger: processes that use one Redis and
// one prefix share it. Each entry is one string key, and each change one Lua script, so a
// claim is atomic on a single Redis and on a cluster alike. It is safe for concurrent use.
type Ledger struct {
	rdb redis.UniversalClient
	settings
}

var _ loyalty.Ledger = (*Ledger)(nil)

// NewLedger returns a ledger kept in rdb. WithPrefix and WithErrorHandler apply.
func NewLedger(rdb redis.UniversalClient, opts ...Option) *Ledger {
	return &Ledger{rdb: rdb, settings: newSettings(opts)}
}

// An entry's value is "state|holder|sent|ended|id": the scripts read only the state and the
// holder, and the id, which comes last, may hold anything.

// claimScript takes a free key, or one whose entry says "unknown", for a holder.
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 8) ~= 'unknown|' then
	return {0, v}
end
redis.call('SET', KEYS[1], 'held|' .. ARGV[1] .. '|0|0|', 'PX', ARGV[2])
return {1, v or ''}
`)

// recordScript replaces a holder's claim with an outcome; releaseScript frees it.
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
func (l *Ledger) Claim(ctx context.Context, key, holder string, hold time.Duration) (loyalty.LedgerEntry, bool, error) {
	if err := checkHolder(holder); err != nil {
		return loyalty.LedgerEntry{}, false, err
	}
	res, err := claimScript.Run(ctx, l.rdb, []string{l.prefix + key}, holder, millis(hold)).Slice()
	if err != nil {
		return loyalty.LedgerEntry{}, false, l.fail("claim", err)
	}
	if len(res) != 2 {
		return loyalty.LedgerEntry{}, false, l.fail("claim", fmt.Errorf("unexpected answer of %d items", len(res)))
	}
	ok, _ := res[0].(int64)
	value, _ := res[1].(string)
	e, err := decode(value)
	if err != nil {
		return loyalty.LedgerEntry{}, false, l.fail("claim", err)
	}
	return e, ok == 1, nil
}

// Record replaces holder's claim with e, kept for keep.
func (l *Ledger) Record(ctx context.Context, key, holder string, e loyalty.LedgerEntry, keep time.Duration) error {
	if err := checkHolder(holder); err != nil {
		return err
	}
	err := recordScript.Run(ctx, l.rdb, []string{l.prefix + key}, "held|"+holder+"|", encode(e), millis(keep)).Err()
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
	if err := releaseScript.Run(ctx, l.rdb, []string{l.prefix + key}, "held|"+holder+"|").Err(); err != nil {
		return l.fail("release", err)
	}
	return nil
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
	if e.State == loyalty.LedgerFree {
		return loyalty.LedgerEntry{}, fmt.Errorf("an entry in state %q", parts[0])
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
