/* Chaos (fusewire_chaos) and the endpoint pools (fusewire_pool4,
 * fusewire_pool16) from C: every function and status, the core's unit
 * scenarios with their numbers (each names the core test it mirrors), and
 * misuse: NULL, zeroed, another type's object, scribbled bytes, misaligned
 * pointers, too small an event buffer. Built as C99, run under
 * ASan+UBSan, against the .so and under valgrind by `make test`. */
#include "fusewire.h"
#include "check.h"

#include <string.h>

/* The sizes the header promises, known to the compiler. */
typedef char chaos_fits[(sizeof(fusewire_chaos) == FUSEWIRE_CHAOS_SIZE) ? 1 : -1];
typedef char pool4_fits[(sizeof(fusewire_pool4) == 264) ? 1 : -1];
typedef char pool16_fits[(sizeof(fusewire_pool16) == 744) ? 1 : -1];

static fusewire_chaos_config chaos_cfg(uint32_t fault, uint32_t latency, uint32_t substitute) {
    fusewire_chaos_config c;
    memset(&c, 0, sizeof c);
    c.fault_rate_ppm = FUSEWIRE_PERCENT(fault);
    c.latency_rate_ppm = FUSEWIRE_PERCENT(latency);
    c.latency_min = 10;
    c.latency_max = 50;
    c.substitute_rate_ppm = FUSEWIRE_PERCENT(substitute);
    c.seed = 42;
    c.enabled = 1;
    return c;
}

static int same_injection(fusewire_injection a, fusewire_injection b) {
    return a.delay == b.delay && a.outcome == b.outcome && a.behavior == b.behavior;
}

/* core chaos::tests::rates_are_kept_over_many_calls */
static void test_chaos_rates(void) {
    fusewire_chaos c;
    fusewire_chaos_config cfg = chaos_cfg(10, 30, 20);
    fusewire_injection j;
    uint32_t faults = 0, delays = 0, subs = 0, bad_delay = 0, i;
    uint64_t calls = 0;
    uint8_t on = 0;
    EXPECT(fusewire_chaos_init(&c, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 100000; i++) {
        EXPECT_QUIET(fusewire_chaos_inject(&c, &j));
        faults += j.outcome == FUSEWIRE_CHAOS_OUTCOME_FAULT;
        subs += j.outcome == FUSEWIRE_CHAOS_OUTCOME_SUBSTITUTE;
        if (j.delay > 0) {
            delays++;
            bad_delay += j.delay < 10 || j.delay > 50;
        }
    }
    CHECK(faults >= 9500 && faults < 10500);
    CHECK(delays >= 29000 && delays < 31000);
    CHECK(subs >= 17400 && subs < 18600); /* substitutes only where no fault */
    CHECK(bad_delay == 0);
    EXPECT(fusewire_chaos_calls(&c, &calls, &on), FUSEWIRE_STATUS_OK);
    CHECK(calls == 100000 && on == 1);
}

/* core chaos::tests::decisions_replay_from_the_seed_and_index and
 * off_injects_nothing_and_keeps_the_sequence */
static void test_chaos_replay_and_switch(void) {
    fusewire_chaos a, b;
    fusewire_chaos_config cfg = chaos_cfg(50, 50, 50);
    fusewire_injection run[64], j;
    uint64_t calls = 0;
    uint8_t on = 9;
    int i, differs = 0;
    cfg.behavior_rate_ppm = FUSEWIRE_PERCENT(50);
    EXPECT(fusewire_chaos_init(&a, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_chaos_init(&b, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 64; i++) EXPECT(fusewire_chaos_inject(&a, &run[i]), FUSEWIRE_STATUS_OK);
    for (i = 63; i >= 0; i--) { /* out of order, same answer */
        EXPECT(fusewire_chaos_decide(&b, (uint64_t)i, &j), FUSEWIRE_STATUS_OK);
        CHECK(same_injection(j, run[i]));
    }
    EXPECT(fusewire_chaos_calls(&b, &calls, NULL), FUSEWIRE_STATUS_OK);
    CHECK(calls == 0); /* decide counts nothing */
    cfg.seed = 43;
    EXPECT(fusewire_chaos_set_config(&b, &cfg, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 64; i++) {
        fusewire_chaos_decide(&b, (uint64_t)i, &j);
        differs += !same_injection(j, run[i]);
    }
    CHECK(differs > 0);

    /* Off: nothing injected, the index does not move; on again resumes. */
    cfg = chaos_cfg(100, 0, 0);
    EXPECT(fusewire_chaos_init(&a, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_chaos_inject(&a, &j), FUSEWIRE_STATUS_OK);
    CHECK(j.outcome == FUSEWIRE_CHAOS_OUTCOME_FAULT && j.delay == 0 && j.behavior == 0);
    EXPECT(fusewire_chaos_set_enabled(&a, 0), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_chaos_inject(&a, &j), FUSEWIRE_STATUS_OK);
    CHECK(j.outcome == FUSEWIRE_CHAOS_OUTCOME_PASS && j.delay == 0 && j.behavior == 0);
    EXPECT(fusewire_chaos_decide(&a, 5, &j), FUSEWIRE_STATUS_OK);
    CHECK(j.outcome == FUSEWIRE_CHAOS_OUTCOME_PASS);
    EXPECT(fusewire_chaos_calls(&a, &calls, &on), FUSEWIRE_STATUS_OK);
    CHECK(calls == 1 && on == 0);
    EXPECT(fusewire_chaos_set_enabled(&a, 7), FUSEWIRE_STATUS_OK); /* any non-zero is on */
    EXPECT(fusewire_chaos_calls(&a, NULL, &on), FUSEWIRE_STATUS_OK);
    CHECK(on == 1);
    /* A config that starts off (the default: all zero) injects nothing. */
    memset(&cfg, 0, sizeof cfg);
    EXPECT(fusewire_chaos_init(&a, &cfg, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_chaos_inject(&a, &j), FUSEWIRE_STATUS_OK);
    CHECK(j.outcome == FUSEWIRE_CHAOS_OUTCOME_PASS && j.delay == 0);
}

/* core chaos::tests::bad_configs_name_the_field, for every field */
static void test_chaos_errors_and_misuse(void) {
    fusewire_chaos c, zero;
    fusewire_chaos_config good = chaos_cfg(1, 1, 1), bad;
    fusewire_config_error e = {FUSEWIRE_FIELD_NONE, FUSEWIRE_PROBLEM_NONE};
    fusewire_injection j;
    fusewire_pool4 other;
    fusewire_pool_config pc;
    uint64_t calls = 99, words[FUSEWIRE_CHAOS_SIZE / 8 + 1];
    unsigned char *bytes = (unsigned char *)&c;
    size_t at;
    int corrupt = 0, odd = 0;
    struct { uint32_t *field; fusewire_field code; const char *text; } rates[4];
    int k;
    rates[0].field = &bad.fault_rate_ppm; rates[0].code = FUSEWIRE_FIELD_CHAOS_FAULT_RATE; rates[0].text = "chaos.fault_rate_ppm";
    rates[1].field = &bad.latency_rate_ppm; rates[1].code = FUSEWIRE_FIELD_CHAOS_LATENCY_RATE; rates[1].text = "chaos.latency_rate_ppm";
    rates[2].field = &bad.substitute_rate_ppm; rates[2].code = FUSEWIRE_FIELD_CHAOS_SUBSTITUTE_RATE; rates[2].text = "chaos.substitute_rate_ppm";
    rates[3].field = &bad.behavior_rate_ppm; rates[3].code = FUSEWIRE_FIELD_CHAOS_BEHAVIOR_RATE; rates[3].text = "chaos.behavior_rate_ppm";
    for (k = 0; k < 4; k++) {
        bad = good;
        *rates[k].field = 1000001; /* 100.0001 % */
        memset(&c, 0xAB, sizeof c);
        EXPECT(fusewire_chaos_init(&c, &bad, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
        CHECK(e.field == rates[k].code && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
        CHECK(strcmp(fusewire_field_text(e.field), rates[k].text) == 0);
        CHECK(bytes[0] == 0xAB && bytes[sizeof c - 1] == 0xAB); /* untouched */
        *rates[k].field = 1000000; /* 100 % is fine */
        EXPECT(fusewire_chaos_init(&c, &bad, NULL), FUSEWIRE_STATUS_OK);
    }
    bad = good;
    bad.latency_min = 5;
    bad.latency_max = 4;
    EXPECT(fusewire_chaos_init(&c, &bad, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_CHAOS_LATENCY_MAX && e.problem == FUSEWIRE_PROBLEM_INCONSISTENT);
    CHECK(strcmp(fusewire_field_text(e.field), "chaos.latency_max") == 0);
    bad.latency_min = 0;
    bad.latency_max = 0;
    EXPECT(fusewire_chaos_init(&c, &bad, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_CHAOS_LATENCY_MAX && e.problem == FUSEWIRE_PROBLEM_REQUIRED);
    bad.latency_rate_ppm = 0; /* no latency: no maximum needed */
    EXPECT(fusewire_chaos_init(&c, &bad, &e), FUSEWIRE_STATUS_OK);

    /* set_config: a bad config changes nothing, a good one keeps the count. */
    EXPECT(fusewire_chaos_init(&c, &good, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_chaos_inject(&c, &j), FUSEWIRE_STATUS_OK);
    bad = good;
    bad.fault_rate_ppm = UINT32_MAX;
    bad.enabled = 0;
    EXPECT(fusewire_chaos_set_config(&c, &bad, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_CHAOS_FAULT_RATE);
    {
        uint8_t on = 0;
        EXPECT(fusewire_chaos_calls(&c, &calls, &on), FUSEWIRE_STATUS_OK);
        CHECK(calls == 1 && on == 1);
    }
    EXPECT(fusewire_chaos_set_config(&c, &good, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_chaos_calls(&c, &calls, NULL), FUSEWIRE_STATUS_OK);
    CHECK(calls == 1);

    /* NULL object, config, required out-parameter: nothing changes. */
    EXPECT(fusewire_chaos_init(NULL, &good, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_chaos_init(&c, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_chaos_inject(NULL, &j), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_chaos_inject(&c, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_chaos_decide(&c, 0, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_chaos_decide(NULL, 0, &j), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_chaos_set_enabled(NULL, 1), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_chaos_calls(NULL, &calls, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_chaos_set_config(&c, NULL, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_chaos_calls(&c, &calls, NULL), FUSEWIRE_STATUS_OK);
    CHECK(calls == 1);

    /* Zeroed, another type's object, misaligned: refused. */
    memset(&zero, 0, sizeof zero);
    EXPECT(fusewire_chaos_inject(&zero, &j), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_chaos_calls(&zero, &calls, NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    fusewire_pool_config_default(&pc);
    EXPECT(fusewire_pool4_init(&other, &pc, 2, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_chaos_inject((fusewire_chaos *)(void *)&other, &j), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_chaos_init((fusewire_chaos *)(void *)((char *)words + 4), &good, NULL),
           FUSEWIRE_STATUS_INVALID_ARGUMENT);

    /* Every byte after the tag scribbled: answers or CORRUPT (the enabled
     * flag), never a crash. */
    for (at = 4; at < sizeof c; at++) {
        fusewire_status st;
        EXPECT_QUIET(fusewire_chaos_init(&c, &good, NULL));
        bytes[at] = 0x02;
        st = fusewire_chaos_inject(&c, &j);
        corrupt += st == FUSEWIRE_STATUS_CORRUPT;
        odd += st != FUSEWIRE_STATUS_CORRUPT && st != FUSEWIRE_STATUS_OK;
        if (st == FUSEWIRE_STATUS_CORRUPT) {
            EXPECT(fusewire_chaos_decide(&c, 1, &j), FUSEWIRE_STATUS_CORRUPT);
            EXPECT(fusewire_chaos_set_enabled(&c, 0), FUSEWIRE_STATUS_CORRUPT);
        }
    }
    CHECK(corrupt == 1 && odd == 0);
    bytes[0] ^= 1; /* the tag */
    EXPECT(fusewire_chaos_inject(&c, &j), FUSEWIRE_STATUS_NOT_INITIALIZED);
}

static fusewire_pool_config pool_cfg(void) {
    fusewire_pool_config c;
    EXPECT(fusewire_pool_config_default(&c), FUSEWIRE_STATUS_OK);
    c.seed = 7;
    return c;
}

static fusewire_pool_pick on(uint32_t endpoint) {
    fusewire_pool_pick k;
    k.endpoint = endpoint;
    k.panic = 0;
    return k;
}

/* Envoy's defaults, in milliseconds. */
static void test_pool_defaults(void) {
    fusewire_pool_config c;
    EXPECT(fusewire_pool_config_default(&c), FUSEWIRE_STATUS_OK);
    CHECK(c.consecutive_failures == 5 && c.consecutive_gateway_failures == 5);
    CHECK(c.interval == 10000 && c.base_ejection_time == 30000 && c.max_ejection_time == 300000);
    CHECK(c.ejection_jitter == 0 && c.max_ejection_percent == 10 && c.seed == 0);
    CHECK(c.success_rate_minimum_hosts == 5 && c.success_rate_request_volume == 100);
    CHECK(c.success_rate_stdev_factor_milli == 1900);
    EXPECT(fusewire_pool_config_default(NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
}

/* core pool::tests::picks_prefer_fewer_outstanding and
 * consecutive_failures_eject_and_the_ejection_ends */
static void test_pool_eject_and_return(void) {
    fusewire_pool4 p;
    fusewire_pool_config c = pool_cfg();
    fusewire_pool_pick first, second, k;
    fusewire_pool_event ev, evs[FUSEWIRE_POOL4_CAPACITY];
    fusewire_endpoint_stats s;
    uint32_t n = 99, count = 0, max = 0;
    int i, picked_one = 0;

    EXPECT(fusewire_pool4_init(&p, &c, 2, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_pool4_pick(&p, fusewire_tick_of(0), &first), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_pool4_pick(&p, fusewire_tick_of(0), &second), FUSEWIRE_STATUS_OK);
    CHECK(first.endpoint != second.endpoint && !first.panic && !second.panic);
    EXPECT(fusewire_pool4_release(&p, first), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_pool4_release(&p, second), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_pool4_stats(&p, fusewire_tick_of(0), 0, &s), FUSEWIRE_STATUS_OK);
    CHECK(s.outstanding == 0 && s.picked == 1 && s.calls == 0); /* release counts nothing */

    EXPECT(fusewire_pool4_init(&p, &c, 3, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_pool4_endpoints(&p, &count, &max), FUSEWIRE_STATUS_OK);
    CHECK(count == 3 && max == 1); /* max(1, 3 * 10 %) */
    for (i = 0; i < 5; i++) EXPECT(fusewire_pool4_record(&p, fusewire_tick_of(100), on(1), FUSEWIRE_CALL_RESULT_FAILURE, &ev), FUSEWIRE_STATUS_OK);
    CHECK(ev.kind == FUSEWIRE_POOL_EVENT_KIND_EJECTED && ev.endpoint == 1 && ev.until == 30100);
    CHECK(ev.reason == FUSEWIRE_EJECT_REASON_CONSECUTIVE_FAILURES);
    for (i = 0; i < 100; i++) { /* not picked while others are healthy */
        EXPECT_QUIET(fusewire_pool4_pick(&p, fusewire_tick_of(200), &k));
        picked_one += k.endpoint == 1;
        fusewire_pool4_release(&p, k);
    }
    CHECK(picked_one == 0);
    for (i = 0; i < 5; i++) { /* the cap: a second endpoint is not ejected */
        EXPECT(fusewire_pool4_record(&p, fusewire_tick_of(300), on(2), FUSEWIRE_CALL_RESULT_FAILURE, &ev), FUSEWIRE_STATUS_OK);
        CHECK(ev.kind == FUSEWIRE_POOL_EVENT_KIND_NONE);
    }
    EXPECT(fusewire_pool4_stats(&p, fusewire_tick_of(300), 1, &s), FUSEWIRE_STATUS_OK);
    CHECK(s.ejected == 1 && s.ejected_until == 30100 && s.ejections == 1 && s.consecutive_failures == 5);
    EXPECT(fusewire_pool4_poll(&p, fusewire_tick_of(30099), evs, 4, &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 0);
    /* A buffer smaller than the endpoint count: refused, nothing changed,
     * the return is still reported by the next poll. */
    EXPECT(fusewire_pool4_poll(&p, fusewire_tick_of(30100), evs, 2, &n), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    CHECK(n == 0);
    EXPECT(fusewire_pool4_poll(&p, fusewire_tick_of(30100), evs, 3, &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 1 && evs[0].kind == FUSEWIRE_POOL_EVENT_KIND_RETURNED && evs[0].endpoint == 1 && evs[0].until == 0);
    EXPECT(fusewire_pool4_stats(&p, fusewire_tick_of(30100), 1, &s), FUSEWIRE_STATUS_OK);
    CHECK(s.ejected == 0 && s.ejected_until == 0);
}

/* core pool::tests::ejections_grow_with_the_count_and_stop_at_the_max and
 * gateway_failures_have_their_own_run */
static void test_pool_growth_and_gateway(void) {
    fusewire_pool16 p;
    fusewire_pool_config c = pool_cfg();
    fusewire_pool_event ev;
    c.consecutive_failures = 1;
    c.max_ejection_time = 70000;
    EXPECT(fusewire_pool16_init(&p, &c, 2, NULL), FUSEWIRE_STATUS_OK);
    fusewire_pool16_record(&p, fusewire_tick_of(0), on(0), FUSEWIRE_CALL_RESULT_FAILURE, &ev);
    CHECK(ev.kind == FUSEWIRE_POOL_EVENT_KIND_EJECTED && ev.until == 30000);
    fusewire_pool16_record(&p, fusewire_tick_of(30000), on(0), FUSEWIRE_CALL_RESULT_FAILURE, &ev);
    CHECK(ev.kind == FUSEWIRE_POOL_EVENT_KIND_EJECTED && ev.until == 90000);
    fusewire_pool16_record(&p, fusewire_tick_of(90000), on(0), FUSEWIRE_CALL_RESULT_FAILURE, &ev);
    CHECK(ev.kind == FUSEWIRE_POOL_EVENT_KIND_EJECTED && ev.until == 160000); /* capped at 70 s */

    c = pool_cfg();
    c.consecutive_failures = 10;
    c.consecutive_gateway_failures = 2;
    EXPECT(fusewire_pool16_init(&p, &c, 4, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_pool16_record(&p, fusewire_tick_of(1), on(3), FUSEWIRE_CALL_RESULT_GATEWAY_FAILURE, &ev), FUSEWIRE_STATUS_OK);
    CHECK(ev.kind == FUSEWIRE_POOL_EVENT_KIND_NONE);
    EXPECT(fusewire_pool16_record(&p, fusewire_tick_of(2), on(3), FUSEWIRE_CALL_RESULT_GATEWAY_FAILURE, NULL), FUSEWIRE_STATUS_OK);
    {
        fusewire_endpoint_stats s;
        EXPECT(fusewire_pool16_stats(&p, fusewire_tick_of(2), 3, &s), FUSEWIRE_STATUS_OK);
        CHECK(s.ejected == 1 && s.consecutive_gateway_failures == 2 && s.consecutive_failures == 2);
    }
}

/* core pool::tests::success_rate_outliers_are_ejected_at_the_interval */
static void test_pool_success_rate(void) {
    fusewire_pool16 p;
    fusewire_pool_config c = pool_cfg();
    fusewire_pool_event evs[FUSEWIRE_POOL16_CAPACITY];
    fusewire_endpoint_stats s;
    uint32_t i, j, n = 0;
    c.consecutive_failures = 0;
    c.consecutive_gateway_failures = 0;
    EXPECT(fusewire_pool16_init(&p, &c, 5, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 5; i++)
        for (j = 0; j < 100; j++) {
            fusewire_call_result r = i == 4 && j % 2 == 0 ? FUSEWIRE_CALL_RESULT_FAILURE : FUSEWIRE_CALL_RESULT_SUCCESS;
            EXPECT_QUIET(fusewire_pool16_record(&p, fusewire_tick_of(10), on(i), r, NULL));
        }
    EXPECT(fusewire_pool16_poll(&p, fusewire_tick_of(9999), evs, 5, &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 0); /* the interval has not ended */
    EXPECT(fusewire_pool16_poll(&p, fusewire_tick_of(10000), evs, FUSEWIRE_POOL16_CAPACITY, &n), FUSEWIRE_STATUS_OK);
    CHECK(n == 1 && evs[0].kind == FUSEWIRE_POOL_EVENT_KIND_EJECTED && evs[0].endpoint == 4);
    CHECK(evs[0].reason == FUSEWIRE_EJECT_REASON_SUCCESS_RATE && evs[0].until == 40000);
    EXPECT(fusewire_pool16_stats(&p, fusewire_tick_of(10000), 0, &s), FUSEWIRE_STATUS_OK);
    CHECK(s.calls == 0 && s.successes == 0); /* the interval's counts restart */
}

/* core pool::tests::failover_avoids_the_previous_endpoint_under_the_budget */
static void test_pool_failover(void) {
    fusewire_pool4 p, one;
    fusewire_pool_config c = pool_cfg();
    fusewire_budget budget;
    fusewire_budget_config bc = {2, 100};
    fusewire_pool_pick k = {77, 1};
    fusewire_endpoint_stats s;
    uint64_t before = 0, after = 0;
    uint32_t i;
    int hit = 0;
    EXPECT(fusewire_pool4_init(&p, &c, 3, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_budget_init(&budget, &bc, NULL), FUSEWIRE_STATUS_OK);
    for (i = 0; i < 20; i++) {
        EXPECT_QUIET(fusewire_pool4_pick_avoiding(&p, fusewire_tick_of(0), 1, &k));
        hit += k.endpoint == 1;
        fusewire_pool4_release(&p, k);
    }
    CHECK(hit == 0);
    EXPECT(fusewire_pool4_failover(&p, fusewire_tick_of(0), 2, &budget, &k), FUSEWIRE_STATUS_OK);
    CHECK(k.endpoint != 2);
    fusewire_pool4_release(&p, k);
    /* Most calls failing: the budget stops retries, nothing is picked. */
    fusewire_budget_record_failure(&budget);
    fusewire_budget_record_failure(&budget);
    for (i = 0; i < 3; i++) {
        fusewire_pool4_stats(&p, fusewire_tick_of(0), i, &s);
        before += s.picked;
    }
    k.endpoint = 77;
    EXPECT(fusewire_pool4_failover(&p, fusewire_tick_of(0), 2, &budget, &k), FUSEWIRE_STATUS_THROTTLED);
    CHECK(k.endpoint == 77); /* not written */
    for (i = 0; i < 3; i++) {
        fusewire_pool4_stats(&p, fusewire_tick_of(0), i, &s);
        after += s.picked;
    }
    CHECK(before == after);
    /* A one-endpoint pool never ejects it and fails over to it. */
    c.consecutive_failures = 1;
    EXPECT(fusewire_pool4_init(&one, &c, 1, NULL), FUSEWIRE_STATUS_OK);
    {
        fusewire_pool_event ev;
        uint32_t max = 9;
        EXPECT(fusewire_pool4_record(&one, fusewire_tick_of(0), on(0), FUSEWIRE_CALL_RESULT_FAILURE, &ev), FUSEWIRE_STATUS_OK);
        CHECK(ev.kind == FUSEWIRE_POOL_EVENT_KIND_NONE);
        EXPECT(fusewire_pool4_endpoints(&one, NULL, &max), FUSEWIRE_STATUS_OK);
        CHECK(max == 0);
    }
    EXPECT(fusewire_pool4_pick_avoiding(&one, fusewire_tick_of(0), 0, &k), FUSEWIRE_STATUS_OK);
    CHECK(k.endpoint == 0);
}

/* core pool::tests::bad_configs_name_the_field, and misuse */
static void test_pool_errors_and_misuse(void) {
    fusewire_pool4 p, zero;
    fusewire_pool16 big;
    fusewire_pool_config c = pool_cfg(), bad;
    fusewire_config_error e = {FUSEWIRE_FIELD_NONE, FUSEWIRE_PROBLEM_NONE};
    fusewire_pool_pick k;
    fusewire_pool_event evs[4];
    fusewire_endpoint_stats s;
    fusewire_budget budget;
    fusewire_chaos chaos;
    fusewire_chaos_config cc;
    uint64_t words[FUSEWIRE_POOL4_SIZE / 8 + 1];
    unsigned char *bytes = (unsigned char *)&p;
    uint32_t n = 0;
    size_t at;
    int corrupt = 0, odd = 0;

    bad = c; bad.interval = 0;
    EXPECT(fusewire_pool4_init(&p, &bad, 2, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_POOL_INTERVAL && e.problem == FUSEWIRE_PROBLEM_ZERO);
    CHECK(strcmp(fusewire_field_text(e.field), "pool.interval") == 0);
    bad = c; bad.base_ejection_time = 0;
    EXPECT(fusewire_pool4_init(&p, &bad, 2, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_POOL_BASE_EJECTION_TIME && e.problem == FUSEWIRE_PROBLEM_ZERO);
    bad = c; bad.max_ejection_time = 1;
    EXPECT(fusewire_pool16_init(&big, &bad, 2, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_POOL_MAX_EJECTION_TIME && e.problem == FUSEWIRE_PROBLEM_INCONSISTENT);
    bad = c; bad.max_ejection_percent = 101;
    EXPECT(fusewire_pool16_init(&big, &bad, 2, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_POOL_MAX_EJECTION_PERCENT && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    CHECK(strcmp(fusewire_field_text(e.field), "pool.max_ejection_percent") == 0);
    EXPECT(fusewire_pool4_init(&p, &c, 0, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_POOL_ENDPOINTS && e.problem == FUSEWIRE_PROBLEM_ZERO);
    CHECK(strcmp(fusewire_field_text(e.field), "pool.endpoints") == 0);
    EXPECT(fusewire_pool4_init(&p, &c, 5, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_POOL_ENDPOINTS && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    EXPECT(fusewire_pool16_init(&big, &c, 17, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_POOL_ENDPOINTS && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    EXPECT(fusewire_pool16_init(&big, &c, UINT32_MAX, &e), FUSEWIRE_STATUS_INVALID_CONFIG);
    CHECK(e.field == FUSEWIRE_FIELD_POOL_ENDPOINTS && e.problem == FUSEWIRE_PROBLEM_OUT_OF_RANGE);
    EXPECT(fusewire_pool4_init(&p, &c, 4, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_pool16_init(&big, &c, 16, NULL), FUSEWIRE_STATUS_OK);

    /* Out-of-range arguments: an endpoint the pool does not have, an
     * unknown result. Nothing changes. */
    EXPECT(fusewire_pool4_record(&p, fusewire_tick_of(0), on(4), FUSEWIRE_CALL_RESULT_FAILURE, NULL), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    EXPECT(fusewire_pool4_record(&p, fusewire_tick_of(0), on(0), (fusewire_call_result)3, NULL), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    EXPECT(fusewire_pool4_release(&p, on(70000)), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    EXPECT(fusewire_pool4_pick_avoiding(&p, fusewire_tick_of(0), 4, &k), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    EXPECT(fusewire_pool4_stats(&p, fusewire_tick_of(0), 4, &s), FUSEWIRE_STATUS_INVALID_ARGUMENT);
    EXPECT(fusewire_pool16_stats(&big, fusewire_tick_of(0), 15, &s), FUSEWIRE_STATUS_OK);
    CHECK(s.calls == 0 && s.picked == 0);

    /* NULLs. */
    EXPECT(fusewire_pool4_init(NULL, &c, 2, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool4_init(&p, NULL, 2, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool4_pick(NULL, fusewire_tick_of(0), &k), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool4_pick(&p, fusewire_tick_of(0), NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool4_pick_avoiding(&p, fusewire_tick_of(0), 0, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool4_failover(&p, fusewire_tick_of(0), 0, NULL, &k), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool4_record(NULL, fusewire_tick_of(0), on(0), FUSEWIRE_CALL_RESULT_SUCCESS, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool4_release(NULL, on(0)), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool4_poll(&p, fusewire_tick_of(0), NULL, 4, &n), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool4_poll(&p, fusewire_tick_of(0), evs, 4, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool4_stats(&p, fusewire_tick_of(0), 0, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool4_endpoints(NULL, &n, NULL), FUSEWIRE_STATUS_NULL_ARGUMENT);
    EXPECT(fusewire_pool16_pick(NULL, fusewire_tick_of(0), &k), FUSEWIRE_STATUS_NULL_ARGUMENT);

    /* Zeroed, the other capacity's object, another type's, a budget that
     * is not one, misaligned: refused. */
    memset(&zero, 0, sizeof zero);
    EXPECT(fusewire_pool4_pick(&zero, fusewire_tick_of(0), &k), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_pool4_pick((fusewire_pool4 *)(void *)&big, fusewire_tick_of(0), &k), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_pool16_pick((fusewire_pool16 *)(void *)&p, fusewire_tick_of(0), &k), FUSEWIRE_STATUS_NOT_INITIALIZED);
    memset(&cc, 0, sizeof cc);
    EXPECT(fusewire_chaos_init(&chaos, &cc, NULL), FUSEWIRE_STATUS_OK);
    EXPECT(fusewire_pool4_endpoints((fusewire_pool4 *)(void *)&chaos, &n, NULL), FUSEWIRE_STATUS_NOT_INITIALIZED);
    memset(&budget, 0, sizeof budget);
    EXPECT(fusewire_pool4_failover(&p, fusewire_tick_of(0), 0, &budget, &k), FUSEWIRE_STATUS_NOT_INITIALIZED);
    EXPECT(fusewire_pool4_init((fusewire_pool4 *)(void *)((char *)words + 4), &c, 2, NULL), FUSEWIRE_STATUS_INVALID_ARGUMENT);

    /* Every byte after the tag scribbled: an answer or CORRUPT (the count,
     * the ejection percentage), never a crash. */
    for (at = 4; at < sizeof p; at++) {
        fusewire_status st;
        EXPECT_QUIET(fusewire_pool4_init(&p, &c, 3, NULL));
        bytes[at] = 0xFF;
        st = fusewire_pool4_pick(&p, fusewire_tick_of(1), &k);
        if (st == FUSEWIRE_STATUS_OK) {
            odd += k.endpoint >= 3;
            st = fusewire_pool4_record(&p, fusewire_tick_of(2), k, FUSEWIRE_CALL_RESULT_FAILURE, NULL);
            odd += st != FUSEWIRE_STATUS_OK;
            st = fusewire_pool4_poll(&p, fusewire_tick_of(50000), evs, 4, &n);
            odd += st != FUSEWIRE_STATUS_OK;
        } else {
            corrupt++;
            odd += st != FUSEWIRE_STATUS_CORRUPT;
            EXPECT(fusewire_pool4_poll(&p, fusewire_tick_of(50000), evs, 4, &n), FUSEWIRE_STATUS_CORRUPT);
            EXPECT(fusewire_pool4_stats(&p, fusewire_tick_of(0), 0, &s), FUSEWIRE_STATUS_CORRUPT);
        }
    }
    CHECK(corrupt >= 5 && odd == 0); /* the 4 count bytes, a percentage byte */
    bytes[0] ^= 1; /* the tag */
    EXPECT(fusewire_pool4_pick(&p, fusewire_tick_of(0), &k), FUSEWIRE_STATUS_NOT_INITIALIZED);
}

int main(void) {
    test_chaos_rates();
    test_chaos_replay_and_switch();
    test_chaos_errors_and_misuse();
    test_pool_defaults();
    test_pool_eject_and_return();
    test_pool_growth_and_gateway();
    test_pool_success_rate();
    test_pool_failover();
    test_pool_errors_and_misuse();
    return report();
}
