/* The lock-free shared forms (fusewire_shared_*) from C: every function and
 * every status code they return, the same scenarios as the single-owner
 * forms with identical answers required, and threads racing on one object
 * of each form with the clock injected (no sleeps). Built as C99 and as
 * C++, run under ASan+UBSan, valgrind and ThreadSanitizer by `make test`. */
#define _POSIX_C_SOURCE 200112L /* pthread_barrier_t */
#include "fusewire_shared.h"
#include "check.h"

/* The slot a bulkhead hands out at tick 0 (epoch 0) for a priority: the
 * tests give back by priority, as the core counts. */
static fusewire_bulkhead_slot slot_of(uint32_t priority) {
    fusewire_bulkhead_slot s;
    s.raw = priority;
    return s;
}

/* A permit from a raw value: a forged one, for the refusal paths. */
static fusewire_permit permit_of(uint64_t raw) {
    fusewire_permit p;
    p.raw = raw;
    return p;
}

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* The sizes the header promises, known to the compiler. */
typedef char shared_breaker_fits[(sizeof(fusewire_shared_breaker) == 200) ? 1 : -1];
typedef char shared_bucket_fits[(sizeof(fusewire_shared_bucket) == 40) ? 1 : -1];
typedef char shared_budget_fits[(sizeof(fusewire_shared_budget) == 40) ? 1 : -1];
typedef char shared_bulkhead_fits[(sizeof(fusewire_shared_bulkhead) == 120) ? 1 : -1];

static fusewire_breaker_config breaker_cfg(uint32_t min_calls, uint32_t probes) {
    fusewire_breaker_config c;
    EXPECT(fusewire_breaker_config_default(&c), FUSEWIRE_STATUS_OK);
    c.min_calls = min_calls;
    c.half_open_probes = probes;
    return c;
}

static int same_transition(fusewire_transition a, fusewire_transition b) {
    return a.moved == b.moved && a.from == b.from && a.to == b.to && a.reason == b.reason;
}

/* Equal but for the permit bookkeeping, which is the single-owner form's
 * only (the shared form reports no permits out and refuses only made-up
 * permits). */
static int same_stats(const fusewire_breaker_stats *a, const fusewire_breaker_stats *b) {
    fusewire_breaker_stats x = *a, y = *b;
    x.permits_out = y.permits_out = 0;
    x.refused_permits = y.refused_permits = 0;
    return memcmp(&x, &y, sizeof x) == 0;
}

/* One permit from each form: each form takes back only its own. */
typedef struct {
    fusewire_permit s, h;
} permit_pair;

static int all_zero(const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    size_t i;
    for (i = 0; i < n; i++) {
        if (b[i] != 0) return 0;
    }
    return 1;
}

/* Acquire on both forms; the answers must match (the permits in their
 * generation and probe bits: the ticket and tag above are the single-owner
 * form's). Returns both permits. */
static permit_pair both_acquire(fusewire_breaker *s, const fusewire_shared_breaker *h,
                                    uint64_t now, fusewire_status want) {
    fusewire_permit p1 = {0}, p2 = {0};
    uint64_t w1 = 0, w2 = 0;
    fusewire_transition t1, t2;
    memset(&t1, 0, sizeof t1);
    memset(&t2, 0, sizeof t2);
    EXPECT(fusewire_breaker_acquire(s, fusewire_tick_of(now), &p1, &w1, &t1), want);
    EXPECT(fusewire_shared_breaker_acquire(h, fusewire_tick_of(now), &p2, &w2, &t2), want);
    CHECK((p1.raw & 0x1FFFF) == (p2.raw & 0x1FFFF) && w1 == w2 && same_transition(t1, t2));
    {
        permit_pair pp;
        pp.s = p1;
        pp.h = p2;
        return pp;
    }
}

static fusewire_transition both_record(fusewire_breaker *s, const fusewire_shared_breaker *h,
                                       permit_pair p, uint32_t outcome, uint64_t duration,
                                       uint64_t now) {
    fusewire_transition t1, t2;
    memset(&t1, 0, sizeof t1);
    memset(&t2, 0, sizeof t2);
    EXPECT(fusewire_breaker_record(s, fusewire_tick_of(now), p.s, outcome, duration, &t1), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_record(h, fusewire_tick_of(now), p.h, outcome, duration, &t2), FUSEWIRE_STATUS_OK);
    CHECK(same_transition(t1, t2));
    return t2;
}

static void both_look(fusewire_breaker *s, const fusewire_shared_breaker *h, uint64_t now) {
    fusewire_breaker_stats a, b;
    uint32_t sa = 99, sb = 98;
    EXPECT(fusewire_breaker_state(s, &sa), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_state(h, &sb), FUSEWIRE_STATUS_OK);
    CHECK(sa == sb);
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    EXPECT(fusewire_breaker_snapshot(s, fusewire_tick_of(now), &a), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_snapshot(h, fusewire_tick_of(now), &b), FUSEWIRE_STATUS_OK);
    CHECK(same_stats(&a, &b));
}

/* core/src/lib.rs doc example on both forms, then two half-open probes
 * with a release, a failed probe reopening for longer, probes passing, and
 * every host command: identical answers. */
static void test_breaker_same_as_single(void) {
    fusewire_breaker s;
    static fusewire_shared_breaker h;
    fusewire_breaker_config cfg = breaker_cfg(4, 2);
    fusewire_transition t1, t2;
    fusewire_permit p;
    permit_pair pp, p1, p2;
    uint64_t now = 0;
    int i;
    cfg.open_backoff.schedule = FUSEWIRE_SCHEDULE_EXPONENTIAL;
    cfg.open_backoff.factor_milli = 2000;
    cfg.open_backoff.cap = 8000;
    EXPECT(fusewire_breaker_init(&s, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_init(&h, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 4; i++) {
        pp = both_acquire(&s, &h, now, FUSEWIRE_STATUS_OK);
        t2 = both_record(&s, &h, pp, FUSEWIRE_OUTCOME_FAILURE, 5, now);
        now += 10;
    }
    CHECK(t2.moved && t2.to == FUSEWIRE_STATE_OPEN && t2.reason == FUSEWIRE_REASON_FAILURE_RATE);
    {
        uint64_t w = 0;
        EXPECT(fusewire_shared_breaker_acquire(&h, fusewire_tick_of(now), &p, &w, NULL), FUSEWIRE_STATUS_REJECTED);
        CHECK(w == 990);
        EXPECT(fusewire_breaker_acquire(&s, fusewire_tick_of(now), &p, &w, NULL), FUSEWIRE_STATUS_REJECTED);
    }
    both_look(&s, &h, now);
    p1 = both_acquire(&s, &h, 1030, FUSEWIRE_STATUS_OK);
    p2 = both_acquire(&s, &h, 1031, FUSEWIRE_STATUS_OK);
    both_acquire(&s, &h, 1032, FUSEWIRE_STATUS_REJECTED);
    EXPECT(fusewire_breaker_release(&s, fusewire_tick_of(1033), p2.s, &t1), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_release(&h, fusewire_tick_of(1033), p2.h, &t2), FUSEWIRE_STATUS_OK);
    CHECK(same_transition(t1, t2) && t2.moved == 0);
    p2 = both_acquire(&s, &h, 1034, FUSEWIRE_STATUS_OK);
    both_look(&s, &h, 1034);
    t2 = both_record(&s, &h, p1, FUSEWIRE_OUTCOME_FAILURE, 1, 1040);
    CHECK(t2.moved && t2.to == FUSEWIRE_STATE_OPEN && t2.reason == FUSEWIRE_REASON_PROBES_FAILED);
    both_record(&s, &h, p2, FUSEWIRE_OUTCOME_SUCCESS, 1, 1041);
    both_look(&s, &h, 1041);
    EXPECT(fusewire_breaker_poll(&s, fusewire_tick_of(3040), &t1), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_poll(&h, fusewire_tick_of(3040), &t2), FUSEWIRE_STATUS_OK);
    CHECK(same_transition(t1, t2) && t2.to == FUSEWIRE_STATE_HALF_OPEN); /* 2000 ticks: doubled */
    p1 = both_acquire(&s, &h, 3041, FUSEWIRE_STATUS_OK);
    p2 = both_acquire(&s, &h, 3042, FUSEWIRE_STATUS_OK);
    both_record(&s, &h, p1, FUSEWIRE_OUTCOME_SUCCESS, 1, 3043);
    t2 = both_record(&s, &h, p2, FUSEWIRE_OUTCOME_SUCCESS, 1, 3044);
    CHECK(t2.moved && t2.to == FUSEWIRE_STATE_CLOSED && t2.reason == FUSEWIRE_REASON_PROBES_PASSED);
    pp = both_acquire(&s, &h, 3045, FUSEWIRE_STATUS_OK);
    both_record(&s, &h, pp, FUSEWIRE_OUTCOME_TIMEOUT, 900, 3046);
    pp = both_acquire(&s, &h, 3046, FUSEWIRE_STATUS_OK);
    both_record(&s, &h, pp, FUSEWIRE_OUTCOME_IGNORED, 1, 3047);
    both_look(&s, &h, 3048);

    EXPECT(fusewire_breaker_trip(&s, fusewire_tick_of(4000), &t1), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_trip(&h, fusewire_tick_of(4000), &t2), FUSEWIRE_STATUS_OK);
    CHECK(same_transition(t1, t2) && t2.to == FUSEWIRE_STATE_OPEN && t2.reason == FUSEWIRE_REASON_HOST);
    EXPECT(fusewire_breaker_force_open(&s, fusewire_tick_of(4001), &t1), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_force_open(&h, fusewire_tick_of(4001), &t2), FUSEWIRE_STATUS_OK);
    CHECK(same_transition(t1, t2) && t2.to == FUSEWIRE_STATE_FORCED_OPEN);
    {
        uint64_t w = 0;
        EXPECT(fusewire_shared_breaker_acquire(&h, fusewire_tick_of(4002), &p, &w, NULL), FUSEWIRE_STATUS_REJECTED);
        CHECK(w == UINT64_MAX);
    }
    both_acquire(&s, &h, 4002, FUSEWIRE_STATUS_REJECTED);
    EXPECT(fusewire_breaker_disable(&s, fusewire_tick_of(4003), &t1), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_disable(&h, fusewire_tick_of(4003), &t2), FUSEWIRE_STATUS_OK);
    CHECK(same_transition(t1, t2) && t2.to == FUSEWIRE_STATE_DISABLED);
    pp = both_acquire(&s, &h, 4004, FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_release(&h, fusewire_tick_of(4004), pp.h, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_breaker_release(&s, fusewire_tick_of(4004), pp.s, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_breaker_close(&s, fusewire_tick_of(4005), &t1), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_close(&h, fusewire_tick_of(4005), &t2), FUSEWIRE_STATUS_OK);
    CHECK(same_transition(t1, t2) && t2.to == FUSEWIRE_STATE_CLOSED);
    EXPECT(fusewire_breaker_reset(&s, fusewire_tick_of(4006), &t1), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_reset(&h, fusewire_tick_of(4006), &t2), FUSEWIRE_STATUS_OK);
    CHECK(same_transition(t1, t2) && t2.moved == 0);
    EXPECT(fusewire_breaker_poll(&s, fusewire_tick_of(4007), &t1), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_poll(&h, fusewire_tick_of(4007), &t2), FUSEWIRE_STATUS_OK);
    CHECK(same_transition(t1, t2) && t2.moved == 0);
    both_look(&s, &h, 4008);
}

/* A transition left half made, as a process killed between the state
 * word's compare-and-swap and its stores leaves it: the word says open
 * (generation + 1), nothing else landed. The test writes that word itself:
 * the object's bytes 8..16 (after its 4-byte tag and padding) are the core
 * breaker's state word (bits 0..4 the state, 32..64 the generation), which
 * is checked first against a trip made through the API. The breaker then
 * makes no automatic move; _pending names the generation and _repair
 * lands its stores as of its `now`, so the open period runs from there. */
static uint64_t state_word(const fusewire_shared_breaker *h) {
    uint64_t w;
    memcpy(&w, (const char *)h + 8, sizeof w);
    return w;
}

static void test_breaker_repair(void) {
    static fusewire_shared_breaker h;
    fusewire_breaker_config cfg = breaker_cfg(4, 1);
    fusewire_transition t;
    fusewire_permit p;
    uint32_t pending = 7, gen = 0, repaired = 7;
    uint64_t w = 0, dead;
    cfg.consecutive_failures = 1;
    cfg.open_backoff.base = 100; /* constant backoff: open for 100 ticks */
    EXPECT(fusewire_shared_breaker_init(&h, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_pending(&h, &pending, &gen), FUSEWIRE_STATUS_OK);
    CHECK(pending == 0 && gen == 0);
    /* Where the state word is: a trip and a close through the API. */
    EXPECT(fusewire_shared_breaker_trip(&h, fusewire_tick_of(0), &t), FUSEWIRE_STATUS_OK);
    CHECK(state_word(&h) == ((uint64_t)1 << 32 | FUSEWIRE_STATE_OPEN));
    EXPECT(fusewire_shared_breaker_close(&h, fusewire_tick_of(1), &t), FUSEWIRE_STATUS_OK);
    CHECK(state_word(&h) == ((uint64_t)2 << 32 | FUSEWIRE_STATE_CLOSED));
    EXPECT(fusewire_shared_breaker_pending(&h, &pending, NULL), FUSEWIRE_STATUS_OK);
    CHECK(pending == 0);

    /* The dying trip: generation 3 decided, open, nothing stored. */
    dead = (uint64_t)3 << 32 | FUSEWIRE_STATE_OPEN;
    memcpy((char *)&h + 8, &dead, sizeof dead);
    EXPECT(fusewire_shared_breaker_pending(&h, &pending, &gen), FUSEWIRE_STATUS_OK);
    CHECK(pending == 1 && gen == 3);
    EXPECT(fusewire_shared_breaker_poll(&h, fusewire_tick_of(1000000), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved == 0); /* no automatic move while it is pending */
    EXPECT(fusewire_shared_breaker_acquire(&h, fusewire_tick_of(1000000), &p, &w, NULL), FUSEWIRE_STATUS_REJECTED);

    EXPECT(fusewire_shared_breaker_repair(&h, fusewire_tick_of(1000000), 4, &repaired), FUSEWIRE_STATUS_OK);
    CHECK(repaired == 0); /* not the pending generation */
    EXPECT(fusewire_shared_breaker_repair(&h, fusewire_tick_of(1000000), 3, &repaired), FUSEWIRE_STATUS_OK);
    CHECK(repaired == 1);
    EXPECT(fusewire_shared_breaker_repair(&h, fusewire_tick_of(1000000), 3, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_repair(&h, fusewire_tick_of(1000000), 3, &repaired), FUSEWIRE_STATUS_OK);
    CHECK(repaired == 0); /* once */
    EXPECT(fusewire_shared_breaker_pending(&h, &pending, &gen), FUSEWIRE_STATUS_OK);
    CHECK(pending == 0);

    /* Open for its backoff from the repair, then half-open, then closed. */
    EXPECT(fusewire_shared_breaker_acquire(&h, fusewire_tick_of(1000050), &p, &w, NULL), FUSEWIRE_STATUS_REJECTED);
    CHECK(w == 50);
    EXPECT(fusewire_shared_breaker_poll(&h, fusewire_tick_of(1000100), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved && t.from == FUSEWIRE_STATE_OPEN && t.to == FUSEWIRE_STATE_HALF_OPEN &&
          t.reason == FUSEWIRE_REASON_OPEN_ELAPSED);
    EXPECT(fusewire_shared_breaker_acquire(&h, fusewire_tick_of(1000100), &p, &w, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_record(&h, fusewire_tick_of(1000101), p, FUSEWIRE_OUTCOME_SUCCESS, 1, &t),
           FUSEWIRE_STATUS_OK);
    CHECK(t.moved && t.to == FUSEWIRE_STATE_CLOSED);
}

static void test_breaker_errors(void) {
    static fusewire_shared_breaker zero; /* static: zeroed, never initialised */
    fusewire_shared_breaker b;
    fusewire_breaker_config cfg = breaker_cfg(4, 1);
    fusewire_config_error e = {0, 0};
    fusewire_transition t;
    fusewire_breaker_stats sn;
    fusewire_permit p = {5};
    uint64_t w = 6;
    uint32_t st = 9;
    uint64_t raw[40];
    memset(&b, 0xA5, sizeof b); /* stack garbage */
    memset(raw, 0, sizeof raw);
    memset(&t, 7, sizeof t);

    EXPECT(fusewire_shared_breaker_acquire(&zero, fusewire_tick_of(0), &p, &w, &t), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_acquire(&b, fusewire_tick_of(0), &p, &w, &t), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_record(&b, fusewire_tick_of(0), permit_of(0), 0, 0, &t), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_release(&b, fusewire_tick_of(0), permit_of(0), &t), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_poll(&b, fusewire_tick_of(0), &t), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_trip(&b, fusewire_tick_of(0), &t), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_close(&b, fusewire_tick_of(0), &t), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_force_open(&b, fusewire_tick_of(0), &t), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_disable(&b, fusewire_tick_of(0), &t), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_reset(&b, fusewire_tick_of(0), &t), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_state(&b, &st), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_snapshot(&b, fusewire_tick_of(0), &sn), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_pending(&b, &st, &st), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_repair(&b, fusewire_tick_of(0), 1, &st), FUSEWIRE_STATUS_NOT_INITIALIZED);
    CHECK(p.raw == 5 && w == 6 && st == 9 && t.moved == 7); /* nothing written */

    EXPECT(fusewire_shared_breaker_init(NULL, &cfg, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_init(&b, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_acquire(NULL, fusewire_tick_of(0), &p, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_record(NULL, fusewire_tick_of(0), permit_of(0), 0, 0, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_release(NULL, fusewire_tick_of(0), permit_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_poll(NULL, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_trip(NULL, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_close(NULL, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_force_open(NULL, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_disable(NULL, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_reset(NULL, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_state(NULL, &st), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_snapshot(NULL, fusewire_tick_of(0), &sn), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_pending(NULL, &st, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_repair(NULL, fusewire_tick_of(0), 1, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_init((fusewire_shared_breaker *)(void *)((char *)raw + 4), &cfg, NULL),
           FUSEWIRE_STATUS_INVALID_ARGUMENT);
    EXPECT(fusewire_shared_breaker_poll(
                                        (const fusewire_shared_breaker *)(const void *)((char *)raw + 4),
                                        fusewire_tick_of(0),
                                        NULL),
           FUSEWIRE_STATUS_INVALID_ARGUMENT);
    CHECK(all_zero(raw, sizeof raw));

    /* A single-owner breaker is not a shared one, nor the reverse. */
    EXPECT(fusewire_breaker_init((fusewire_breaker *)(void *)raw, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_poll((const fusewire_shared_breaker *)(const void *)raw, fusewire_tick_of(0), NULL),
           FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_breaker_init((fusewire_shared_breaker *)(void *)raw, &cfg, NULL),
           FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_breaker_poll((fusewire_breaker *)(void *)raw, fusewire_tick_of(0), NULL),
           FUSEWIRE_STATUS_NOT_INITIALIZED);

    cfg.half_open_probes = 128; /* the shared form counts at most 127 */
    EXPECT(fusewire_shared_breaker_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_HALF_OPEN_PROBES && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    cfg.half_open_probes = 0;
    EXPECT(fusewire_shared_breaker_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_HALF_OPEN_PROBES && e.problem == FUSEWIRE_PROBLEM_ZERO);
    cfg = breaker_cfg(4, 1);
    cfg.failure_rate_ppm = FUSEWIRE_PERCENT(150);
    EXPECT(fusewire_shared_breaker_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_FAILURE_RATE && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    cfg = breaker_cfg(4, 1);
    cfg.half_open_rule = 2;
    EXPECT(fusewire_shared_breaker_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_HALF_OPEN_RULE);
    cfg = breaker_cfg(4, 1);
    cfg.open_backoff.cap = 1;
    EXPECT(fusewire_shared_breaker_init(&b, &cfg, NULL), FUSEWIRE_STATUS_INVALID_CONFIG);
    EXPECT(fusewire_shared_breaker_poll(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NOT_INITIALIZED); /* untouched */

    cfg = breaker_cfg(4, 127);
    EXPECT(fusewire_shared_breaker_init(&b, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_acquire(&b, fusewire_tick_of(0), NULL, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_state(&b, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_snapshot(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_breaker_acquire(&b, fusewire_tick_of(0), &p, NULL, NULL), FUSEWIRE_STATUS_OK);
    memset(&t, 7, sizeof t);
    EXPECT(fusewire_shared_breaker_record(&b, fusewire_tick_of(0), p, 4, 0, &t), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    CHECK(t.moved == 7);
    EXPECT(fusewire_shared_breaker_record(&b, fusewire_tick_of(0), p, FUSEWIRE_OUTCOME_SUCCESS, 1, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_state(&b, &st), FUSEWIRE_STATUS_OK);
    CHECK(st == FUSEWIRE_STATE_CLOSED);
    EXPECT(fusewire_shared_breaker_snapshot(&b, fusewire_tick_of(1), &sn), FUSEWIRE_STATUS_OK);
    CHECK(sn.successes == 1 && sn.state == FUSEWIRE_STATE_CLOSED);
}

/* core bucket tests: starts_full_drains_and_says_when, zero_is_free_and_more_than_burst_is_never. */
static void test_bucket(void) {
    fusewire_bucket s;
    static fusewire_shared_bucket h;
    fusewire_shared_bucket garbage;
    fusewire_bucket_config cfg;
    fusewire_config_error e = {0, 0};
    /* op: 0 acquire n, 1 refund n, 2 available */
    static const struct { int op; uint32_t n; uint64_t now; } steps[] = {
        {2, 0, 0}, {0, 1, 0}, {0, 1, 0}, {0, 1, 0}, {0, 1, 0}, {0, 1, 99}, {0, 1, 100},
        {2, 0, 100}, {2, 0, 400}, {0, 4, 400}, {0, 0, 400}, {0, 3, 400}, {1, 2, 400},
        {2, 0, 400}, {0, 3, 400}, {0, 2, 450}, {1, 9, 460}, {2, 0, 460},
    };
    uint64_t w1, w2;
    uint32_t a1, a2;
    size_t i;
    int limited = 0, exceeded = 0;
    cfg.period = 100;
    cfg.tokens = 1;
    cfg.burst = 3;
    EXPECT(fusewire_shared_bucket_refund(&h, fusewire_tick_of(0), 1), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_bucket_init(&s, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_bucket_init(&h, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        fusewire_status r1, r2;
        w1 = w2 = 0;
        a1 = a2 = 0;
        if (steps[i].op == 0) {
            r1 = fusewire_bucket_acquire(&s, fusewire_tick_of(steps[i].now), steps[i].n, &w1);
            r2 = fusewire_shared_bucket_acquire(&h, fusewire_tick_of(steps[i].now), steps[i].n, &w2);
        } else if (steps[i].op == 1) {
            r1 = fusewire_bucket_refund(&s, fusewire_tick_of(steps[i].now), steps[i].n);
            r2 = fusewire_shared_bucket_refund(&h, fusewire_tick_of(steps[i].now), steps[i].n);
        } else {
            r1 = fusewire_bucket_available(&s, fusewire_tick_of(steps[i].now), &a1);
            r2 = fusewire_shared_bucket_available(&h, fusewire_tick_of(steps[i].now), &a2);
        }
        CHECK(r1 == r2 && w1 == w2 && a1 == a2);
        limited += r2 == FUSEWIRE_STATUS_RATE_LIMITED;
        exceeded += r2 == FUSEWIRE_STATUS_EXCEEDS_BURST;
        if (i == 4) CHECK(r2 == FUSEWIRE_STATUS_RATE_LIMITED && w2 == 100);
        if (i == 5) CHECK(r2 == FUSEWIRE_STATUS_RATE_LIMITED && w2 == 1);
        if (i == 13) CHECK(r2 == FUSEWIRE_STATUS_OK && a2 == 2);
    }
    CHECK(limited == 3 && exceeded == 1);

    memset(&garbage, 0x5A, sizeof garbage);
    w1 = 7;
    a1 = 7;
    EXPECT(fusewire_shared_bucket_acquire(&garbage, fusewire_tick_of(0), 1, &w1), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_bucket_refund(&garbage, fusewire_tick_of(0), 1), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_bucket_available(&garbage, fusewire_tick_of(0), &a1), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_shared_bucket_acquire(NULL, fusewire_tick_of(0), 1, &w1), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_bucket_refund(NULL, fusewire_tick_of(0), 1), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_bucket_available(NULL, fusewire_tick_of(0), &a1), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_bucket_available(&h, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_bucket_init(NULL, &cfg, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_bucket_init(&garbage, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    CHECK(w1 == 7 && a1 == 7);
    {
        uint64_t raw[8];
        memset(raw, 0, sizeof raw);
        EXPECT(fusewire_shared_bucket_init((fusewire_shared_bucket *)(void *)((char *)raw + 4), &cfg, NULL),
               FUSEWIRE_STATUS_INVALID_ARGUMENT);
        EXPECT(fusewire_shared_bucket_refund((const fusewire_shared_bucket *)(const void *)((char *)raw + 4), fusewire_tick_of(0), 1),
               FUSEWIRE_STATUS_INVALID_ARGUMENT);
        CHECK(all_zero(raw, sizeof raw));
        EXPECT(fusewire_bucket_init((fusewire_bucket *)(void *)raw, &cfg, NULL), FUSEWIRE_STATUS_OK);
        EXPECT(fusewire_shared_bucket_refund((const fusewire_shared_bucket *)(const void *)raw, fusewire_tick_of(0), 1),
               FUSEWIRE_STATUS_NOT_INITIALIZED);
    }
    cfg.burst = 0;
    EXPECT(fusewire_shared_bucket_init(&garbage, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BUCKET_BURST && e.problem == FUSEWIRE_PROBLEM_ZERO);
    cfg.burst = 2;
    cfg.tokens = 0;
    EXPECT(fusewire_shared_bucket_init(&garbage, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BUCKET_TOKENS && e.problem == FUSEWIRE_PROBLEM_ZERO);
    cfg.tokens = 1;
    cfg.period = 0;
    EXPECT(fusewire_shared_bucket_init(&garbage, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BUCKET_PERIOD);
    cfg.period = (uint64_t)1 << 62; /* burst * period reaches 2^63: too long for the word */
    EXPECT(fusewire_shared_bucket_init(&garbage, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BUCKET_BURST && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    EXPECT(fusewire_shared_bucket_refund(&garbage, fusewire_tick_of(0), 1), FUSEWIRE_STATUS_NOT_INITIALIZED); /* untouched */
}

/* core budget tests: follows_the_grpc_example, on both forms. */
static void test_budget(void) {
    fusewire_budget s;
    static fusewire_shared_budget h;
    fusewire_budget_config cfg;
    fusewire_config_error e = {0, 0};
    const char *ops = "FFFFRFRTSSSRTSFFFFFFFFFFFFRTSSSSSSSSSSSSSSRT";
    uint64_t m1, t1, m2, t2;
    size_t i;
    cfg.max_tokens = 10;
    cfg.token_ratio_milli = 100;
    EXPECT(fusewire_shared_budget_try_retry(&h), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_budget_init(&s, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_budget_init(&h, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; ops[i] != '\0'; i++) {
        fusewire_status r1, r2;
        m1 = t1 = m2 = t2 = 0;
        switch (ops[i]) {
        case 'F':
            r1 = fusewire_budget_record_failure(&s);
            r2 = fusewire_shared_budget_record_failure(&h);
            break;
        case 'S':
            r1 = fusewire_budget_record_success(&s);
            r2 = fusewire_shared_budget_record_success(&h);
            break;
        case 'R':
            r1 = fusewire_budget_try_retry(&s);
            r2 = fusewire_shared_budget_try_retry(&h);
            break;
        default:
            r1 = fusewire_budget_tokens(&s, &m1, &t1);
            r2 = fusewire_shared_budget_tokens(&h, &m2, &t2);
        }
        CHECK(r1 == r2 && m1 == m2 && t1 == t2);
        if (i == 6) CHECK(r2 == FUSEWIRE_STATUS_THROTTLED);
        if (i == 7) CHECK(m2 == 5000 && t2 == 1);
    }
    CHECK(m2 == 1400 && t2 == 3);
    EXPECT(fusewire_shared_budget_tokens(&h, NULL, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_budget_record_success(NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_budget_record_failure(NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_budget_try_retry(NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_budget_tokens(NULL, &m2, &t2), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_budget_init(NULL, &cfg, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    {
        fusewire_shared_budget b;
        memset(&b, 0xA5, sizeof b);
        EXPECT(fusewire_shared_budget_record_success(&b), FUSEWIRE_STATUS_NOT_INITIALIZED);
        EXPECT(fusewire_shared_budget_record_failure(&b), FUSEWIRE_STATUS_NOT_INITIALIZED);
        EXPECT(fusewire_shared_budget_tokens(&b, &m2, &t2), FUSEWIRE_STATUS_NOT_INITIALIZED);
        EXPECT(fusewire_shared_budget_init(&b, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
        cfg.max_tokens = 1;
        cfg.token_ratio_milli = 1001;
        EXPECT(fusewire_shared_budget_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
        CHECK(e.field == FUSEWIRE_FIELD_BUDGET_TOKEN_RATIO_MILLI && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
        cfg.max_tokens = 0;
        EXPECT(fusewire_shared_budget_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
        CHECK(e.field == FUSEWIRE_FIELD_BUDGET_MAX_TOKENS && e.problem == FUSEWIRE_PROBLEM_ZERO);
        EXPECT(fusewire_shared_budget_try_retry(&b), FUSEWIRE_STATUS_NOT_INITIALIZED);
    }
    {
        uint64_t raw[8];
        memset(raw, 0, sizeof raw);
        cfg.max_tokens = 1;
        cfg.token_ratio_milli = 1;
        EXPECT(fusewire_shared_budget_init((fusewire_shared_budget *)(void *)((char *)raw + 4), &cfg, NULL),
               FUSEWIRE_STATUS_INVALID_ARGUMENT);
        EXPECT(fusewire_shared_budget_try_retry((const fusewire_shared_budget *)(const void *)((char *)raw + 4)),
               FUSEWIRE_STATUS_INVALID_ARGUMENT);
        CHECK(all_zero(raw, sizeof raw));
        EXPECT(fusewire_budget_init((fusewire_budget *)(void *)raw, &cfg, NULL), FUSEWIRE_STATUS_OK);
        EXPECT(fusewire_shared_budget_try_retry((const fusewire_shared_budget *)(const void *)raw),
               FUSEWIRE_STATUS_NOT_INITIALIZED);
    }
}

/* core bulkhead tests: reserves_keep_the_last_slots_for_higher_priorities,
 * extra_release_is_reported_not_obeyed, on both forms. */
static void test_bulkhead(void) {
    fusewire_bulkhead s;
    static fusewire_shared_bulkhead h;
    fusewire_bulkhead_config cfg;
    fusewire_config_error e = {0, 0};
    /* op: 0 acquire, 1 release, 2 usage; priority */
    static const int ops[][2] = {{0, 2}, {0, 2}, {0, 2}, {0, 2}, {2, 1}, {0, 1}, {0, 1}, {0, 0},
                                 {0, 0}, {0, 3}, {1, 3}, {2, 3}, {2, 0}, {1, 2}, {1, 2}, {1, 2},
                                 {1, 1}, {1, 0}, {1, 1}, {2, 0}, {2, 2}};
    uint32_t u1, v1, u2, v2;
    size_t i;
    cfg.limit = 5;
    cfg.reserve_critical = 1;
    cfg.reserve_normal = 1;
    cfg.lease = 0; /* the default: 60000 ticks */
    EXPECT(fusewire_shared_bulkhead_acquire(&h, fusewire_tick_of(0), 0, &(fusewire_bulkhead_slot){0}), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_bulkhead_init(&s, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_bulkhead_init(&h, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        fusewire_status r1, r2;
        uint32_t p = (uint32_t)ops[i][1];
        u1 = v1 = u2 = v2 = 99;
        if (ops[i][0] == 0) {
            r1 = fusewire_bulkhead_acquire(&s, fusewire_tick_of(0), p, &(fusewire_bulkhead_slot){0});
            r2 = fusewire_shared_bulkhead_acquire(&h, fusewire_tick_of(0), p, &(fusewire_bulkhead_slot){0});
        } else if (ops[i][0] == 1) {
            r1 = fusewire_bulkhead_release(&s, fusewire_tick_of(0), slot_of(p));
            r2 = fusewire_shared_bulkhead_release(&h, fusewire_tick_of(0), slot_of(p));
        } else {
            r1 = fusewire_bulkhead_usage(&s, p, &u1, &v1);
            r2 = fusewire_shared_bulkhead_usage(&h, p, &u2, &v2);
        }
        CHECK(r1 == r2 && u1 == u2 && v1 == v2);
        if (i == 3) CHECK(r2 == FUSEWIRE_STATUS_BULKHEAD_FULL);
        if (i == 4) CHECK(u2 == 3 && v2 == 1);
        if (i == 9 || i == 11) CHECK(r2 == FUSEWIRE_STATUS_INVALID_ARGUMENT);
        if (i == 10) CHECK(r2 == FUSEWIRE_STATUS_NOT_HELD); /* a slot of priority 3: made up */
        if (i == 18) CHECK(r2 == FUSEWIRE_STATUS_NOT_HELD);
        if (i == 19) CHECK(u2 == 0 && v2 == 5);
    }
    EXPECT(fusewire_shared_bulkhead_usage(&h, 0, NULL, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_bulkhead_acquire(NULL, fusewire_tick_of(0), 0, &(fusewire_bulkhead_slot){0}), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_bulkhead_release(NULL, fusewire_tick_of(0), slot_of(0)), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_bulkhead_usage(NULL, 0, &u2, &v2), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_shared_bulkhead_init(NULL, &cfg, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    {
        fusewire_shared_bulkhead b;
        memset(&b, 0xA5, sizeof b);
        EXPECT(fusewire_shared_bulkhead_release(&b, fusewire_tick_of(0), slot_of(0)), FUSEWIRE_STATUS_NOT_INITIALIZED);
        EXPECT(fusewire_shared_bulkhead_usage(&b, 0, &u2, &v2), FUSEWIRE_STATUS_NOT_INITIALIZED);
        EXPECT(fusewire_shared_bulkhead_init(&b, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
        cfg.limit = 4;
        cfg.reserve_critical = 4;
        cfg.reserve_normal = 0;
        EXPECT(fusewire_shared_bulkhead_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
        CHECK(e.field == FUSEWIRE_FIELD_BULKHEAD_RESERVE_CRITICAL && e.problem == FUSEWIRE_PROBLEM_INCONSISTENT);
        cfg.reserve_critical = 2;
        cfg.reserve_normal = 2;
        EXPECT(fusewire_shared_bulkhead_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
        CHECK(e.field == FUSEWIRE_FIELD_BULKHEAD_RESERVE_NORMAL);
        cfg.limit = 0;
        EXPECT(fusewire_shared_bulkhead_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
        CHECK(e.field == FUSEWIRE_FIELD_BULKHEAD_LIMIT && e.problem == FUSEWIRE_PROBLEM_ZERO);
        EXPECT(fusewire_shared_bulkhead_acquire(&b, fusewire_tick_of(0), 0, &(fusewire_bulkhead_slot){0}), FUSEWIRE_STATUS_NOT_INITIALIZED);
    }
    {
        uint64_t raw[8];
        memset(raw, 0, sizeof raw);
        cfg.limit = 1;
        cfg.reserve_critical = 0;
        cfg.reserve_normal = 0;
        EXPECT(fusewire_shared_bulkhead_init((fusewire_shared_bulkhead *)(void *)((char *)raw + 4), &cfg, NULL),
               FUSEWIRE_STATUS_INVALID_ARGUMENT);
        EXPECT(fusewire_shared_bulkhead_acquire((const fusewire_shared_bulkhead *)(const void *)((char *)raw + 4), fusewire_tick_of(0), 0, &(fusewire_bulkhead_slot){0}),
               FUSEWIRE_STATUS_INVALID_ARGUMENT);
        CHECK(all_zero(raw, sizeof raw));
        EXPECT(fusewire_bulkhead_init((fusewire_bulkhead *)(void *)raw, &cfg, NULL), FUSEWIRE_STATUS_OK);
        EXPECT(fusewire_shared_bulkhead_acquire((const fusewire_shared_bulkhead *)(const void *)raw, fusewire_tick_of(0), 0, &(fusewire_bulkhead_slot){0}),
               FUSEWIRE_STATUS_NOT_INITIALIZED);
    }
}

/* ---- Races: four threads on one object of each form, the clock injected.
 * Every tick starts at a barrier, so all threads ask at the same `now` and
 * the expected totals are exact. */

#define THREADS 4
#define TICKS 400
#define TRIES 3 /* per thread per tick */

static fusewire_shared_bucket race_bucket;     /* burst 5, 1 token per 10 ticks */
static fusewire_shared_bulkhead race_bulkhead; /* limit 3 */
static fusewire_shared_budget race_budget;     /* 10000 tokens, started at 9900 */
static fusewire_shared_breaker race_breaker;   /* half-open, 5 probes */
static pthread_barrier_t tick;

#define BURST 5
#define PERIOD 10
#define LIMIT 3
#define PROBES 5

struct job {
    uint64_t grants;       /* bucket tokens taken */
    uint64_t slots;        /* bulkhead slots taken (and given back) */
    uint64_t over_limit;   /* in_use seen above LIMIT: must stay 0 */
    uint64_t bad_release;  /* releases refused: must stay 0 */
    uint64_t probes;       /* half-open probes admitted */
    uint64_t closes;       /* transitions to closed reported */
    fusewire_permit permits[PROBES];
};

static void *race(void *arg) {
    struct job *j = (struct job *)arg;
    uint64_t now;
    int k;
    for (now = 0; now < TICKS; now++) {
        pthread_barrier_wait(&tick);
        for (k = 0; k < TRIES; k++) {
            fusewire_permit p;
            uint32_t in_use = 0;
            if (fusewire_shared_bucket_acquire(&race_bucket, fusewire_tick_of(now), 1, NULL) == FUSEWIRE_STATUS_OK) {
                j->grants++;
            }
            if (fusewire_shared_bulkhead_acquire(&race_bulkhead, fusewire_tick_of(0), FUSEWIRE_PRIORITY_NORMAL, &(fusewire_bulkhead_slot){0}) ==
                FUSEWIRE_STATUS_OK) {
                j->slots++;
                if (fusewire_shared_bulkhead_usage(&race_bulkhead, FUSEWIRE_PRIORITY_NORMAL, &in_use, NULL) !=
                        FUSEWIRE_STATUS_OK ||
                    in_use < 1 || in_use > LIMIT) {
                    j->over_limit++;
                }
                if (fusewire_shared_bulkhead_release(&race_bulkhead, fusewire_tick_of(0), slot_of(FUSEWIRE_PRIORITY_NORMAL)) !=
                    FUSEWIRE_STATUS_OK) {
                    j->bad_release++;
                }
            }
            fusewire_shared_budget_record_failure(&race_budget);
            fusewire_shared_budget_record_success(&race_budget);
            if (fusewire_shared_breaker_acquire(&race_breaker, fusewire_tick_of(1000), &p, NULL, NULL) == FUSEWIRE_STATUS_OK) {
                if (j->probes < PROBES) j->permits[j->probes] = p;
                j->probes++;
            }
        }
    }
    /* Every probe passes; exactly one caller, whichever, reports the close. */
    pthread_barrier_wait(&tick);
    for (k = 0; k < (int)j->probes && k < PROBES; k++) {
        fusewire_transition t;
        if (fusewire_shared_breaker_record(&race_breaker, fusewire_tick_of(1001), j->permits[k], FUSEWIRE_OUTCOME_SUCCESS, 1, &t) ==
                FUSEWIRE_STATUS_OK &&
            t.moved && t.to == FUSEWIRE_STATE_CLOSED) {
            j->closes++;
        }
    }
    return NULL;
}

static void test_race(void) {
    pthread_t th[THREADS];
    struct job jobs[THREADS];
    fusewire_bucket_config bc;
    fusewire_bulkhead_config kc;
    fusewire_budget_config gc;
    fusewire_breaker_config rc = breaker_cfg(4, PROBES);
    fusewire_transition t;
    uint64_t grants = 0, slots = 0, over = 0, bad = 0, probes = 0, closes = 0, milli = 1;
    uint32_t in_use = 99, state = 99;
    int i;
    bc.period = PERIOD;
    bc.tokens = 1;
    bc.burst = BURST;
    kc.limit = LIMIT;
    kc.reserve_critical = 0;
    kc.reserve_normal = 0;
    kc.lease = 0;
    gc.max_tokens = 10000;
    gc.token_ratio_milli = 1000;
    /* Init happens-before the threads start (pthread_create orders it). */
    EXPECT(fusewire_shared_bucket_init(&race_bucket, &bc, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_bulkhead_init(&race_bulkhead, &kc, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_budget_init(&race_budget, &gc, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_init(&race_breaker, &rc, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_trip(&race_breaker, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_shared_breaker_poll(&race_breaker, fusewire_tick_of(1000), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved && t.to == FUSEWIRE_STATE_HALF_OPEN);
    for (i = 0; i < 100; i++) EXPECT(fusewire_shared_budget_record_failure(&race_budget), FUSEWIRE_STATUS_OK);
    CHECK(pthread_barrier_init(&tick, NULL, THREADS) == 0);
    memset(jobs, 0, sizeof jobs);
    for (i = 0; i < THREADS; i++) CHECK(pthread_create(&th[i], NULL, race, &jobs[i]) == 0);
    for (i = 0; i < THREADS; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        grants += jobs[i].grants;
        slots += jobs[i].slots;
        over += jobs[i].over_limit;
        bad += jobs[i].bad_release;
        probes += jobs[i].probes;
        closes += jobs[i].closes;
    }
    pthread_barrier_destroy(&tick);
    /* Burst at tick 0, then one token per PERIOD ticks, never more. */
    CHECK(grants == BURST + (TICKS - 1) / PERIOD);
    CHECK(slots >= TICKS && over == 0 && bad == 0);
    EXPECT(fusewire_shared_bulkhead_usage(&race_bulkhead, FUSEWIRE_PRIORITY_CRITICAL, &in_use, NULL),
           FUSEWIRE_STATUS_OK);
    CHECK(in_use == 0); /* every slot returned */
    /* A failure then a success per try, from 9900 tokens: the count stays
     * within 9900 +- THREADS, clear of both bounds, so each success refills
     * exactly what a failure took and no update is lost. */
    EXPECT(fusewire_shared_budget_tokens(&race_budget, &milli, NULL), FUSEWIRE_STATUS_OK);
    CHECK(milli == 9900u * 1000u);
    CHECK(probes == PROBES && closes == 1);
    EXPECT(fusewire_shared_breaker_state(&race_breaker, &state), FUSEWIRE_STATUS_OK);
    CHECK(state == FUSEWIRE_STATE_CLOSED);
    if (grants != BURST + (TICKS - 1) / PERIOD || probes != PROBES) {
        fprintf(stderr, "race: grants %llu probes %llu closes %llu\n", (unsigned long long)grants,
                (unsigned long long)probes, (unsigned long long)closes);
    }
}

int main(void) {
    test_breaker_same_as_single();
    test_breaker_errors();
    test_breaker_repair();
    test_bucket();
    test_budget();
    test_bulkhead();
    test_race();
    return report();
}
