// The Express app from the seed (shared/seed-resilience-patterns.txt), as an
// opossum user writes it, with two changes: `require('fusewire')` in place of
// `require('opossum')`, and three local replicas of the upstream in place of
// the public API. Below the seed's breaker sit fusewire's other policies: a
// retry with backoff on the idempotent GET, a Pool over the replicas (picks,
// outlier ejection, failover to another replica), a token bucket on the
// fallback path, and a chaos wrapper on the breaker's action (off until the
// dashboard turns it on) to see the breaker react to injected faults.
const express = require('express');
const axios = require('axios');
const CircuitBreaker = require('fusewire');
const { retry, TokenBucket, Pool, HostStore, RedisStore } = require('fusewire');

const app = express();
const PORT = process.env.PORT || 3000;
const UPSTREAM_URLS = (process.env.UPSTREAM_URLS || process.env.UPSTREAM_URL ||
    'http://127.0.0.1:3001,http://127.0.0.1:3002,http://127.0.0.1:3003').split(',');

// Envoy-style outlier detection over the replicas, tuned so a demo shows it
// in seconds: 3 failures in a row eject a replica for 5 s (then 10 s, 15 s...
// while it keeps failing), a success rate one deviation below the others'
// ejects it at the 2 s check, and at most one of the three is out at a time.
const pool = Pool ? new Pool(UPSTREAM_URLS, {
    consecutiveFailures: 3,
    consecutiveGatewayFailures: 3,
    interval: 2000,
    baseEjectionTime: 5000,
    maxEjectionTime: 30000,
    maxEjectionPercent: 34,
    successRateMinimumHosts: 3,
    successRateRequestVolume: 5,
    successRateStdevFactor: 1,
    pollInterval: 250
}) : null;

// Counted for the dashboard; a real app would log or export these.
const retryStats = { calls: 0, attempts: 0, retries: 0, exhausted: 0 };

// Only failures that another try can fix: the upstream's 5xx and dropped connections.
const retryable = err => !err.response || err.response.status >= 500;

async function fetchData() {
    retryStats.calls++;
    try {
        return await retry(async () => {
            retryStats.attempts++;
            // One failover to another replica inside each attempt.
            const response = pool
                ? await pool.call(url => axios.get(`${url}/posts/1`), { retries: 1 })
                : await axios.get(`${UPSTREAM_URLS[0]}/posts/1`);
            return response.data;
        }, {
            maxAttempts: 3,
            backoff: { kind: 'exponential', base: 50, factor: 2, max: 400, jitter: 'full' },
            retryOn: retryable,
            onRetry: () => { retryStats.retries++; }
        });
    } catch (err) {
        retryStats.exhausted++;
        throw err;
    }
}

// `make demo` runs this app in several worker processes (DEMO_STORE names
// their shared-memory region, or their key prefix in Redis with DEMO_REDIS):
// one breaker and one fallback bucket for all of them, not one per worker.
// Without DEMO_STORE each process has its own.
const store = !process.env.DEMO_STORE || !HostStore ? null
    : process.env.DEMO_REDIS ? new RedisStore(process.env.DEMO_REDIS, { prefix: process.env.DEMO_STORE, timeout: 50 })
    : new HostStore(process.env.DEMO_STORE);
const shared = name => store ? { store, name } : {};

// Create a circuit breaker around that function
const breakerOptions = {
    ...shared('fetchData'),   // opossum's `name` is also the breaker's name: keep the action's
    timeout: 3000,                      // 3 seconds before timing out
    errorThresholdPercentage: 50,       // open circuit if 50% of requests fail
    resetTimeout: Number(process.env.DEMO_RESET_TIMEOUT) || 10000,  // after 10s, try again
    // fusewire extra: chaos on the action, switched on from the dashboard.
    // 80% of calls fail with a ChaosError, 20% wait 50-250 ms first.
    chaos: {
        faultRate: 80,
        latencyRate: 20,
        latencyMin: 50,
        latencyMax: 250,
        seed: process.env.DEMO_CHAOS_SEED ? Number(process.env.DEMO_CHAOS_SEED) : undefined
    }
};

const breaker = new CircuitBreaker(fetchData, breakerOptions);

// The fallback is cheap here, but in a real app it hits a cache or a second
// service that must not take the whole load the moment the breaker opens.
const fallbackBucket = new TokenBucket({ burst: 5, tokens: 5, period: 1000, ...shared('fallback') });

// Add a fallback in case the breaker is open
const FALLBACK = { message: 'Service temporarily unavailable. Please try again later.' };
breaker.fallback(store instanceof RedisStore
    // through Redis a decision is a round trip: tryTake answers with a
    // promise (never waiting for a token)
    ? async () => {
        if (!(await fallbackBucket.tryTake())) {
            throw new Error('Fallback rate limit exceeded');
        }
        return FALLBACK;
    }
    : () => {
        if (!fallbackBucket.tryTake()) {
            throw new Error('Fallback rate limit exceeded');
        }
        return FALLBACK;
    });

// Express route
app.get('/data', async (req, res) => {
    try {
        const result = await breaker.fire();
        res.json(result);
    } catch (err) {
        res.status(503).json({
            error: 'Downstream service failed',
            details: err.message
        });
    }
});

if (require.main === module) {
    app.listen(PORT, () => {
        console.log(`Server running on http://localhost:${PORT}`);
    });
}

module.exports = { app, breaker, fallbackBucket, retryStats, pool, store };
