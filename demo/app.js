// The Express app from the seed (shared/seed-resilience-patterns.txt), as an
// opossum user writes it, with two changes: `require('fusewire')` in place of
// `require('opossum')`, and the local flaky upstream in place of the public
// API. Below the seed's breaker sit two of fusewire's other policies: a retry
// with backoff on the idempotent GET, and a token bucket on the fallback path.
const express = require('express');
const axios = require('axios');
const CircuitBreaker = require('fusewire');
const { retry, TokenBucket } = require('fusewire');

const app = express();
const PORT = process.env.PORT || 3000;
const UPSTREAM_URL = process.env.UPSTREAM_URL || 'http://127.0.0.1:3001';

// Counted for the dashboard; a real app would log or export these.
const retryStats = { calls: 0, attempts: 0, retries: 0, exhausted: 0 };

// Only failures that another try can fix: the upstream's 5xx and dropped connections.
const retryable = err => !err.response || err.response.status >= 500;

async function fetchData() {
    retryStats.calls++;
    try {
        return await retry(async () => {
            retryStats.attempts++;
            const response = await axios.get(`${UPSTREAM_URL}/posts/1`);
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

// Create a circuit breaker around that function
const breakerOptions = {
    timeout: 3000,                      // 3 seconds before timing out
    errorThresholdPercentage: 50,       // open circuit if 50% of requests fail
    resetTimeout: Number(process.env.DEMO_RESET_TIMEOUT) || 10000  // after 10s, try again
};

const breaker = new CircuitBreaker(fetchData, breakerOptions);

// The fallback is cheap here, but in a real app it hits a cache or a second
// service that must not take the whole load the moment the breaker opens.
const fallbackBucket = new TokenBucket({ capacity: 5, refill: 5, interval: 1000 });

// Add a fallback in case the breaker is open
breaker.fallback(() => {
    if (!fallbackBucket.tryTake()) {
        throw new Error('Fallback rate limit exceeded');
    }
    return { message: 'Service temporarily unavailable. Please try again later.' };
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

module.exports = { app, breaker, fallbackBucket, retryStats };
