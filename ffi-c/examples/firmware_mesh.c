/* A device sending telemetry to three gateways through a fusewire_pool4,
 * with a fusewire_chaos switched on for a while as a resilience drill.
 *
 * Every 10 ms the main loop picks a gateway (two at random, the one with
 * fewer sends outstanding, never an ejected one while another is healthy),
 * asks the chaos object whether to fail this send on purpose, sends, and
 * records how it went; a failed send fails over once to another gateway
 * under a retry budget. Every 100 ms it polls the pool for ejections that
 * ended, into a buffer of four events. Gateway 1 answers 503 between
 * t=2 s and t=6 s; chaos injects 30 % faults between t=8 s and t=9 s.
 *
 * Every fusewire object is a static: no heap, sizes known at compile time.
 * On the host `make test` runs 12 s of ticks and checks what happened. */
#include "fusewire.h"

#include <stdio.h>

/* ---- platform: on a board, SysTick and the radio ----------------------- */
static uint32_t sim_ms;
static uint32_t platform_millis(void) { return sim_ms; }
/* 0: delivered; 503: the gateway is down. */
static uint32_t sends_to[3];
static int platform_send(uint32_t gateway) {
    sends_to[gateway]++;
    return gateway == 1 && sim_ms >= 2000 && sim_ms < 6000 ? 503 : 0;
}
static uint32_t log_lines;
static void platform_log(const char *what, uint32_t gateway, uint32_t until) {
    log_lines++;
    if (log_lines <= 8) {
        printf("[%5u ms] gateway %u %s (until %u ms)\n", (unsigned)sim_ms, (unsigned)gateway, what, (unsigned)until);
    }
}

/* ---- application ------------------------------------------------------- */
static fusewire_pool4 gateways;
static fusewire_budget retries;
static fusewire_chaos drill;
static uint32_t delivered, lost, injected, ejections, returns;

static void report(const fusewire_pool_event *e) {
    if (e->kind == FUSEWIRE_POOL_EVENT_KIND_EJECTED) {
        ejections++;
        platform_log("ejected", e->endpoint, (uint32_t)e->until);
    } else if (e->kind == FUSEWIRE_POOL_EVENT_KIND_RETURNED) {
        returns++;
        platform_log("back", e->endpoint, 0);
    }
}

/* One attempt on `pick`: chaos may fail it before it is sent. */
static int attempt(fusewire_tick now, fusewire_pool_pick pick) {
    fusewire_injection inj;
    fusewire_pool_event e;
    int failed;
    if (fusewire_chaos_inject(&drill, &inj) == FUSEWIRE_STATUS_OK && inj.outcome == FUSEWIRE_CHAOS_OUTCOME_FAULT) {
        injected++;
        failed = 1;
    } else {
        failed = platform_send(pick.endpoint) != 0;
    }
    fusewire_pool4_record(&gateways, now, pick,
                          failed ? FUSEWIRE_CALL_RESULT_GATEWAY_FAILURE : FUSEWIRE_CALL_RESULT_SUCCESS, &e);
    report(&e);
    if (failed) {
        fusewire_budget_record_failure(&retries);
    } else {
        fusewire_budget_record_success(&retries);
    }
    return !failed;
}

static void send_telemetry(fusewire_tick now) {
    fusewire_pool_pick pick, next;
    if (fusewire_pool4_pick(&gateways, now, &pick) != FUSEWIRE_STATUS_OK) {
        return;
    }
    if (attempt(now, pick)) {
        delivered++;
    } else if (fusewire_pool4_failover(&gateways, now, pick.endpoint, &retries, &next) == FUSEWIRE_STATUS_OK &&
               attempt(now, next)) {
        delivered++;
    } else {
        lost++;
    }
}

int main(void) {
    fusewire_pool_config pc;
    fusewire_budget_config bc = {10, 100};
    fusewire_chaos_config cc = {0, 0, 0, 0, 0, 0, 0, 0};
    fusewire_pool_event events[FUSEWIRE_POOL4_CAPACITY];
    uint32_t n, i, down_sends = 0;

    fusewire_pool_config_default(&pc);
    pc.consecutive_gateway_failures = 3;
    pc.base_ejection_time = 1000;
    pc.max_ejection_time = 4000;
    pc.max_ejection_percent = 34; /* one of three */
    pc.seed = 0xF1E1D;
    cc.fault_rate_ppm = FUSEWIRE_PERCENT(30);
    cc.seed = 2026;
    if (fusewire_pool4_init(&gateways, &pc, 3, NULL) != FUSEWIRE_STATUS_OK ||
        fusewire_budget_init(&retries, &bc, NULL) != FUSEWIRE_STATUS_OK ||
        fusewire_chaos_init(&drill, &cc, NULL) != FUSEWIRE_STATUS_OK) {
        return 2;
    }
    for (sim_ms = 0; sim_ms < 12000; sim_ms++) {
        fusewire_tick now = fusewire_tick_of(platform_millis());
        if (sim_ms == 8000 || sim_ms == 9000) {
            fusewire_chaos_set_enabled(&drill, sim_ms == 8000);
        }
        if (sim_ms % 10 == 0) {
            uint32_t before = sends_to[1];
            send_telemetry(now);
            down_sends += sim_ms >= 2000 && sim_ms < 6000 ? sends_to[1] - before : 0;
        }
        if (sim_ms % 100 == 0 && fusewire_pool4_poll(&gateways, now, events, FUSEWIRE_POOL4_CAPACITY, &n) == FUSEWIRE_STATUS_OK) {
            for (i = 0; i < n; i++) {
                report(&events[i]);
            }
        }
    }
    printf("sends per gateway %u/%u/%u (gateway 1 down 4 s: %u sends then), ejections %u, returns %u\n",
           (unsigned)sends_to[0], (unsigned)sends_to[1], (unsigned)sends_to[2], (unsigned)down_sends,
           (unsigned)ejections, (unsigned)returns);
    printf("delivered %u, lost %u, chaos faults injected %u\n", (unsigned)delivered, (unsigned)lost, (unsigned)injected);
    /* 1200 sends; while gateway 1 is down it gets a probe after each
     * ejection ends, not its third of the traffic (a record after the end
     * ejects it again before a poll reports it back, so there are more
     * ejections than returns); chaos faulted about 30 of the 100 sends in
     * its second, and the failovers delivered most of them (a failover is
     * itself subject to chaos and to the retry budget). */
    return delivered + lost == 1200 && delivered >= 1100 && down_sends < 60 && ejections >= 3 && returns >= 2 &&
                   injected > 10
               ? 0
               : 1;
}
