/* ns per call of the hot paths, on the host: `make -C ffi-c bench`. */
#include "fusewire.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define N 10000000u

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A plain C flag and counter: the floor a chaos decision is compared to. */
static volatile uint8_t plain_enabled;

/* Chaos switched off and on, and the endpoint pools' pick + record against
 * a plain round-robin over the same endpoints (an index and a counter per
 * endpoint: what a host without outlier detection would do). */
static uint64_t bench_mesh(void) {
    static fusewire_chaos c;
    static fusewire_pool16 p16;
    static fusewire_pool4 p4;
    static uint32_t rr_calls[16];
    fusewire_chaos_config cc;
    fusewire_pool_config pc;
    fusewire_injection j;
    fusewire_pool_pick k;
    uint64_t sink = 0;
    uint32_t i, rr = 0;
    double t0;

    memset(&cc, 0, sizeof cc);
    cc.fault_rate_ppm = FUSEWIRE_PERCENT(10);
    cc.latency_rate_ppm = FUSEWIRE_PERCENT(10);
    cc.latency_max = 100;
    cc.substitute_rate_ppm = FUSEWIRE_PERCENT(10);
    cc.behavior_rate_ppm = FUSEWIRE_PERCENT(10);
    cc.seed = 1;
    fusewire_chaos_init(&c, &cc, NULL);

    t0 = now_ns();
    for (i = 0; i < N; i++) {
        if (plain_enabled) {
            sink += i;
        }
    }
    printf("floor: a C flag check:  %6.1f ns\n", (now_ns() - t0) / N);
    t0 = now_ns();
    for (i = 0; i < N; i++) {
        fusewire_chaos_inject(&c, &j);
        sink += j.delay;
    }
    printf("chaos inject, off:      %6.1f ns\n", (now_ns() - t0) / N);
    fusewire_chaos_set_enabled(&c, 1);
    t0 = now_ns();
    for (i = 0; i < N; i++) {
        fusewire_chaos_inject(&c, &j);
        sink += j.delay + j.outcome;
    }
    printf("chaos inject, on:       %6.1f ns\n", (now_ns() - t0) / N);
    t0 = now_ns();
    for (i = 0; i < N; i++) {
        fusewire_chaos_decide(&c, i, &j);
        sink += j.delay + j.outcome;
    }
    printf("chaos decide(i), on:    %6.1f ns\n", (now_ns() - t0) / N);

    fusewire_pool_config_default(&pc);
    pc.seed = 1;
    fusewire_pool16_init(&p16, &pc, 8, NULL);
    fusewire_pool4_init(&p4, &pc, 3, NULL);
    t0 = now_ns();
    for (i = 0; i < N; i++) {
        uint32_t e = rr;
        rr = rr + 1 == 8 ? 0 : rr + 1;
        rr_calls[e]++;
        sink += rr_calls[e];
    }
    printf("round-robin floor, 8:   %6.1f ns\n", (now_ns() - t0) / N);
    t0 = now_ns();
    for (i = 0; i < N; i++) {
        fusewire_pool16_pick(&p16, fusewire_tick_of(i), &k);
        fusewire_pool16_record(&p16, fusewire_tick_of(i), k, FUSEWIRE_CALL_RESULT_SUCCESS, NULL);
        sink += k.endpoint;
    }
    printf("pool16 (8) pick+record: %6.1f ns\n", (now_ns() - t0) / N);
    t0 = now_ns();
    for (i = 0; i < N; i++) {
        fusewire_pool4_pick(&p4, fusewire_tick_of(i), &k);
        fusewire_pool4_record(&p4, fusewire_tick_of(i), k, FUSEWIRE_CALL_RESULT_SUCCESS, NULL);
        sink += k.endpoint;
    }
    printf("pool4 (3) pick+record:  %6.1f ns\n", (now_ns() - t0) / N);
    return sink;
}

int main(void) {
    static fusewire_breaker b;
    static fusewire_bucket k;
    static fusewire_backoff bo;
    fusewire_breaker_config bc;
    fusewire_bucket_config kc;
    fusewire_backoff_config boc;
    uint64_t sink = 0, d = 0;
    uint32_t i;
    double t0;

    fusewire_breaker_config_default(&bc);
    fusewire_breaker_init(&b, &bc, NULL);
    kc.burst = 1000;
    kc.tokens = 1;
    kc.period = 1;
    fusewire_bucket_init(&k, &kc, NULL);
    fusewire_backoff_config_default(&boc);
    fusewire_backoff_init(&bo, &boc, 1, NULL);

    t0 = now_ns();
    for (i = 0; i < N; i++) {
        fusewire_permit p;
        if (fusewire_breaker_acquire(&b, fusewire_tick_of(i), &p, NULL, NULL) == FUSEWIRE_STATUS_OK) {
            fusewire_breaker_record(&b, fusewire_tick_of(i), p, FUSEWIRE_OUTCOME_SUCCESS, 1, NULL);
        }
    }
    printf("breaker acquire+record: %6.1f ns\n", (now_ns() - t0) / N);
    t0 = now_ns();
    for (i = 0; i < N; i++) {
        sink += fusewire_bucket_acquire(&k, fusewire_tick_of(i), 1, NULL);
    }
    printf("bucket acquire:         %6.1f ns\n", (now_ns() - t0) / N);
    t0 = now_ns();
    for (i = 0; i < N; i++) {
        fusewire_backoff_next(&bo, &d);
        sink += d;
    }
    printf("backoff next:           %6.1f ns\n", (now_ns() - t0) / N);
    sink += bench_mesh();
    return sink == 42 ? 1 : 0;
}
