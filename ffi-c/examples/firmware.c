/* A firmware main loop on fusewire's minimal profile (fusewire_lite_*),
 * as it would run on a Cortex-M: the raw 32-bit millisecond tick, a
 * circuit breaker around a flaky sensor read, a backoff between retries of
 * that read, and a token bucket on the log channel so a failing sensor
 * cannot flood the UART. About 1 KiB of code and 72 bytes of RAM for the
 * three (make -C ffi-c size). firmware_full.c is the same loop on the full
 * profile.
 *
 * Every object is static and built by the compiler: no heap, no init
 * code. The platform (tick, sensor, UART) is three functions at the top;
 * on the host they are simulated so `make test` runs the loop for 10
 * seconds of ticks, starting just before the 32-bit tick wraps. */
#include "fusewire.h"

#include <stdio.h>

/* ---- platform: on a board these would be HAL_GetTick, an I2C read, a UART */
static uint32_t sim_ms;
static uint32_t platform_millis(void) { return sim_ms; }
/* The sensor fails every read in the 2nd to 5th second of the run, and one
 * read in seven otherwise. Returns 0 on success. */
static uint32_t run_start;
static int platform_sensor_read(int32_t *out) {
    static uint32_t reads;
    uint32_t t = sim_ms - run_start;
    reads++;
    if ((t >= 2000 && t < 5000) || reads % 7 == 0) {
        return -1;
    }
    *out = (int32_t)(200 + reads % 50);
    return 0;
}
static uint32_t uart_lines;
static void platform_uart_write(const char *line) {
    uart_lines++;
    if (uart_lines <= 12) { /* the host run keeps its output short */
        printf("[%5u ms] %s\n", (unsigned)(sim_ms - run_start), line);
    }
}

/* ---- application ------------------------------------------------------- */
/* Built by the compiler (no init call, no init code; a bad value fails
 * the build). Runtime configs go through the _init functions instead. */
/* Open after 3 failed reads in a row, stay open 1 s, then one probe. */
static fusewire_lite_breaker sensor_breaker = FUSEWIRE_LITE_BREAKER_INIT(3, 1000);
/* 10, 20, 40 ... ms, capped at 320 ms, full jitter. */
static fusewire_lite_backoff sensor_backoff = FUSEWIRE_LITE_BACKOFF_INIT(10, 320, 0x5EED);
/* A burst of 3 log lines, then one a second. */
static fusewire_lite_bucket log_bucket = FUSEWIRE_LITE_BUCKET_INIT(1000, 3);

static uint32_t next_read_at; /* when the next sensor read is due (wrapping) */
static uint32_t readings, rejected, logs_dropped, opened, closed;
static fusewire_state breaker_state = FUSEWIRE_STATE_CLOSED;

static void log_line(const char *line, fusewire_tick32 now) {
    if (fusewire_lite_bucket_acquire(&log_bucket, now, 1, NULL) == FUSEWIRE_STATUS_OK) {
        platform_uart_write(line);
    } else {
        logs_dropped++;
    }
}

/* One pass of the main loop; `ms` is the raw millisecond tick. */
static void app_tick(uint32_t ms) {
    fusewire_tick32 now = fusewire_tick32_of(ms);
    fusewire_lite_permit permit;
    fusewire_state before = breaker_state;
    uint32_t wait = 0, delay = 0;
    int32_t value = 0;

    if ((int32_t)(ms - next_read_at) < 0) {
        return; /* not due yet: a difference, so the wrap is harmless */
    }
    if (fusewire_lite_breaker_acquire(&sensor_breaker, now, &permit, &wait) != FUSEWIRE_STATUS_OK) {
        rejected++;
        next_read_at = ms + wait; /* the breaker says when to come back */
        return;
    }
    if (platform_sensor_read(&value) == 0) {
        fusewire_lite_breaker_record(&sensor_breaker, now, permit, FUSEWIRE_OUTCOME_SUCCESS, &breaker_state);
        fusewire_lite_backoff_reset(&sensor_backoff);
        readings++;
        next_read_at = ms + 100; /* 10 Hz sampling */
    } else {
        fusewire_lite_breaker_record(&sensor_breaker, now, permit, FUSEWIRE_OUTCOME_FAILURE, &breaker_state);
        fusewire_lite_backoff_next(&sensor_backoff, &delay);
        next_read_at = ms + delay; /* retry soon, a bit later each time */
        log_line("sensor: read failed", now);
    }
    if (breaker_state != before && breaker_state == FUSEWIRE_STATE_OPEN) {
        opened++;
        log_line("sensor: breaker OPEN", now);
    } else if (breaker_state != before && breaker_state == FUSEWIRE_STATE_CLOSED) {
        closed++;
        log_line("sensor: breaker closed again", now);
    }
}

int main(void) {
    fusewire_state state = FUSEWIRE_STATE_OPEN;
    uint32_t i;
    run_start = 0xFFFFFFFFu - 3000u; /* the tick wraps 3 s into the run */
    sim_ms = run_start;
    next_read_at = run_start;
    for (i = 0; i < 10000; i++, sim_ms++) { /* 10 s of 1 ms ticks */
        app_tick(platform_millis());
    }
    state = breaker_state;
    printf("readings=%u rejected=%u opened=%u closed=%u uart_lines=%u logs_dropped=%u state=%u\n",
           (unsigned)readings, (unsigned)rejected, (unsigned)opened, (unsigned)closed,
           (unsigned)uart_lines, (unsigned)logs_dropped, (unsigned)state);
    /* What the run must show: the breaker opened during the outage (across
     * the tick wrap) and closed after it, readings resumed, and the log was
     * rate limited. */
    if (state != FUSEWIRE_STATE_CLOSED || opened == 0 || closed == 0 || rejected == 0 ||
        readings < 50 || logs_dropped == 0) {
        printf("example: unexpected behaviour\n");
        return 1;
    }
    printf("example: ok\n");
    return 0;
}
