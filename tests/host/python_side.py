"""The Python half of cross_door.js: binds the policies, uses them, says
"ready" and waits for stdin to close."""

import sys

import fusewire

store = fusewire.HostStore(sys.argv[1])
bucket = fusewire.TokenBucket(100, 1.0, store=store, name="api")
bulkhead = fusewire.Bulkhead(2, lease=60.0, store=store, name="pool")
breaker = fusewire.CircuitBreaker(store=store, name="db", open_duration=30.0)
while bucket.try_acquire():
    pass
slot = bulkhead.acquire()
breaker.trip()
print("ready", flush=True)
sys.stdin.read()
bulkhead.release(slot)
