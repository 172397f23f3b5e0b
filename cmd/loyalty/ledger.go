package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/lockedfile"

	loyalty "github.com/loyaltycards/loyalty-go"
	"github.com/loyaltycards/loyalty-go/internal/atomicfile"
)

// fileLedger is a loyalty.Ledger in a file, shared by every run of the command on this
// machine: a provision or a purchase run twice at once, or run again after it was killed, is
// sent at most once between the runs. Each claim names the process that holds it; a claim
// whose process is gone is at once what a lapsed claim is, an unknown (its holder may have
// sent), so a run again after a kill looks before it sends, and waits for a request still on
// its way rather than send a second.
//
// What it needs of the file: a local disk (the lock, on a file beside it, is flock's, which
// network file systems may not honour), and that nothing else writes it. Each change replaces
// the file whole (written aside, then renamed), so a run killed while it writes leaves the
// entries before or after, never a torn file. A file deleted or emptied loses its entries:
// the ledger says it keeps nothing (LedgerClaim.Kept is zero), so the SDK never takes a free
// key there as proof that nothing was sent, and the card history or the company list stays
// the witness, as with the in-memory ledger.
type fileLedger struct {
	path  string
	lock  *lockedfile.Mutex // orders the processes; mu, the goroutines of this one
	mu    sync.Mutex
	pid   int
	now   func() time.Time
	alive func(pid int) bool
	// max bounds the outcomes kept, the oldest going first: the file is read and written whole
	// on every step, and a command line's runs need days of its receipts, not years.
	max int
}

// fileEntry is a ledger entry as the file holds it: no secret, only digests, ids and times.
type fileEntry struct {
	State loyalty.LedgerState `json:"state"`
	ID    string              `json:"id,omitempty"`
	Sent  time.Time           `json:"sent,omitzero"`
	Ended time.Time           `json:"ended,omitzero"`
	// Holder and PID name a claim's holder and its process; Until is when its hold lapses.
	Holder  string    `json:"holder,omitempty"`
	PID     int       `json:"pid,omitempty"`
	Until   time.Time `json:"until,omitzero"`
	Expires time.Time `json:"expires"`
}

// openFileLedger returns the ledger kept at path, creating its folder (the user's alone) when
// it is not there.
func openFileLedger(path string) (*fileLedger, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	return &fileLedger{path: path, lock: lockedfile.MutexAt(path + ".lock"), pid: os.Getpid(),
		now: time.Now, alive: processAlive, max: 10_000}, nil
}

// edit runs f on the entries under the lock, and writes them back when f says it changed them.
func (l *fileLedger) edit(f func(entries map[string]fileEntry, now time.Time) (changed bool)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.editLocked(f); err != nil {
		return fmt.Errorf("%w: %v", loyalty.ErrLedger, err)
	}
	return nil
}

func (l *fileLedger) editLocked(f func(entries map[string]fileEntry, now time.Time) bool) error {
	unlock, err := l.lock.Lock()
	if err != nil {
		return err
	}
	defer unlock()
	entries := map[string]fileEntry{}
	old, err := os.ReadFile(l.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	case len(old) > 0:
		if err := json.Unmarshal(old, &entries); err != nil {
			return fmt.Errorf("the ledger %s is damaged (%v): remove it to start afresh", l.path, err)
		}
	}
	now := l.now()
	if !f(entries, now) {
		return nil
	}
	l.prune(entries, now)
	data, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	return atomicfile.Write(l.path, data)
}

// prune drops expired entries, then the oldest outcomes beyond max. Claims are never dropped.
func (l *fileLedger) prune(entries map[string]fileEntry, now time.Time) {
	var outcomes []string
	for k, e := range entries {
		switch {
		case !now.Before(e.Expires):
			delete(entries, k)
		case e.State != loyalty.LedgerHeld:
			outcomes = append(outcomes, k)
		}
	}
	if len(outcomes) <= l.max {
		return
	}
	sort.Slice(outcomes, func(i, j int) bool { return entries[outcomes[i]].Expires.Before(entries[outcomes[j]].Expires) })
	for _, k := range outcomes[:len(outcomes)-l.max] {
		delete(entries, k)
	}
}

// held reports whether e is a claim its holder still has: within its hold, and its process
// alive.
func (l *fileLedger) held(e fileEntry, now time.Time) bool {
	return e.State == loyalty.LedgerHeld && now.Before(e.Until) && (e.PID == l.pid || l.alive(e.PID))
}

func (e fileEntry) entry() loyalty.LedgerEntry {
	return loyalty.LedgerEntry{State: e.State, ID: e.ID, Sent: e.Sent, Ended: e.Ended}
}

// Claim takes key for holder when it is free, unknown, or a claim whose hold lapsed or whose
// process is gone. Its Kept is zero: see fileLedger.
func (l *fileLedger) Claim(_ context.Context, key, holder string, hold time.Duration) (loyalty.LedgerClaim, error) {
	var c loyalty.LedgerClaim
	err := l.edit(func(entries map[string]fileEntry, now time.Time) bool {
		e, ok := entries[key]
		if ok && !now.Before(e.Expires) {
			ok = false
		}
		switch {
		case !ok:
		case e.State == loyalty.LedgerApplied, l.held(e, now):
			c = loyalty.LedgerClaim{Entry: e.entry()}
			return false
		case e.State == loyalty.LedgerHeld: // lapsed, or its process is gone: it may have sent
			c.Entry = loyalty.LedgerEntry{State: loyalty.LedgerUnknown}
		default:
			c.Entry = e.entry()
		}
		c.Claimed = true
		entries[key] = fileEntry{State: loyalty.LedgerHeld, Holder: holder, PID: l.pid,
			Until: now.Add(hold), Expires: now.Add(hold + loyalty.DefaultLedgerKeep)}
		return true
	})
	return c, err
}

// Renew extends holder's claim, unless it lapsed.
func (l *fileLedger) Renew(_ context.Context, key, holder string, hold time.Duration) (bool, error) {
	renewed := false
	err := l.edit(func(entries map[string]fileEntry, now time.Time) bool {
		e := entries[key]
		if !l.held(e, now) || e.Holder != holder || e.PID != l.pid {
			return false
		}
		e.Until, e.Expires = now.Add(hold), now.Add(hold+loyalty.DefaultLedgerKeep)
		entries[key], renewed = e, true
		return true
	})
	return renewed, err
}

// Record replaces holder's claim with its outcome.
func (l *fileLedger) Record(_ context.Context, key, holder string, out loyalty.LedgerEntry, keep time.Duration) error {
	return l.edit(func(entries map[string]fileEntry, now time.Time) bool {
		e := entries[key]
		if e.State != loyalty.LedgerHeld || e.Holder != holder || e.PID != l.pid {
			return false
		}
		entries[key] = fileEntry{State: out.State, ID: out.ID, Sent: out.Sent, Ended: out.Ended, Expires: now.Add(keep)}
		return true
	})
}

// Release frees holder's claim.
func (l *fileLedger) Release(_ context.Context, key, holder string) error {
	return l.edit(func(entries map[string]fileEntry, _ time.Time) bool {
		e := entries[key]
		if e.State != loyalty.LedgerHeld || e.Holder != holder || e.PID != l.pid {
			return false
		}
		delete(entries, key)
		return true
	})
}
