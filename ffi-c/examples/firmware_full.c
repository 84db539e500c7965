/* The full profile on a firmware main loop (see firmware.c for the minimal one):
 * a 1 ms tick, a circuit breaker around a flaky sensor read, a backoff
 * between retries of that read, and a token bucket on the log channel so a
 * failing sensor cannot flood the UART.
 *
 * Every fusewire object is a static: no heap, sizes known at compile time.
 * The platform (tick, sensor, UART) is three functions at the bottom; on
 * the host they are simulated so `make test` runs the loop for 10 seconds
 * of ticks and checks what happened. */
#include "fusewire.h"

#include <stdio.h>

/* ---- platform: on a board these would be SysTick, an I2C read, a UART --- */
static uint32_t sim_ms;
static uint32_t platform_millis(void) { return sim_ms; }
/* The sensor fails every read between t=2s and t=5s, and one read in
 * seven otherwise. Returns 0 on success. */
static int platform_sensor_read(int32_t *out) {
    static uint32_t reads;
    reads++;
    if ((sim_ms >= 2000 && sim_ms < 5000) || reads % 7 == 0) {
        return -1;
    }
    *out = (int32_t)(200 + reads % 50);
    return 0;
}
static uint32_t uart_lines;
static void platform_uart_write(const char *line) {
    uart_lines++;
    if (uart_lines <= 12) { /* the host run keeps its output short */
        printf("[%5u ms] %s\n", (unsigned)sim_ms, line);
    }
}

/* ---- application ------------------------------------------------------- */
static fusewire_breaker sensor_breaker;
static fusewire_backoff sensor_backoff;
static fusewire_bucket log_bucket;

static uint64_t next_read_at;   /* when the next sensor read is due */
static uint32_t readings, rejected, logs_dropped;

/* Log through the token bucket: at most a burst of 5, then 2 lines/second. */
static void log_line(const char *line, uint64_t now) {
    if (fusewire_bucket_acquire(&log_bucket, fusewire_tick_of(now), 1, NULL) == FUSEWIRE_STATUS_OK) {
        platform_uart_write(line);
    } else {
        logs_dropped++;
    }
}

static int app_init(void) {
    fusewire_breaker_config bc;
    fusewire_backoff_config boc;
    fusewire_bucket_config lc;
    fusewire_config_error err;

    fusewire_breaker_config_default(&bc);
    bc.min_calls = 5;              /* judge after 5 reads...              */
    bc.failure_rate_ppm = FUSEWIRE_PERCENT(50); /* ...open at half failing */
    bc.open_backoff.base = 1000;   /* stay open 1 s, then probe           */
    bc.open_backoff.cap = 1000;
    if (fusewire_breaker_init(&sensor_breaker, &bc, &err) != FUSEWIRE_STATUS_OK) {
        return -1;
    }

    boc.schedule = FUSEWIRE_SCHEDULE_EXPONENTIAL;
    boc.base = 10; /* 10, 20, 40 ... ms, capped at 320 ms, equal jitter */
    boc.step = 0;
    boc.factor_milli = 2000;
    boc.cap = 320;
    boc.jitter = FUSEWIRE_JITTER_EQUAL;
    boc.jitter_percent = 0;
    if (fusewire_backoff_init(&sensor_backoff, &boc, 0x5EED, &err) != FUSEWIRE_STATUS_OK) {
        return -1;
    }

    lc.burst = 5;
    lc.tokens = 2;
    lc.period = 1000;
    if (fusewire_bucket_init(&log_bucket, &lc, &err) != FUSEWIRE_STATUS_OK) {
        return -1;
    }
    return 0;
}

/* One pass of the main loop; `now` is the millisecond tick. */
static void app_tick(uint64_t now) {
    fusewire_permit permit;
    fusewire_transition moved;
    uint64_t wait = 0;
    int32_t value = 0;
    uint64_t delay = 0;

    if (now < next_read_at) {
        return;
    }
    if (fusewire_breaker_acquire(&sensor_breaker, fusewire_tick_of(now), &permit, &wait, &moved) != FUSEWIRE_STATUS_OK) {
        rejected++;
        next_read_at = now + wait; /* the breaker says when to come back */
        return;
    }
    if (moved.moved && moved.to == FUSEWIRE_STATE_HALF_OPEN) {
        log_line("sensor: breaker half-open, probing", now);
    }
    if (platform_sensor_read(&value) == 0) {
        fusewire_breaker_record(&sensor_breaker, fusewire_tick_of(now), permit, FUSEWIRE_OUTCOME_SUCCESS, 1, &moved);
        fusewire_backoff_reset(&sensor_backoff);
        readings++;
        next_read_at = now + 100; /* 10 Hz sampling */
    } else {
        fusewire_breaker_record(&sensor_breaker, fusewire_tick_of(now), permit, FUSEWIRE_OUTCOME_FAILURE, 1, &moved);
        fusewire_backoff_next(&sensor_backoff, &delay);
        next_read_at = now + delay; /* retry soon, a bit later each time */
        log_line("sensor: read failed", now);
    }
    if (moved.moved && moved.to == FUSEWIRE_STATE_OPEN) {
        log_line("sensor: breaker OPEN", now);
    } else if (moved.moved && moved.to == FUSEWIRE_STATE_CLOSED) {
        log_line("sensor: breaker closed again", now);
    }
}

int main(void) {
    fusewire_breaker_stats stats;
    uint32_t state = 0;
    if (app_init() != 0) {
        return 1;
    }
    for (sim_ms = 0; sim_ms < 10000; sim_ms++) { /* 10 s of 1 ms ticks */
        app_tick(platform_millis());
    }
    fusewire_breaker_snapshot(&sensor_breaker, fusewire_tick_of(platform_millis()), &stats);
    fusewire_breaker_state(&sensor_breaker, &state);
    printf("readings=%u rejected=%u uart_lines=%u logs_dropped=%u state=%u generation=%u\n",
           (unsigned)readings, (unsigned)rejected, (unsigned)uart_lines, (unsigned)logs_dropped,
           (unsigned)state, (unsigned)stats.generation);
    /* What the run must show: the breaker opened during the outage and
     * closed after it, readings resumed, and the log was rate limited. */
    if (state != FUSEWIRE_STATE_CLOSED || stats.generation < 3 || rejected == 0 ||
        readings < 50 || logs_dropped == 0) {
        printf("example: unexpected behaviour\n");
        return 1;
    }
    printf("example: ok\n");
    return 0;
}
