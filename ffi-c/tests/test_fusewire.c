/* Every function and every status code of fusewire.h, from C. The
 * scenarios repeat core unit tests (same config, same steps, same numbers);
 * each names the test it mirrors. Built as C99 and as C++, run under
 * ASan+UBSan and valgrind by `make test`. */
#include "fusewire.h"
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

#include <stdio.h>
#include <string.h>

/* The sizes the header promises, known to the compiler. */
typedef char breaker_fits[(sizeof(fusewire_breaker) == 184) ? 1 : -1];
typedef char backoff_fits[(sizeof(fusewire_backoff) <= 64) ? 1 : -1];
typedef char bucket_fits[(sizeof(fusewire_bucket) == 40) ? 1 : -1];
typedef char timed_breaker_fits[(sizeof(fusewire_timed_breaker) == 680) ? 1 : -1];

static fusewire_backoff_config backoff_cfg(uint32_t schedule, uint64_t base,
                                           uint32_t factor_milli, uint64_t cap) {
    fusewire_backoff_config c;
    memset(&c, 0, sizeof c);
    c.schedule = schedule;
    c.base = base;
    c.factor_milli = factor_milli;
    c.cap = cap;
    c.jitter = FUSEWIRE_JITTER_NONE;
    return c;
}

static fusewire_breaker_config breaker_cfg(uint32_t min_calls) {
    fusewire_breaker_config c;
    EXPECT(fusewire_breaker_config_default(&c), FUSEWIRE_STATUS_OK);
    c.min_calls = min_calls;
    return c;
}

static void test_texts(void) {
    uint32_t code;
    for (code = 0; code <= FUSEWIRE_STATUS_CORRUPT; code++) {
        if (code == 13) {
            continue; /* retired: was a caught panic */
        }
        const char *t = fusewire_status_text(code);
        CHECK(t != NULL && strlen(t) > 0 && strcmp(t, "unknown status") != 0);
    }
    CHECK(strcmp(fusewire_status_text(999), "unknown status") == 0);
    CHECK(strcmp(fusewire_status_text(FUSEWIRE_STATUS_OK), "ok") == 0);
    CHECK(strcmp(fusewire_field_text(FUSEWIRE_FIELD_BREAKER_FAILURE_RATE),
                 "breaker.failure_rate_ppm") == 0);
    for (code = 1; code <= FUSEWIRE_FIELD_BREAKER_BUCKETS; code++) {
        CHECK(strcmp(fusewire_field_text(code), "none") != 0);
    }
    CHECK(strcmp(fusewire_field_text(FUSEWIRE_FIELD_NONE), "none") == 0);
    CHECK(strcmp(fusewire_field_text(FUSEWIRE_FIELD_BREAKER_SPAN), "breaker.span") == 0);
    CHECK(strcmp(fusewire_field_text(FUSEWIRE_FIELD_BREAKER_BUCKETS), "breaker.buckets") == 0);
    CHECK(FUSEWIRE_FIELD_BULKHEAD_RESERVE_NORMAL == 25 && FUSEWIRE_FIELD_BREAKER_SPAN == 26);
    CHECK(strcmp(fusewire_problem_text(FUSEWIRE_PROBLEM_ZERO), "must not be zero") == 0);
    CHECK(strcmp(fusewire_problem_text(77), "no problem") == 0);
    CHECK(strcmp(fusewire_version(), "0.1.0") == 0);
}

/* core/src/lib.rs doc example: min_calls 4, four failures 10 ticks apart,
 * rejected with 990 left, probe admitted at +990, closes on success. */
static void test_breaker_doc_example(void) {
    static fusewire_breaker b; /* static: zeroed, so "not initialised" */
    fusewire_breaker_config cfg = breaker_cfg(4);
    fusewire_transition t;
    fusewire_permit p = {0};
    uint64_t now = 0, wait = 0;
    uint32_t state = 99;
    int i;

    EXPECT(fusewire_breaker_poll(&b, fusewire_tick_of(0), &t), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_breaker_init(&b, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 4; i++) {
        EXPECT(fusewire_breaker_acquire(&b, fusewire_tick_of(now), &p, NULL, NULL), FUSEWIRE_STATUS_OK);
        EXPECT(fusewire_breaker_record(&b, fusewire_tick_of(now), p, FUSEWIRE_OUTCOME_FAILURE, 5, &t),
               FUSEWIRE_STATUS_OK);
        now += 10;
    }
    CHECK(t.moved == 1 && t.from == FUSEWIRE_STATE_CLOSED && t.to == FUSEWIRE_STATE_OPEN &&
          t.reason == FUSEWIRE_REASON_FAILURE_RATE);
    p.raw = 12345;
    EXPECT(fusewire_breaker_acquire(&b, fusewire_tick_of(now), &p, &wait, NULL), FUSEWIRE_STATUS_REJECTED);
    CHECK(wait == 990);
    CHECK(p.raw == 12345); /* outputs written only on success */
    EXPECT(fusewire_breaker_acquire(&b, fusewire_tick_of(now + 990), &p, NULL, &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved == 1 && t.to == FUSEWIRE_STATE_HALF_OPEN && t.reason == FUSEWIRE_REASON_OPEN_ELAPSED);
    EXPECT(fusewire_breaker_state(&b, &state), FUSEWIRE_STATUS_OK);
    CHECK(state == FUSEWIRE_STATE_HALF_OPEN);
    EXPECT(fusewire_breaker_record(&b, fusewire_tick_of(now + 991), p, FUSEWIRE_OUTCOME_SUCCESS, 1, &t),
           FUSEWIRE_STATUS_OK);
    CHECK(t.moved == 1 && t.to == FUSEWIRE_STATE_CLOSED && t.reason == FUSEWIRE_REASON_PROBES_PASSED);
}

/* core breaker tests: failure_rate_waits_for_min_calls_then_trips_at_threshold. */
static void test_breaker_threshold(void) {
    fusewire_breaker b;
    fusewire_breaker_config cfg = breaker_cfg(4);
    fusewire_transition t;
    fusewire_breaker_stats s;
    const uint32_t outcomes[4] = {FUSEWIRE_OUTCOME_FAILURE, FUSEWIRE_OUTCOME_FAILURE,
                                  FUSEWIRE_OUTCOME_SUCCESS, FUSEWIRE_OUTCOME_FAILURE};
    int i;
    EXPECT(fusewire_breaker_init(&b, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 4; i++) {
        fusewire_permit p;
        EXPECT(fusewire_breaker_acquire(&b, fusewire_tick_of(0), &p, NULL, NULL), FUSEWIRE_STATUS_OK);
        EXPECT(fusewire_breaker_record(&b, fusewire_tick_of(0), p, outcomes[i], 1, &t), FUSEWIRE_STATUS_OK);
        CHECK(t.moved == (i == 3));
    }
    CHECK(t.to == FUSEWIRE_STATE_OPEN && t.reason == FUSEWIRE_REASON_FAILURE_RATE);
    EXPECT(fusewire_breaker_snapshot(&b, fusewire_tick_of(0), &s), FUSEWIRE_STATUS_OK);
    CHECK(s.state == FUSEWIRE_STATE_OPEN && s.failures == 3 && s.successes == 1 &&
          s.open_until == 1000 && s.reopens == 1 && s.generation == 1);
}

static void test_breaker_errors_and_commands(void) {
    fusewire_breaker b;
    fusewire_breaker_config cfg = breaker_cfg(4);
    fusewire_config_error e = {0, 0};
    fusewire_transition t;
    fusewire_permit p = {0};
    uint64_t wait = 0;
    uint64_t raw[40];
    memset(&b, 0xA5, sizeof b); /* stack garbage */
    memset(raw, 0, sizeof raw);

    EXPECT(fusewire_breaker_acquire(&b, fusewire_tick_of(0), &p, NULL, NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_breaker_init(NULL, &cfg, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_breaker_init(&b, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_breaker_config_default(NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_breaker_init((fusewire_breaker *)(void *)((char *)raw + 4), &cfg, NULL),
           FUSEWIRE_STATUS_INVALID_ARGUMENT);

    cfg.failure_rate_ppm = FUSEWIRE_PERCENT(150);
    EXPECT(fusewire_breaker_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_FAILURE_RATE && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    EXPECT(fusewire_breaker_poll(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    cfg = breaker_cfg(4);
    cfg.use_slow_call_rate = 1;
    cfg.slow_call_rate_ppm = FUSEWIRE_PERCENT(10);
    EXPECT(fusewire_breaker_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_SLOW_CALL_DURATION && e.problem == FUSEWIRE_PROBLEM_REQUIRED);
    cfg = breaker_cfg(4);
    cfg.half_open_probes = 0;
    EXPECT(fusewire_breaker_init(&b, &cfg, NULL), FUSEWIRE_STATUS_INVALID_CONFIG);
    cfg = breaker_cfg(4);
    cfg.rate_basis = 2;
    EXPECT(fusewire_breaker_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_RATE_BASIS);
    cfg = breaker_cfg(4);
    cfg.open_backoff.base = 0;
    EXPECT(fusewire_breaker_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BACKOFF_BASE && e.problem == FUSEWIRE_PROBLEM_ZERO);

    cfg = breaker_cfg(4);
    EXPECT(fusewire_breaker_init(&b, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_breaker_record(&b, fusewire_tick_of(0), permit_of(0), 4, 0, NULL), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    EXPECT(fusewire_breaker_acquire(&b, fusewire_tick_of(0), NULL, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_breaker_state(&b, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_breaker_snapshot(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_breaker_trip(&b, fusewire_tick_of(5), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved && t.to == FUSEWIRE_STATE_OPEN && t.reason == FUSEWIRE_REASON_HOST);
    EXPECT(fusewire_breaker_force_open(&b, fusewire_tick_of(6), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.to == FUSEWIRE_STATE_FORCED_OPEN);
    EXPECT(fusewire_breaker_acquire(&b, fusewire_tick_of(7), &p, &wait, NULL), FUSEWIRE_STATUS_REJECTED);
    CHECK(wait == UINT64_MAX);
    EXPECT(fusewire_breaker_disable(&b, fusewire_tick_of(8), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.to == FUSEWIRE_STATE_DISABLED);
    EXPECT(fusewire_breaker_acquire(&b, fusewire_tick_of(9), &p, NULL, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_breaker_release(&b, fusewire_tick_of(9), p, &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved == 0);
    EXPECT(fusewire_breaker_close(&b, fusewire_tick_of(10), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.to == FUSEWIRE_STATE_CLOSED);
    EXPECT(fusewire_breaker_reset(&b, fusewire_tick_of(11), NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_breaker_poll(&b, fusewire_tick_of(12), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved == 0);
}

/* One admitted call on a timed breaker; returns the transition's `moved`. */
static int timed_call(fusewire_timed_breaker *b, uint32_t outcome, uint64_t duration, uint64_t now) {
    fusewire_permit p = {0};
    fusewire_transition t;
    EXPECT(fusewire_timed_breaker_acquire(b, fusewire_tick_of(now), &p, NULL, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_timed_breaker_record(b, fusewire_tick_of(now), p, outcome, duration, &t), FUSEWIRE_STATUS_OK);
    return t.moved;
}

/* core breaker tests: time_window_forgets_old_failures (min_calls 4, 1000
 * ticks in 10 buckets; C keeps no latency, so its mean and percentile lines
 * have no counterpart), and the count breaker tripping on the same calls. */
static void test_timed_breaker_forgets_old_failures(void) {
    fusewire_timed_breaker b;
    fusewire_breaker c;
    fusewire_breaker_config cfg = breaker_cfg(4);
    fusewire_breaker_stats s;
    fusewire_transition t;
    fusewire_permit p = {0};
    uint32_t state = 9;
    const uint64_t when[] = {0, 10, 20, 1100, 1110, 1120, 1130};
    const uint32_t how[] = {FUSEWIRE_OUTCOME_FAILURE, FUSEWIRE_OUTCOME_FAILURE, FUSEWIRE_OUTCOME_FAILURE,
                            FUSEWIRE_OUTCOME_SUCCESS, FUSEWIRE_OUTCOME_SUCCESS, FUSEWIRE_OUTCOME_SUCCESS,
                            FUSEWIRE_OUTCOME_FAILURE};
    int i;
    EXPECT(fusewire_timed_breaker_init(&b, &cfg, 1000, 10, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_breaker_init(&c, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 3; i++) CHECK(timed_call(&b, how[i], 7, when[i]) == 0);
    /* bucket 0 (ticks 0..99) leaves the window at 1000 */
    EXPECT(fusewire_timed_breaker_snapshot(&b, fusewire_tick_of(999), &s), FUSEWIRE_STATUS_OK);
    CHECK(s.failures == 3);
    EXPECT(fusewire_timed_breaker_snapshot(&b, fusewire_tick_of(1000), &s), FUSEWIRE_STATUS_OK);
    CHECK(s.failures == 0);
    for (i = 3; i < 7; i++) CHECK(timed_call(&b, how[i], 3, when[i]) == 0); /* 1/4 failed */
    EXPECT(fusewire_timed_breaker_snapshot(&b, fusewire_tick_of(1130), &s), FUSEWIRE_STATUS_OK);
    CHECK(s.state == FUSEWIRE_STATE_CLOSED && s.successes == 3 && s.failures == 1);
    EXPECT(fusewire_timed_breaker_state(&b, &state), FUSEWIRE_STATUS_OK);
    CHECK(state == FUSEWIRE_STATE_CLOSED);
    for (i = 0; i < 7; i++) {
        EXPECT(fusewire_breaker_acquire(&c, fusewire_tick_of(when[i]), &p, NULL, NULL), FUSEWIRE_STATUS_OK);
        EXPECT(fusewire_breaker_record(&c, fusewire_tick_of(when[i]), p, how[i], 3, &t), FUSEWIRE_STATUS_OK);
    }
    /* the count window still holds the old failures: 4 of 7 */
    CHECK(t.moved && t.to == FUSEWIRE_STATE_OPEN && t.reason == FUSEWIRE_REASON_FAILURE_RATE);
}

/* core doc example (as test_breaker_doc_example), all inside one span:
 * the same statuses and outputs as fusewire_breaker. */
static void test_timed_breaker_doc_example(void) {
    fusewire_timed_breaker b;
    fusewire_breaker_config cfg = breaker_cfg(4);
    fusewire_transition t;
    fusewire_breaker_stats s;
    fusewire_permit p = {0};
    uint64_t now = 0, wait = 0;
    int i;
    EXPECT(fusewire_timed_breaker_init(&b, &cfg, 10000, FUSEWIRE_TIMED_BREAKER_BUCKETS, NULL),
           FUSEWIRE_STATUS_OK);
    for (i = 0; i < 4; i++, now += 10) {
        EXPECT(fusewire_timed_breaker_acquire(&b, fusewire_tick_of(now), &p, NULL, NULL), FUSEWIRE_STATUS_OK);
        EXPECT(fusewire_timed_breaker_record(&b, fusewire_tick_of(now), p, FUSEWIRE_OUTCOME_FAILURE, 5, &t), FUSEWIRE_STATUS_OK);
    }
    CHECK(t.moved == 1 && t.from == FUSEWIRE_STATE_CLOSED && t.to == FUSEWIRE_STATE_OPEN &&
          t.reason == FUSEWIRE_REASON_FAILURE_RATE);
    p.raw = 12345;
    EXPECT(fusewire_timed_breaker_acquire(&b, fusewire_tick_of(now), &p, &wait, &t), FUSEWIRE_STATUS_REJECTED);
    CHECK(wait == 990 && p.raw == 12345 && t.moved == 0);
    EXPECT(fusewire_timed_breaker_snapshot(&b, fusewire_tick_of(now), &s), FUSEWIRE_STATUS_OK);
    CHECK(s.state == FUSEWIRE_STATE_OPEN && s.failures == 4 && s.rejected == 1 && s.open_until == 1030 &&
          s.reopens == 1 && s.since == 30);
    EXPECT(fusewire_timed_breaker_poll(&b, fusewire_tick_of(now + 990), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved == 1 && t.to == FUSEWIRE_STATE_HALF_OPEN && t.reason == FUSEWIRE_REASON_OPEN_ELAPSED);
    EXPECT(fusewire_timed_breaker_acquire(&b, fusewire_tick_of(now + 990), &p, NULL, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_timed_breaker_record(&b, fusewire_tick_of(now + 991), p, FUSEWIRE_OUTCOME_SUCCESS, 1, &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved == 1 && t.to == FUSEWIRE_STATE_CLOSED && t.reason == FUSEWIRE_REASON_PROBES_PASSED);
}

static void test_timed_breaker_errors_and_commands(void) {
    fusewire_timed_breaker b;
    fusewire_breaker c;
    fusewire_breaker_config cfg = breaker_cfg(4);
    fusewire_config_error e = {0, 0};
    fusewire_transition t;
    fusewire_breaker_stats s;
    fusewire_permit p = {0};
    uint64_t wait = 0;
    uint32_t state = 9;
    static uint64_t raw[130];
    memset(&b, 0xA5, sizeof b); /* stack garbage */

    EXPECT(fusewire_timed_breaker_acquire(&b, fusewire_tick_of(0), &p, NULL, NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_timed_breaker_record(&b, fusewire_tick_of(0), permit_of(0), 0, 0, NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_timed_breaker_release(&b, fusewire_tick_of(0), permit_of(0), NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_timed_breaker_poll(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_timed_breaker_trip(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_timed_breaker_close(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_timed_breaker_force_open(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_timed_breaker_disable(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_timed_breaker_reset(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_timed_breaker_state(&b, &state), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_timed_breaker_snapshot(&b, fusewire_tick_of(0), &s), FUSEWIRE_STATUS_NOT_INITIALIZED);
    CHECK(state == 9);

    EXPECT(fusewire_timed_breaker_init(NULL, &cfg, 1000, 10, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_timed_breaker_init(&b, NULL, 1000, 10, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_timed_breaker_acquire(NULL, fusewire_tick_of(0), &p, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_timed_breaker_record(NULL, fusewire_tick_of(0), permit_of(0), 0, 0, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_timed_breaker_release(NULL, fusewire_tick_of(0), permit_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_timed_breaker_poll(NULL, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_timed_breaker_state(NULL, &state), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_timed_breaker_snapshot(NULL, fusewire_tick_of(0), &s), FUSEWIRE_STATUS_NULL_ARGUMENT);
    /* misaligned object and config */
    EXPECT(fusewire_timed_breaker_init((fusewire_timed_breaker *)(void *)((char *)raw + 4), &cfg, 1000, 10, NULL),
           FUSEWIRE_STATUS_INVALID_ARGUMENT);
    EXPECT(fusewire_timed_breaker_poll((fusewire_timed_breaker *)(void *)((char *)raw + 4), fusewire_tick_of(0), NULL),
           FUSEWIRE_STATUS_INVALID_ARGUMENT);
    memcpy((char *)raw + 4, &cfg, sizeof cfg);
    EXPECT(fusewire_timed_breaker_init(&b, (const fusewire_breaker_config *)(const void *)((char *)raw + 4), 1000,
                                       10, NULL),
           FUSEWIRE_STATUS_INVALID_ARGUMENT);

    /* the window: span and buckets, with their field and problem */
    EXPECT(fusewire_timed_breaker_init(&b, &cfg, 0, 4, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_SPAN && e.problem == FUSEWIRE_PROBLEM_ZERO);
    EXPECT(fusewire_timed_breaker_init(&b, &cfg, 3, 4, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_SPAN && e.problem == FUSEWIRE_PROBLEM_INCONSISTENT);
    EXPECT(fusewire_timed_breaker_init(&b, &cfg, 100, 0, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_BUCKETS && e.problem == FUSEWIRE_PROBLEM_ZERO);
    EXPECT(fusewire_timed_breaker_init(&b, &cfg, 100, FUSEWIRE_TIMED_BREAKER_BUCKETS + 1, &e),
           FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_BUCKETS && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    EXPECT(fusewire_timed_breaker_init(&b, &cfg, 100, 0, NULL), FUSEWIRE_STATUS_INVALID_CONFIG);
    /* a bad config is reported before a bad window */
    cfg.failure_rate_ppm = FUSEWIRE_PERCENT(150);
    EXPECT(fusewire_timed_breaker_init(&b, &cfg, 0, 0, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_FAILURE_RATE && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    cfg = breaker_cfg(4);
    cfg.dwell_expiry = 2;
    EXPECT(fusewire_timed_breaker_init(&b, &cfg, 1000, 10, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BREAKER_DWELL_EXPIRY);
    /* nothing was built */
    EXPECT(fusewire_timed_breaker_poll(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);

    cfg = breaker_cfg(4);
    EXPECT(fusewire_timed_breaker_init(&b, &cfg, 1000, 4, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_timed_breaker_acquire(&b, fusewire_tick_of(0), &p, NULL, NULL), FUSEWIRE_STATUS_OK);
    t.moved = 9;
    EXPECT(fusewire_timed_breaker_record(&b, fusewire_tick_of(0), p, 4, 0, &t), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    CHECK(t.moved == 9);
    EXPECT(fusewire_timed_breaker_acquire(&b, fusewire_tick_of(0), NULL, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_timed_breaker_state(&b, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_timed_breaker_snapshot(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    /* the two breakers' objects are not each other's */
    EXPECT(fusewire_breaker_poll((fusewire_breaker *)(void *)&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_breaker_init(&c, &cfg, NULL), FUSEWIRE_STATUS_OK);
    memset(raw, 0, sizeof raw);
    memcpy(raw, &c, sizeof c);
    EXPECT(fusewire_timed_breaker_poll((fusewire_timed_breaker *)(void *)raw, fusewire_tick_of(0), NULL),
           FUSEWIRE_STATUS_NOT_INITIALIZED);

    EXPECT(fusewire_timed_breaker_trip(&b, fusewire_tick_of(5), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved && t.to == FUSEWIRE_STATE_OPEN && t.reason == FUSEWIRE_REASON_HOST);
    EXPECT(fusewire_timed_breaker_force_open(&b, fusewire_tick_of(6), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.to == FUSEWIRE_STATE_FORCED_OPEN);
    EXPECT(fusewire_timed_breaker_acquire(&b, fusewire_tick_of(7), &p, &wait, NULL), FUSEWIRE_STATUS_REJECTED);
    CHECK(wait == UINT64_MAX);
    EXPECT(fusewire_timed_breaker_disable(&b, fusewire_tick_of(8), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.to == FUSEWIRE_STATE_DISABLED);
    EXPECT(fusewire_timed_breaker_acquire(&b, fusewire_tick_of(9), &p, NULL, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_timed_breaker_release(&b, fusewire_tick_of(9), p, &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved == 0);
    EXPECT(fusewire_timed_breaker_close(&b, fusewire_tick_of(10), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.to == FUSEWIRE_STATE_CLOSED);
    CHECK(timed_call(&b, FUSEWIRE_OUTCOME_FAILURE, 1, 11) == 0);
    EXPECT(fusewire_timed_breaker_reset(&b, fusewire_tick_of(11), NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_timed_breaker_snapshot(&b, fusewire_tick_of(12), &s), FUSEWIRE_STATUS_OK);
    CHECK(s.failures == 0 && s.consecutive_failures == 0 && s.state == FUSEWIRE_STATE_CLOSED);
    EXPECT(fusewire_timed_breaker_poll(&b, fusewire_tick_of(12), &t), FUSEWIRE_STATUS_OK);
    CHECK(t.moved == 0);
}

/* core backoff tests: exponential_doubles_then_caps. */
static void test_backoff(void) {
    fusewire_backoff bo;
    fusewire_backoff_config cfg = backoff_cfg(FUSEWIRE_SCHEDULE_EXPONENTIAL, 100, 2000, 1000);
    fusewire_config_error e = {0, 0};
    const uint64_t want[6] = {100, 200, 400, 800, 1000, 1000};
    uint64_t d = 0;
    uint32_t n = 0;
    int i;
    memset(&bo, 0, sizeof bo);
    EXPECT(fusewire_backoff_next(&bo, &d), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_backoff_init(&bo, &cfg, 0, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 6; i++) {
        EXPECT(fusewire_backoff_next(&bo, &d), FUSEWIRE_STATUS_OK);
        CHECK(d == want[i]);
    }
    EXPECT(fusewire_backoff_attempt(&bo, &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 6);
    EXPECT(fusewire_backoff_reset(&bo), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_backoff_next(&bo, &d), FUSEWIRE_STATUS_OK);
    CHECK(d == 100);
    EXPECT(fusewire_backoff_next(&bo, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_backoff_attempt(NULL, &n), FUSEWIRE_STATUS_NULL_ARGUMENT);
    /* raw(n) is the schedule alone; delay(n, prev) draws without moving
     * the next() sequence (attempt stays 1 after the reset and one next). */
    for (i = 0; i < 6; i++) {
        EXPECT(fusewire_backoff_raw(&bo, (uint32_t)i, &d), FUSEWIRE_STATUS_OK);
        CHECK(d == want[i]);
    }
    EXPECT(fusewire_backoff_raw(&bo, UINT32_MAX, &d), FUSEWIRE_STATUS_OK);
    CHECK(d == 1000);
    EXPECT(fusewire_backoff_delay(&bo, 3, 0, &d), FUSEWIRE_STATUS_OK);
    CHECK(d == 800);
    EXPECT(fusewire_backoff_attempt(&bo, &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 1);
    EXPECT(fusewire_backoff_raw(&bo, 0, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_backoff_delay(&bo, 0, 0, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_backoff_raw(NULL, 0, &d), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_backoff_delay(NULL, 0, 0, &d), FUSEWIRE_STATUS_NULL_ARGUMENT);
    {
        fusewire_backoff blank;
        memset(&blank, 0, sizeof blank);
        EXPECT(fusewire_backoff_raw(&blank, 0, &d), FUSEWIRE_STATUS_NOT_INITIALIZED);
        EXPECT(fusewire_backoff_delay(&blank, 0, 0, &d), FUSEWIRE_STATUS_NOT_INITIALIZED);
    }
    cfg.factor_milli = 999;
    EXPECT(fusewire_backoff_init(&bo, &cfg, 0, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BACKOFF_FACTOR_MILLI && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    cfg = backoff_cfg(FUSEWIRE_SCHEDULE_LINEAR, 10, 0, 30);
    cfg.step = 5;
    EXPECT(fusewire_backoff_init(&bo, &cfg, 0, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 5; i++) {
        EXPECT(fusewire_backoff_next(&bo, &d), FUSEWIRE_STATUS_OK);
    }
    CHECK(d == 30); /* core: linear_and_constant, raw(4) == 30 */
    cfg = backoff_cfg(FUSEWIRE_SCHEDULE_CONSTANT, 5, 0, 5);
    cfg.jitter = FUSEWIRE_JITTER_PROPORTIONAL;
    cfg.jitter_percent = 101;
    EXPECT(fusewire_backoff_init(&bo, &cfg, 0, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BACKOFF_JITTER_PERCENT);
    cfg.jitter = 9;
    EXPECT(fusewire_backoff_init(&bo, &cfg, 0, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BACKOFF_JITTER);
    cfg.schedule = 9;
    EXPECT(fusewire_backoff_init(&bo, &cfg, 0, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BACKOFF_SCHEDULE);
    cfg = backoff_cfg(FUSEWIRE_SCHEDULE_CONSTANT, 5, 0, 4);
    EXPECT(fusewire_backoff_init(&bo, &cfg, 0, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BACKOFF_CAP && e.problem == FUSEWIRE_PROBLEM_INCONSISTENT);
    EXPECT(fusewire_backoff_config_default(&cfg), FUSEWIRE_STATUS_OK);
    CHECK(cfg.schedule == FUSEWIRE_SCHEDULE_CONSTANT && cfg.base == 1000 && cfg.cap == 1000);
    EXPECT(fusewire_backoff_config_default(NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    /* Full jitter stays within [0, c] for the same seed on every run. */
    cfg = backoff_cfg(FUSEWIRE_SCHEDULE_EXPONENTIAL, 100, 2000, 5000);
    cfg.jitter = FUSEWIRE_JITTER_FULL;
    EXPECT(fusewire_backoff_init(&bo, &cfg, 42, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 10; i++) {
        EXPECT(fusewire_backoff_next(&bo, &d), FUSEWIRE_STATUS_OK);
        CHECK(d <= 5000);
    }
    /* The same seed walked by delay(n, prev) gives next()'s sequence. */
    {
        fusewire_backoff walk;
        uint64_t prev = 0, e2 = 0;
        EXPECT(fusewire_backoff_init(&bo, &cfg, 7, NULL), FUSEWIRE_STATUS_OK);
        EXPECT(fusewire_backoff_init(&walk, &cfg, 7, NULL), FUSEWIRE_STATUS_OK);
        for (i = 0; i < 10; i++) {
            EXPECT(fusewire_backoff_next(&bo, &d), FUSEWIRE_STATUS_OK);
            EXPECT(fusewire_backoff_delay(&walk, (uint32_t)i, prev, &e2), FUSEWIRE_STATUS_OK);
            CHECK(d == e2);
            prev = e2;
        }
    }
}

/* core bucket tests: starts_full_drains_and_says_when, zero_is_free_and_more_than_burst_is_never. */
static void test_bucket(void) {
    fusewire_bucket b;
    fusewire_bucket_config cfg;
    fusewire_config_error e = {0, 0};
    uint64_t wait = 0;
    uint32_t n = 0;
    int i;
    cfg.period = 100;
    cfg.tokens = 1;
    cfg.burst = 3;
    EXPECT(fusewire_bucket_init(&b, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_bucket_available(&b, fusewire_tick_of(0), &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 3);
    for (i = 0; i < 3; i++) {
        EXPECT(fusewire_bucket_acquire(&b, fusewire_tick_of(0), 1, NULL), FUSEWIRE_STATUS_OK);
    }
    EXPECT(fusewire_bucket_acquire(&b, fusewire_tick_of(0), 1, &wait), FUSEWIRE_STATUS_RATE_LIMITED);
    CHECK(wait == 100);
    EXPECT(fusewire_bucket_acquire(&b, fusewire_tick_of(99), 1, &wait), FUSEWIRE_STATUS_RATE_LIMITED);
    CHECK(wait == 1);
    EXPECT(fusewire_bucket_acquire(&b, fusewire_tick_of(100), 1, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_bucket_available(&b, fusewire_tick_of(100), &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 0);
    EXPECT(fusewire_bucket_available(&b, fusewire_tick_of(400), &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 3);

    cfg.period = 10;
    cfg.burst = 5;
    EXPECT(fusewire_bucket_init(&b, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_bucket_acquire(&b, fusewire_tick_of(0), 0, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_bucket_acquire(&b, fusewire_tick_of(0), 6, &wait), FUSEWIRE_STATUS_EXCEEDS_BURST);
    EXPECT(fusewire_bucket_acquire(&b, fusewire_tick_of(0), 5, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_bucket_acquire(&b, fusewire_tick_of(0), 2, &wait), FUSEWIRE_STATUS_RATE_LIMITED);
    CHECK(wait == 20);
    EXPECT(fusewire_bucket_refund(&b, fusewire_tick_of(0), 2), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_bucket_available(&b, fusewire_tick_of(0), &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 2);
    EXPECT(fusewire_bucket_set_rate(&b, fusewire_tick_of(0), 0, 5, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BUCKET_TOKENS && e.problem == FUSEWIRE_PROBLEM_ZERO);
    EXPECT(fusewire_bucket_set_rate(&b, fusewire_tick_of(0), 1, 0, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BUCKET_PERIOD);
    EXPECT(fusewire_bucket_set_rate(&b, fusewire_tick_of(0), 1, 1, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_bucket_available(&b, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    cfg.burst = 0;
    EXPECT(fusewire_bucket_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BUCKET_BURST && e.problem == FUSEWIRE_PROBLEM_ZERO);
    EXPECT(fusewire_bucket_refund(NULL, fusewire_tick_of(0), 1), FUSEWIRE_STATUS_NULL_ARGUMENT);
}

/* core budget tests: follows_the_grpc_example. */
static void test_budget(void) {
    fusewire_budget b;
    fusewire_budget_config cfg;
    fusewire_config_error e = {0, 0};
    uint64_t milli = 0, throttled = 0;
    int i;
    cfg.max_tokens = 10;
    cfg.token_ratio_milli = 100;
    EXPECT(fusewire_budget_init(&b, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 4; i++) {
        EXPECT(fusewire_budget_record_failure(&b), FUSEWIRE_STATUS_OK);
    }
    EXPECT(fusewire_budget_try_retry(&b), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_budget_record_failure(&b), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_budget_try_retry(&b), FUSEWIRE_STATUS_THROTTLED);
    EXPECT(fusewire_budget_tokens(&b, &milli, &throttled), FUSEWIRE_STATUS_OK);
    CHECK(milli == 5000 && throttled == 1);
    EXPECT(fusewire_budget_record_success(&b), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_budget_tokens(&b, &milli, NULL), FUSEWIRE_STATUS_OK);
    CHECK(milli == 5100);
    EXPECT(fusewire_budget_try_retry(&b), FUSEWIRE_STATUS_OK);
    cfg.max_tokens = 1;
    cfg.token_ratio_milli = 1001;
    EXPECT(fusewire_budget_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BUDGET_TOKEN_RATIO_MILLI && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    cfg.max_tokens = 0;
    EXPECT(fusewire_budget_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BUDGET_MAX_TOKENS);
    EXPECT(fusewire_budget_record_success(NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
}

/* core bulkhead tests: reserves_keep_the_last_slots_for_higher_priorities,
 * extra_release_is_reported_not_obeyed. */
static void test_bulkhead(void) {
    fusewire_bulkhead b;
    fusewire_bulkhead_config cfg;
    fusewire_config_error e = {0, 0};
    uint32_t in_use = 0, avail = 0;
    int i;
    cfg.limit = 5;
    cfg.reserve_critical = 1;
    cfg.reserve_normal = 1;
    cfg.lease = 0; /* the default: 60000 ticks */
    EXPECT(fusewire_bulkhead_init(&b, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 3; i++) {
        EXPECT(fusewire_bulkhead_acquire(&b, fusewire_tick_of(0), FUSEWIRE_PRIORITY_SHEDDABLE, &(fusewire_bulkhead_slot){0}), FUSEWIRE_STATUS_OK);
    }
    EXPECT(fusewire_bulkhead_acquire(&b, fusewire_tick_of(0), FUSEWIRE_PRIORITY_SHEDDABLE, &(fusewire_bulkhead_slot){0}), FUSEWIRE_STATUS_BULKHEAD_FULL);
    EXPECT(fusewire_bulkhead_usage(&b, FUSEWIRE_PRIORITY_NORMAL, &in_use, &avail), FUSEWIRE_STATUS_OK);
    CHECK(in_use == 3 && avail == 1);
    EXPECT(fusewire_bulkhead_acquire(&b, fusewire_tick_of(0), FUSEWIRE_PRIORITY_NORMAL, &(fusewire_bulkhead_slot){0}), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_bulkhead_acquire(&b, fusewire_tick_of(0), FUSEWIRE_PRIORITY_NORMAL, &(fusewire_bulkhead_slot){0}), FUSEWIRE_STATUS_BULKHEAD_FULL);
    EXPECT(fusewire_bulkhead_acquire(&b, fusewire_tick_of(0), FUSEWIRE_PRIORITY_CRITICAL, &(fusewire_bulkhead_slot){0}), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_bulkhead_acquire(&b, fusewire_tick_of(0), FUSEWIRE_PRIORITY_CRITICAL, &(fusewire_bulkhead_slot){0}), FUSEWIRE_STATUS_BULKHEAD_FULL);
    EXPECT(fusewire_bulkhead_acquire(&b, fusewire_tick_of(0), 3, &(fusewire_bulkhead_slot){0}), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    EXPECT(fusewire_bulkhead_usage(&b, 7, &in_use, &avail), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    for (i = 0; i < 3; i++) {
        EXPECT(fusewire_bulkhead_release(&b, fusewire_tick_of(0), slot_of(FUSEWIRE_PRIORITY_SHEDDABLE)), FUSEWIRE_STATUS_OK);
    }
    EXPECT(fusewire_bulkhead_release(&b, fusewire_tick_of(0), slot_of(FUSEWIRE_PRIORITY_NORMAL)), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_bulkhead_release(&b, fusewire_tick_of(0), slot_of(FUSEWIRE_PRIORITY_CRITICAL)), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_bulkhead_release(&b, fusewire_tick_of(0), slot_of(FUSEWIRE_PRIORITY_NORMAL)), FUSEWIRE_STATUS_NOT_HELD);
    EXPECT(fusewire_bulkhead_usage(&b, FUSEWIRE_PRIORITY_CRITICAL, &in_use, &avail), FUSEWIRE_STATUS_OK);
    CHECK(in_use == 0 && avail == 5);
    cfg.limit = 4;
    cfg.reserve_critical = 4;
    cfg.reserve_normal = 0;
    EXPECT(fusewire_bulkhead_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BULKHEAD_RESERVE_CRITICAL && e.problem == FUSEWIRE_PROBLEM_INCONSISTENT);
    cfg.reserve_critical = 2;
    cfg.reserve_normal = 2;
    EXPECT(fusewire_bulkhead_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BULKHEAD_RESERVE_NORMAL);
    cfg.limit = 0;
    EXPECT(fusewire_bulkhead_init(&b, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BULKHEAD_LIMIT && e.problem == FUSEWIRE_PROBLEM_ZERO);
    EXPECT(fusewire_bulkhead_release(NULL, fusewire_tick_of(0), slot_of(0)), FUSEWIRE_STATUS_NULL_ARGUMENT);
}

static fusewire_retry_config retry_cfg(uint32_t max_attempts, uint64_t max_elapsed) {
    fusewire_retry_config c;
    c.backoff = backoff_cfg(FUSEWIRE_SCHEDULE_EXPONENTIAL, 100, 2000, 10000);
    c.max_elapsed = max_elapsed;
    c.seed = 7;
    c.max_attempts = max_attempts;
    return c;
}

/* core retry tests: backoff_attempt_number_is_retries_already_scheduled,
 * deadline_caps_delay_and_server_hint, server_retry_after_extends_but_never_shortens. */
static void test_retry(void) {
    fusewire_retry r;
    fusewire_retry_config cfg = retry_cfg(5, 0);
    fusewire_config_error e = {0, 0};
    const uint64_t want[4] = {100, 200, 400, 800};
    uint64_t d = 0;
    uint32_t n = 0;
    int i;
    EXPECT(fusewire_retry_init(&r, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_retry_attempts(&r, &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 0);
    EXPECT(fusewire_retry_start(&r, fusewire_tick_of(0)), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 4; i++) {
        EXPECT(fusewire_retry_next(&r, fusewire_tick_of(0), 0, &d), FUSEWIRE_STATUS_OK);
        CHECK(d == want[i]);
    }
    d = 77;
    EXPECT(fusewire_retry_next(&r, fusewire_tick_of(0), 0, &d), FUSEWIRE_STATUS_GIVE_UP_MAX_ATTEMPTS);
    CHECK(d == 77);
    EXPECT(fusewire_retry_attempts(&r, &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 5);
    EXPECT(fusewire_retry_start(&r, fusewire_tick_of(0)), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_retry_next(&r, fusewire_tick_of(0), 50, &d), FUSEWIRE_STATUS_OK);
    CHECK(d == 100);
    EXPECT(fusewire_retry_next(&r, fusewire_tick_of(0), 5000, &d), FUSEWIRE_STATUS_OK);
    CHECK(d == 5000);
    EXPECT(fusewire_retry_next(&r, fusewire_tick_of(0), 0, &d), FUSEWIRE_STATUS_OK);
    CHECK(d == 400);

    cfg = retry_cfg(10, 1000);
    EXPECT(fusewire_retry_init(&r, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_retry_start(&r, fusewire_tick_of(500)), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_retry_next(&r, fusewire_tick_of(500), 0, &d), FUSEWIRE_STATUS_OK);
    CHECK(d == 100);
    EXPECT(fusewire_retry_next(&r, fusewire_tick_of(1300), 0, &d), FUSEWIRE_STATUS_OK);
    CHECK(d == 200);
    EXPECT(fusewire_retry_next(&r, fusewire_tick_of(1000), 501, &d), FUSEWIRE_STATUS_GIVE_UP_WAIT_TOO_LONG);
    EXPECT(fusewire_retry_next(&r, fusewire_tick_of(1500), 0, &d), FUSEWIRE_STATUS_GIVE_UP_DEADLINE);
    EXPECT(fusewire_retry_next(&r, fusewire_tick_of(1200), 0, &d), FUSEWIRE_STATUS_GIVE_UP_DEADLINE);
    EXPECT(fusewire_retry_next(&r, fusewire_tick_of(1200), 0, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    cfg = retry_cfg(0, 0);
    EXPECT(fusewire_retry_init(&r, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_RETRY_MAX_ATTEMPTS && e.problem == FUSEWIRE_PROBLEM_ZERO);
    cfg = retry_cfg(3, 0);
    cfg.backoff.cap = 0;
    EXPECT(fusewire_retry_init(&r, &cfg, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_BACKOFF_CAP);
    EXPECT(fusewire_retry_start(NULL, fusewire_tick_of(0)), FUSEWIRE_STATUS_NULL_ARGUMENT);
}

/* The static initialisers hold exactly what the _config_default functions
 * write, field by field. */
static void test_static_initialisers(void) {
    static const fusewire_backoff_config sb = FUSEWIRE_BACKOFF_CONFIG_DEFAULT;
    static const fusewire_breaker_config sc = FUSEWIRE_BREAKER_CONFIG_DEFAULT;
    fusewire_backoff_config b;
    fusewire_breaker_config c;
    EXPECT(fusewire_backoff_config_default(&b), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_breaker_config_default(&c), FUSEWIRE_STATUS_OK);
    CHECK(sb.base == b.base && sb.step == b.step && sb.cap == b.cap && sb.schedule == b.schedule &&
          sb.factor_milli == b.factor_milli && sb.jitter == b.jitter && sb.jitter_percent == b.jitter_percent);
    CHECK(sc.open_backoff.base == c.open_backoff.base && sc.open_backoff.step == c.open_backoff.step &&
          sc.open_backoff.cap == c.open_backoff.cap && sc.open_backoff.schedule == c.open_backoff.schedule &&
          sc.open_backoff.factor_milli == c.open_backoff.factor_milli &&
          sc.open_backoff.jitter == c.open_backoff.jitter &&
          sc.open_backoff.jitter_percent == c.open_backoff.jitter_percent);
    CHECK(sc.slow_call_duration == c.slow_call_duration && sc.half_open_max_dwell == c.half_open_max_dwell &&
          sc.seed == c.seed && sc.failure_rate_ppm == c.failure_rate_ppm && sc.slow_call_rate_ppm == c.slow_call_rate_ppm &&
          sc.consecutive_failures == c.consecutive_failures && sc.min_calls == c.min_calls &&
          sc.half_open_probes == c.half_open_probes && sc.comparison == c.comparison &&
          sc.rate_basis == c.rate_basis && sc.half_open_rule == c.half_open_rule &&
          sc.dwell_expiry == c.dwell_expiry && sc.use_failure_rate == c.use_failure_rate &&
          sc.use_slow_call_rate == c.use_slow_call_rate && sc.reset_window_on_close == c.reset_window_on_close && sc.manual == c.manual);
}

/* The minimal profile: the static initialisers build the same objects as
 * the _init functions; the rules across the 32-bit tick wrap; config
 * errors name the lite field; NULL, wrong-kind and scribbled objects. */
static void test_lite(void) {
    static fusewire_lite_breaker sb = FUSEWIRE_LITE_BREAKER_INIT(2, 100);
    static fusewire_lite_backoff so = FUSEWIRE_LITE_BACKOFF_INIT(10, 80, 7);
    static fusewire_lite_bucket sk = FUSEWIRE_LITE_BUCKET_INIT(10, 3);
    fusewire_lite_breaker b;
    fusewire_lite_backoff o;
    fusewire_lite_bucket k;
    const fusewire_lite_breaker_config bc = {2, 100};
    const fusewire_lite_backoff_config oc = {10, 80, 7};
    const fusewire_lite_bucket_config kc = {10, 3};
    fusewire_config_error e = {FUSEWIRE_FIELD_NONE, FUSEWIRE_PROBLEM_NONE};
    fusewire_lite_permit p = {0};
    fusewire_state st = FUSEWIRE_STATE_DISABLED;
    uint32_t wait = 0, d = 0, i;
    const uint32_t t0 = 0xFFFFFFF0u; /* the tick wraps 16 ticks in */
    memset(&b, 0, sizeof b);
    memset(&o, 0, sizeof o);
    memset(&k, 0, sizeof k);
    EXPECT(fusewire_lite_breaker_init(&b, &bc, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_lite_backoff_init(&o, &oc, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_lite_bucket_init(&k, &kc, NULL), FUSEWIRE_STATUS_OK);
    CHECK(memcmp(&b, &sb, 19) == 0);
    CHECK(memcmp(&o, &so, 20) == 0);
    CHECK(memcmp(&k, &sk, 17) == 0);

    /* Two failures in a row open it across the wrap; 100 ticks later one probe. */
    for (i = 0; i < 2; i++) {
        EXPECT(fusewire_lite_breaker_acquire(&sb, fusewire_tick32_of(t0 + i), &p, &wait), FUSEWIRE_STATUS_OK);
        EXPECT(fusewire_lite_breaker_record(&sb, fusewire_tick32_of(t0 + i), p, FUSEWIRE_OUTCOME_FAILURE, &st),
               FUSEWIRE_STATUS_OK);
    }
    CHECK(st == FUSEWIRE_STATE_OPEN);
    EXPECT(fusewire_lite_breaker_acquire(&sb, fusewire_tick32_of(t0 + 50), &p, &wait), FUSEWIRE_STATUS_REJECTED);
    CHECK(wait == 51);
    EXPECT(fusewire_lite_breaker_acquire(&sb, fusewire_tick32_of(t0 + 101), &p, &wait), FUSEWIRE_STATUS_OK);
    CHECK((p.raw & 1) == 1); /* the probe */
    EXPECT(fusewire_lite_breaker_acquire(&sb, fusewire_tick32_of(t0 + 102), &p, &wait), FUSEWIRE_STATUS_REJECTED);
    p.raw |= 1;
    EXPECT(fusewire_lite_breaker_record(&sb, fusewire_tick32_of(t0 + 103), p, 9, &st), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    EXPECT(fusewire_lite_breaker_record(&sb, fusewire_tick32_of(t0 + 103), p, FUSEWIRE_OUTCOME_SUCCESS, &st),
           FUSEWIRE_STATUS_OK);
    CHECK(st == FUSEWIRE_STATE_CLOSED);
    EXPECT(fusewire_lite_breaker_state(&sb, &st), FUSEWIRE_STATUS_OK);
    CHECK(st == FUSEWIRE_STATE_CLOSED);

    /* Backoff: within 10, 20, 40, 80, 80 ... and back to 10 after reset. */
    for (i = 0; i < 6; i++) {
        uint32_t cap = i < 3 ? 10u << i : 80u;
        EXPECT(fusewire_lite_backoff_next(&so, &d), FUSEWIRE_STATUS_OK);
        CHECK(d <= cap);
    }
    EXPECT(fusewire_lite_backoff_reset(&so), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_lite_backoff_next(&so, &d), FUSEWIRE_STATUS_OK);
    CHECK(d <= 10);

    /* Bucket: full at its first call (across the wrap), then one per 10 ticks. */
    for (i = 0; i < 3; i++) EXPECT(fusewire_lite_bucket_acquire(&sk, fusewire_tick32_of(t0 + 10), 1, &wait), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_lite_bucket_acquire(&sk, fusewire_tick32_of(t0 + 10), 1, &wait), FUSEWIRE_STATUS_RATE_LIMITED);
    CHECK(wait == 10);
    EXPECT(fusewire_lite_bucket_acquire(&sk, fusewire_tick32_of(t0 + 20), 1, &wait), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_lite_bucket_acquire(&sk, fusewire_tick32_of(t0 + 20), 4, &wait), FUSEWIRE_STATUS_EXCEEDS_BURST);

    /* Config errors name the lite field. */
    {
        fusewire_lite_breaker_config bad_b = {0, 100};
        fusewire_lite_backoff_config bad_o = {10, 5, 0};
        fusewire_lite_bucket_config bad_k = {1u << 16, 1u << 15};
        EXPECT(fusewire_lite_breaker_init(&b, &bad_b, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
        CHECK(e.field == FUSEWIRE_FIELD_LITE_BREAKER_THRESHOLD && e.problem == FUSEWIRE_PROBLEM_ZERO);
        bad_b.threshold = 70000;
        EXPECT(fusewire_lite_breaker_init(&b, &bad_b, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
        CHECK(e.field == FUSEWIRE_FIELD_LITE_BREAKER_THRESHOLD && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
        bad_b.threshold = 1;
        bad_b.open_ticks = 0x80000000u;
        EXPECT(fusewire_lite_breaker_init(&b, &bad_b, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
        CHECK(e.field == FUSEWIRE_FIELD_LITE_BREAKER_OPEN_TICKS && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
        EXPECT(fusewire_lite_backoff_init(&o, &bad_o, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
        CHECK(e.field == FUSEWIRE_FIELD_LITE_BACKOFF_CAP && e.problem == FUSEWIRE_PROBLEM_INCONSISTENT);
        EXPECT(fusewire_lite_bucket_init(&k, &bad_k, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
        CHECK(e.field == FUSEWIRE_FIELD_LITE_BUCKET_BURST && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
        CHECK(strcmp(fusewire_field_text(FUSEWIRE_FIELD_LITE_BUCKET_BURST), "lite_bucket.burst") == 0);
    }

    /* NULL, another kind's object, a scribbled state byte. */
    EXPECT(fusewire_lite_breaker_acquire(NULL, fusewire_tick32_of(0), &p, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_lite_breaker_acquire(&sb, fusewire_tick32_of(0), NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_lite_backoff_next((fusewire_lite_backoff *)(void *)&sk, &d), FUSEWIRE_STATUS_NOT_INITIALIZED);
    ((unsigned char *)&sb)[17] = 0xFF;
    EXPECT(fusewire_lite_breaker_acquire(&sb, fusewire_tick32_of(0), &p, NULL), FUSEWIRE_STATUS_CORRUPT);
}

int main(void) {
    test_lite();
    test_static_initialisers();
    test_texts();
    test_breaker_doc_example();
    test_breaker_threshold();
    test_breaker_errors_and_commands();
    test_timed_breaker_forgets_old_failures();
    test_timed_breaker_doc_example();
    test_timed_breaker_errors_and_commands();
    test_backoff();
    test_bucket();
    test_budget();
    test_bulkhead();
    test_retry();
    return report();
}
