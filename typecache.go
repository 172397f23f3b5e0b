package loyalty

import "sync"

// defaultTypeCacheSize bounds how many card types a client remembers.
const defaultTypeCacheSize = 100_000

// typeCache remembers card types by card id. A card's type never changes, so an entry never
// goes stale; the bound only keeps memory in check. It keeps two generations: when the young
// one is full it becomes the old one and the previous old one is dropped, so the cache holds
// at most size entries and recently used ones survive, without a list to maintain per hit.
type typeCache struct {
	mu    sync.RWMutex
	half  int
	young map[string]CardType
	old   map[string]CardType
}

func newTypeCache(size int) *typeCache {
	if size <= 0 {
		return nil
	}
	return &typeCache{half: max(size/2, 1), young: map[string]CardType{}}
}

// get returns the type of card id, or CardTypeUnknown. A nil cache knows nothing.
func (c *typeCache) get(id string) CardType {
	if c == nil {
		return CardTypeUnknown
	}
	c.mu.RLock()
	t, ok := c.young[id]
	c.mu.RUnlock()
	if ok {
		return t
	}
	c.mu.RLock()
	t, ok = c.old[id]
	c.mu.RUnlock()
	if !ok {
		return CardTypeUnknown
	}
	c.put(id, t) // promote: a card in use survives the next rotation
	return t
}

// put remembers the type of card id; unknown types are not kept.
func (c *typeCache) put(id string, t CardType) {
	if c == nil || id == "" || !t.Known() {
		return
	}
	c.mu.RLock()
	have, ok := c.young[id]
	c.mu.RUnlock()
	if ok && have == t {
		return // the common case, a card seen again: no write lock
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.young[id]; ok {
		c.young[id] = t
		return
	}
	if len(c.young) >= c.half {
		c.old, c.young = c.young, make(map[string]CardType, c.half)
	}
	c.young[id] = t
}

// len counts the entries held, for tests.
func (c *typeCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.young) + len(c.old)
}
