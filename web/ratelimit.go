package web

import (
	"sync"
	"time"
)

// failureLimiter counts failed sign-ins per key (client address and email)
// in a sliding window and refuses further tries once a key has too many.
// It lives in memory: with several instances each counts its own tries,
// which still bounds guessing to a few per minute per instance.
type failureLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
}

// maxLimiterKeys bounds the limiter's memory under a flood of distinct keys.
const maxLimiterKeys = 100_000

func newFailureLimiter(max int, window time.Duration, now func() time.Time) *failureLimiter {
	return &failureLimiter{max: max, window: window, now: now, failures: map[string][]time.Time{}}
}

// blocked reports whether key has used up its tries and, if so, how long
// until the oldest failure leaves the window.
func (l *failureLimiter) blocked(key string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	recent := l.recent(key, l.now())
	if len(recent) < l.max {
		return 0, false
	}
	return recent[0].Add(l.window).Sub(l.now()), true
}

// fail records a failed try.
func (l *failureLimiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.failures) >= maxLimiterKeys {
		l.prune(now)
	}
	l.failures[key] = append(l.recent(key, now), now)
}

// reset forgets a key's failures after a successful sign-in.
func (l *failureLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// recent drops the failures of key that left the window; l.mu is held.
func (l *failureLimiter) recent(key string, now time.Time) []time.Time {
	fs := l.failures[key]
	i := 0
	for i < len(fs) && !fs[i].After(now.Add(-l.window)) {
		i++
	}
	if i == len(fs) {
		delete(l.failures, key)
		return nil
	}
	fs = fs[i:]
	l.failures[key] = fs
	return fs
}

// prune drops every key without recent failures; if the map is still full,
// it starts over rather than grow without bound.
func (l *failureLimiter) prune(now time.Time) {
	for k := range l.failures {
		l.recent(k, now)
	}
	if len(l.failures) >= maxLimiterKeys {
		l.failures = map[string][]time.Time{}
	}
}
