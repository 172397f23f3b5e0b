package loyalty

import (
	"context"
	"sync"
	"time"
)

// NewMemoryLedger returns a Ledger kept in this process's memory, remembering at most
// maxEntries outcomes (the oldest are forgotten first; 0 means 100,000). Claims in progress
// are never forgotten. It is what clients use unless WithLedger says otherwise: one for the
// whole process, so that every client of one account shares it.
func NewMemoryLedger(maxEntries int) Ledger {
	if maxEntries <= 0 {
		maxEntries = 100_000
	}
	return &memoryLedger{entries: map[string]*memoryEntry{}, max: maxEntries}
}

// defaultLedger is the process's ledger for clients without WithLedger.
var defaultLedger = sync.OnceValue(func() Ledger { return NewMemoryLedger(0) })

type memoryLedger struct {
	mu      sync.Mutex
	entries map[string]*memoryEntry
	// order lists recorded outcomes oldest first, to forget the oldest beyond max; an item
	// whose entry has since changed is skipped.
	order    []recordedKey
	recorded int // entries holding an outcome
	seq      uint64
	max      int
	now      func() time.Time // for tests; time.Now when nil
}

type recordedKey struct {
	key string
	seq uint64
}

type memoryEntry struct {
	LedgerEntry
	holder  string
	expires time.Time
	// until is when a claim's hold lapses; its entry is kept after that, as an unknown.
	until time.Time
	seq   uint64 // set for a recorded outcome
}

func (l *memoryLedger) clock() time.Time {
	if l.now != nil {
		return l.now()
	}
	return time.Now()
}

// live returns key's entry unless it has expired.
func (l *memoryLedger) live(key string) *memoryEntry {
	e := l.entries[key]
	if e != nil && !l.clock().Before(e.expires) {
		l.drop(key, e)
		return nil
	}
	return e
}

func (l *memoryLedger) drop(key string, e *memoryEntry) {
	delete(l.entries, key)
	if e.seq != 0 {
		l.recorded--
	}
}

// Claim takes a free or unknown key. Its Kept is zero: it is the witness of its own process
// only.
func (l *memoryLedger) Claim(_ context.Context, key, holder string, hold time.Duration) (LedgerClaim, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	e := l.live(key)
	var prev LedgerEntry
	switch {
	case e == nil:
	case e.State == LedgerHeld && now.Before(e.until), e.State == LedgerApplied:
		return LedgerClaim{Entry: e.LedgerEntry}, nil
	case e.State == LedgerHeld: // lapsed: its holder may have sent
		prev = LedgerEntry{State: LedgerUnknown}
		l.drop(key, e)
	default: // unknown
		prev = e.LedgerEntry
		l.drop(key, e)
	}
	l.entries[key] = &memoryEntry{LedgerEntry: LedgerEntry{State: LedgerHeld}, holder: holder,
		until: now.Add(hold), expires: now.Add(hold + DefaultLedgerKeep)}
	return LedgerClaim{Claimed: true, Entry: prev}, nil
}

// Renew extends holder's claim, unless its hold lapsed.
func (l *memoryLedger) Renew(_ context.Context, key, holder string, hold time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock()
	cur := l.live(key)
	if cur == nil || cur.State != LedgerHeld || cur.holder != holder || !now.Before(cur.until) {
		return false, nil
	}
	cur.until, cur.expires = now.Add(hold), now.Add(hold+DefaultLedgerKeep)
	return true, nil
}

// Record keeps an outcome of holder's claim.
func (l *memoryLedger) Record(_ context.Context, key, holder string, e LedgerEntry, keep time.Duration) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	cur := l.live(key)
	if cur == nil || cur.State != LedgerHeld || cur.holder != holder {
		return nil
	}
	l.seq++
	l.entries[key] = &memoryEntry{LedgerEntry: e, expires: l.clock().Add(keep), seq: l.seq}
	l.recorded++
	l.order = append(l.order, recordedKey{key, l.seq})
	l.forget()
	return nil
}

// Release frees holder's claim.
func (l *memoryLedger) Release(_ context.Context, key, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if cur := l.live(key); cur != nil && cur.State == LedgerHeld && cur.holder == holder {
		delete(l.entries, key)
	}
	return nil
}

// forget drops the oldest outcomes beyond max, and compacts order when most of it is stale.
func (l *memoryLedger) forget() {
	for l.recorded > l.max && len(l.order) > 0 {
		k := l.order[0]
		l.order = l.order[1:]
		if e := l.entries[k.key]; e != nil && e.seq == k.seq {
			l.drop(k.key, e)
		}
	}
	if len(l.order) > 2*l.max+64 {
		live := l.order[:0:0]
		for _, k := range l.order {
			if e := l.entries[k.key]; e != nil && e.seq == k.seq {
				live = append(live, k)
			}
		}
		l.order = live
	}
}
