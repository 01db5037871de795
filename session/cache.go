package session

import "sync"

// cache is a per-process map of values that can be rebuilt from PostgreSQL
// at any time (sessions by token hash, principals by user id).
//
// Two rules keep it from serving stale data:
//   - A value is only stored if no invalidation happened since its load began:
//     a loader takes Epoch() before it reads the database and hands it to Put,
//     which drops the value when any Drop, DropIf or Clear came in between.
//     A load that raced with a write therefore never outlives the write's
//     notification.
//   - While the process cannot hear notifications (the listener is
//     disconnected), the cache is disabled: Get misses and Put stores nothing.
type cache[K comparable, V any] struct {
	mu      sync.Mutex
	m       map[K]V
	epoch   uint64
	enabled bool
	max     int
}

func newCache[K comparable, V any](max int) *cache[K, V] {
	return &cache[K, V]{m: map[K]V{}, max: max}
}

// Get returns the cached value of k.
func (c *cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	if !c.enabled {
		ok = false
	}
	return v, ok
}

// Epoch is the invalidation counter to pass to Put.
func (c *cache[K, V]) Epoch() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// Put stores v under k if the cache is enabled and nothing was invalidated
// since epoch was taken. A full cache evicts an arbitrary entry (Go's map
// iteration order is randomised), which bounds memory without bookkeeping.
func (c *cache[K, V]) Put(k K, v V, epoch uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.enabled || epoch != c.epoch {
		return false
	}
	if _, exists := c.m[k]; !exists && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = v
	return true
}

// Drop removes keys.
func (c *cache[K, V]) Drop(keys ...K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for _, k := range keys {
		delete(c.m, k)
	}
}

// DropIf removes every entry for which match is true.
func (c *cache[K, V]) DropIf(match func(K, V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	for k, v := range c.m {
		if match(k, v) {
			delete(c.m, k)
		}
	}
}

// Clear removes everything.
func (c *cache[K, V]) Clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.m)
}

// SetEnabled turns the cache on or off; either way it starts empty.
func (c *cache[K, V]) SetEnabled(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch++
	clear(c.m)
	c.enabled = on
}

// Len is the number of entries.
func (c *cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
