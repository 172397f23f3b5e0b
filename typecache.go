package loyalty

import (
	"strings"
	"sync"
	"sync/atomic"
)

// defaultTypeCacheSize bounds how many card types a client remembers.
const defaultTypeCacheSize = 100_000

// typeCacheBytesPerCard bounds what one remembered card costs (78 bytes measured by
// TestTypeCacheMemory with serials of 14 characters): the map entry, the slot and the key.
const typeCacheBytesPerCard = 90

// typeCache remembers card types by card id. A card's type never changes, so an entry never
// goes stale; the bound only keeps memory in check. It holds exactly size entries once
// full, and evicts with CLOCK (second chance): a hit sets the entry's reference bit, and the
// eviction hand passes over entries whose bit is set, clearing it. A working set up to the
// size stays whole, and a hit takes a read lock and no allocation.
type typeCache struct {
	mu    sync.RWMutex
	index map[string]int32
	slots []typeSlot
	size  int
	hand  int
}

type typeSlot struct {
	id   string
	t    CardType
	used atomic.Bool
}

func newTypeCache(size int) *typeCache {
	if size <= 0 {
		return nil
	}
	return &typeCache{index: make(map[string]int32), size: size}
}

// capacity is the size the cache was made with; 0 for none.
func (c *typeCache) capacity() int {
	if c == nil {
		return 0
	}
	return c.size
}

// cacheKey normalises a card id: serials are digits and dashes, UUIDs any case.
func cacheKey(id string) string {
	id = strings.TrimSpace(id)
	for i := 0; i < len(id); i++ {
		if c := id[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(id)
		}
	}
	return id
}

// get returns the type of card id, or CardTypeUnknown. A nil cache knows nothing.
func (c *typeCache) get(id string) CardType {
	if c == nil {
		return CardTypeUnknown
	}
	key := cacheKey(id)
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, ok := c.index[key]
	if !ok {
		return CardTypeUnknown
	}
	s := &c.slots[i]
	if !s.used.Load() {
		s.used.Store(true)
	}
	return s.t
}

// put remembers the type of card id; unknown types are not kept.
func (c *typeCache) put(id string, t CardType) {
	if c == nil || !t.Known() {
		return
	}
	key := cacheKey(id)
	if key == "" {
		return
	}
	c.mu.RLock()
	i, ok := c.index[key]
	same := ok && c.slots[i].t == t
	c.mu.RUnlock()
	if same {
		return // the common case, a card seen again: no write lock
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[key]; ok {
		c.slots[i].t = t
		return
	}
	if len(c.slots) < c.size {
		c.slots = append(c.slots, typeSlot{id: key, t: t})
		c.index[key] = int32(len(c.slots) - 1)
		return
	}
	for {
		s := &c.slots[c.hand]
		if s.used.Load() {
			s.used.Store(false) // a second chance
			c.hand = (c.hand + 1) % c.size
			continue
		}
		delete(c.index, s.id)
		s.id, s.t = key, t
		c.index[key] = int32(c.hand)
		c.hand = (c.hand + 1) % c.size
		return
	}
}

// len counts the entries held, for tests.
func (c *typeCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.index)
}
