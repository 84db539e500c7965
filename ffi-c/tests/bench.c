/* ns per call of the hot paths, on the host: `make -C ffi-c bench`. */
#include "fusewire.h"

#include <stdio.h>
#include <time.h>

#define N 10000000u

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
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
    return sink == 42 ? 1 : 0;
}
