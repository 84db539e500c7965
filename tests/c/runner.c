/* The C runner of the conformance vectors: reads the flat line form written
 * by `fusewire-vectors --lines DIR` (format in tests/README.md) and runs each
 * scenario through libfusewire.a and fusewire.h only. Prints the scenarios it
 * cannot express, with the reason, and fails on any difference. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fusewire.h"

#define MAX_KV 64
typedef struct { int n; char *k[MAX_KV]; char *v[MAX_KV]; } kv;
typedef struct { kv in, expect; } step;
typedef struct {
  char name[256];
  kv config, error;
  int has_error;
  step *steps;
  int nsteps, cap;
} scenario;

static char component[64];
static int failures, passed, skipped;

static void kv_parse(kv *m, char *s) {
  m->n = 0;
  for (char *tok = strtok(s, " \n"); tok && m->n < MAX_KV; tok = strtok(NULL, " \n")) {
    char *eq = strchr(tok, '=');
    if (!eq) continue;
    *eq = 0;
    m->k[m->n] = strdup(tok);
    m->v[m->n] = strdup(eq + 1);
    m->n++;
  }
}
static void kv_free(kv *m) {
  for (int i = 0; i < m->n; i++) { free(m->k[i]); free(m->v[i]); }
  m->n = 0;
}
static const char *get(const kv *m, const char *k) {
  for (int i = 0; i < m->n; i++) if (!strcmp(m->k[i], k)) return m->v[i];
  return NULL;
}
static void put(kv *m, const char *k, const char *v) {
  if (m->n == MAX_KV) return;
  m->k[m->n] = strdup(k);
  m->v[m->n] = strdup(v);
  m->n++;
}
static void putu(kv *m, const char *k, uint64_t v) {
  char b[32];
  snprintf(b, sizeof b, "%llu", (unsigned long long)v);
  put(m, k, b);
}
static uint64_t u64(const char *s) { return s ? strtoull(s, NULL, 10) : 0; }
static int is(const char *a, const char *b) { return a && !strcmp(a, b); }

/* Same keys, same values: order does not matter. */
static int same(const kv *want, const kv *got) {
  if (want->n != got->n) return 0;
  for (int i = 0; i < want->n; i++) {
    const char *g = get(got, want->k[i]);
    if (!g || strcmp(g, want->v[i])) return 0;
  }
  return 1;
}
static void print_kv(const char *label, const kv *m) {
  fprintf(stderr, "  %s", label);
  for (int i = 0; i < m->n; i++) fprintf(stderr, " %s=%s", m->k[i], m->v[i]);
  fprintf(stderr, "\n");
}

static const char *PROBLEMS[] = {"none", "zero", "out_of_range", "not_a_number", "inconsistent",
                                  "never_trips", "exceeds_window", "required"};

/* The core's field name, as the C door spells it (its fusewire_field_text). */
static void c_field(const char *core, char *out, size_t len) {
  const char *f = core;
  if (!strncmp(f, "open_backoff.", 13)) f += 13;
  if (is(f, "schedule.delay") || is(f, "schedule.base")) f = "backoff.base";
  else if (is(f, "schedule.factor_milli")) f = "backoff.factor_milli";
  else if (is(f, "jitter.percent")) f = "backoff.jitter_percent";
  else if (is(f, "cap")) f = "backoff.cap";
  else if (is(f, "failure_rate")) f = "breaker.failure_rate_ppm"; /* C takes millionths */
  else if (is(f, "max_tokens") && is(component, "retry")) f = "budget.max_tokens"; /* its own object in C */
  else if (is(f, "slow_call_rate")) f = "breaker.slow_call_rate_ppm";
  else if (is(component, "chaos") && strlen(f) > 5 && !strcmp(f + strlen(f) - 5, "_rate")) {
    snprintf(out, len, "chaos.%s_ppm", f); /* C takes millionths */
    return;
  } else {
    snprintf(out, len, "%s.%s", is(component, "breaker") ? "breaker" : component, f);
    return;
  }
  snprintf(out, len, "%s", f);
}

/* A config error the door reported, in the vectors' words. */
static void error_kv(kv *got, fusewire_config_error e) {
  put(got, "field", fusewire_field_text(e.field));
  put(got, "problem", e.problem < 8 ? PROBLEMS[e.problem] : "unknown");
}
static int check_config_error(scenario *s, fusewire_status st, fusewire_config_error e) {
  kv got = {0}, want = {0};
  char field[128];
  int ok;
  if (s->has_error) {
    c_field(get(&s->error, "field"), field, sizeof field);
    put(&want, "field", field);
    put(&want, "problem", get(&s->error, "problem"));
  }
  if (st == FUSEWIRE_STATUS_INVALID_CONFIG) error_kv(&got, e);
  ok = s->has_error ? same(&want, &got) : st == FUSEWIRE_STATUS_OK;
  if (!ok) {
    fprintf(stderr, "c: %s: %s: config: status %u\n", component, s->name, (unsigned)st);
    print_kv("expected", &want);
    print_kv("got     ", &got);
  }
  kv_free(&got);
  kv_free(&want);
  return ok;
}

static const char *STATES[] = {"closed", "open", "half_open", "forced_open", "disabled"};
static const char *REASONS[] = {"failure_rate", "slow_call_rate", "consecutive_failures", "open_elapsed",
                                "probes_passed", "probes_failed", "dwell_expired", "host"};

static void transition_kv(kv *got, fusewire_transition t) {
  if (!t.moved) { put(got, "transition", "null"); return; }
  put(got, "transition.from", STATES[t.from]);
  put(got, "transition.to", STATES[t.to]);
  put(got, "transition.reason", REASONS[t.reason]);
}

static uint32_t pick(const char *v, const char **names, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) if (is(v, names[i])) return i;
  return 99;
}

/* A percentage from the vectors as the millionths the C config takes
 * (negative or too large: a value the door rejects as out of range). */
static uint32_t ppm(const char *v) {
  double p = strtod(v, NULL);
  if (p < 0 || p * 10000.0 > 4294967295.0) return UINT32_MAX;
  return (uint32_t)(p * 10000.0 + 0.5);
}

static void backoff_config(const kv *c, const char *prefix, fusewire_backoff_config *b) {
  char k[96];
  static const char *SCHEDULES[] = {"constant", "linear", "exponential"};
  static const char *JITTERS[] = {"none", "full", "equal", "decorrelated", "proportional"};
  const char *v;
#define KEY(name) (snprintf(k, sizeof k, "%s%s", prefix, name), k)
  fusewire_backoff_config_default(b);
  b->schedule = pick(get(c, KEY("schedule")), SCHEDULES, 3);
  b->base = u64(get(c, KEY(b->schedule == FUSEWIRE_SCHEDULE_CONSTANT ? "delay" : "base")));
  b->step = u64(get(c, KEY("step")));
  b->factor_milli = (uint32_t)u64(get(c, KEY("factor_milli")));
  b->cap = u64(get(c, KEY("cap")));
  v = get(c, KEY("jitter"));
  b->jitter = v ? pick(v, JITTERS, 5) : FUSEWIRE_JITTER_NONE;
  b->jitter_percent = (uint32_t)u64(get(c, KEY("percent")));
#undef KEY
}

/* 0 ran, else a reason the scenario cannot be expressed. */
typedef const char *(*runner)(scenario *);

static int check_step(scenario *s, int i, kv *got) {
  int ok = same(&s->steps[i].expect, got);
  if (!ok) {
    fprintf(stderr, "c: %s: %s: step %d (%s)\n", component, s->name, i, get(&s->steps[i].in, "op"));
    print_kv("expected", &s->steps[i].expect);
    print_kv("got     ", got);
  }
  kv_free(got);
  return ok;
}

#define NAMED 64
/* A time window runs on fusewire_timed_breaker, a count window on
 * fusewire_breaker: the same verbs, statuses and outputs. */
#define BREAKER(verb, ...) \
  (timed ? fusewire_timed_breaker_##verb(&tb, __VA_ARGS__) : fusewire_breaker_##verb(&b, __VA_ARGS__))
/* A step's time: its `now`, or its raw wrapping `tick32` through the
 * scenario's one tick widener (reset before each scenario). */
static fusewire_tick_widener widener;
static fusewire_tick step_now(const kv *in) {
  const char *v = get(in, "tick32");
  fusewire_tick t = fusewire_tick_of(u64(get(in, "now")));
  if (v && fusewire_tick_widener_widen(&widener, (uint32_t)u64(v), &t) != FUSEWIRE_STATUS_OK) {
    fprintf(stderr, "c: tick widener refused a reading\n");
    failures++;
  }
  return t;
}

static const char *run_breaker(scenario *s) {
  const kv *c = &s->config;
  const char *v;
  fusewire_breaker_config cfg;
  fusewire_breaker b;
  fusewire_timed_breaker tb;
  fusewire_config_error e = {0};
  fusewire_status st;
  char names[NAMED][32];
  fusewire_permit permits[NAMED];
  int nnamed = 0;
  int timed = get(c, "window.time.span") || get(c, "window.time.buckets");
  uint64_t span = u64(get(c, "window.time.span")), buckets = u64(get(c, "window.time.buckets"));
  if (timed && buckets > FUSEWIRE_TIMED_BREAKER_BUCKETS) return "time window of more buckets than the C timed breaker holds (FUSEWIRE_TIMED_BREAKER_BUCKETS, 16)";
  if ((v = get(c, "window.count")) && u64(v) != FUSEWIRE_BREAKER_WINDOW) return "count window size: the C breaker's is fixed at 16 (FUSEWIRE_BREAKER_WINDOW)";
  if (is(get(c, "consecutive_failures"), "0")) return "consecutive_failures 0 means off in C, so Some(0) cannot be asked for";
  fusewire_breaker_config_default(&cfg);
  /* The C door takes rates in integer millionths (no floating point on
   * firmware): a percentage converts exactly; outside 0..100 stays out of
   * range; NaN has no integer form. */
  if (is(get(c, "failure_rate"), "nan") || is(get(c, "slow_call_rate"), "nan"))
    return "rates are integer millionths in C (failure_rate_ppm), so NaN cannot be asked for";
  if ((v = get(c, "failure_rate"))) {
    cfg.use_failure_rate = !is(v, "null");
    if (cfg.use_failure_rate) cfg.failure_rate_ppm = ppm(v);
  }
  if ((v = get(c, "slow_call_rate"))) {
    cfg.use_slow_call_rate = !is(v, "null");
    if (cfg.use_slow_call_rate) cfg.slow_call_rate_ppm = ppm(v);
  }
  if ((v = get(c, "manual"))) cfg.manual = is(v, "true");
  if ((v = get(c, "slow_call_duration"))) cfg.slow_call_duration = u64(v);
  if ((v = get(c, "consecutive_failures"))) cfg.consecutive_failures = is(v, "null") ? 0 : (uint32_t)u64(v);
  if ((v = get(c, "min_calls"))) cfg.min_calls = (uint32_t)u64(v);
  if ((v = get(c, "comparison"))) cfg.comparison = is(v, "above") ? FUSEWIRE_COMPARISON_ABOVE : FUSEWIRE_COMPARISON_AT_LEAST;
  if ((v = get(c, "rate_basis")))
    cfg.rate_basis = is(v, "all_calls") ? FUSEWIRE_RATE_BASIS_ALL_CALLS
                   : is(v, "started") ? FUSEWIRE_RATE_BASIS_STARTED : FUSEWIRE_RATE_BASIS_OUTCOMES;
  if ((v = get(c, "half_open_probes"))) cfg.half_open_probes = (uint32_t)u64(v);
  if ((v = get(c, "half_open_rule"))) cfg.half_open_rule = is(v, "rates") ? FUSEWIRE_HALF_OPEN_RULE_RATES : FUSEWIRE_HALF_OPEN_RULE_ALL_SUCCEED;
  if ((v = get(c, "half_open_max_dwell"))) cfg.half_open_max_dwell = u64(v);
  if ((v = get(c, "dwell_expiry"))) cfg.dwell_expiry = is(v, "close") ? FUSEWIRE_DWELL_EXPIRY_CLOSE : FUSEWIRE_DWELL_EXPIRY_REOPEN;
  if (get(c, "open_backoff.schedule")) backoff_config(c, "open_backoff.", &cfg.open_backoff);
  if ((v = get(c, "reset_window_on_close"))) cfg.reset_window_on_close = is(v, "true");
  if ((v = get(c, "seed"))) cfg.seed = u64(v);
  st = timed ? fusewire_timed_breaker_init(&tb, &cfg, span, (uint32_t)buckets, &e) : fusewire_breaker_init(&b, &cfg, &e);
  if (!check_config_error(s, st, e)) { failures++; return NULL; }
  if (s->has_error) return NULL;
  for (int i = 0; i < s->nsteps; i++) {
    const kv *in = &s->steps[i].in;
    const char *op = get(in, "op");
    fusewire_tick now = step_now(in);
    fusewire_transition t = {0};
    fusewire_permit p = {0};
    kv got = {0};
    fusewire_state state = FUSEWIRE_STATE_CLOSED;
    if ((v = get(in, "permit_raw"))) p.raw = u64(v);
    else if ((v = get(in, "permit")))
      for (int j = 0; j < nnamed; j++) if (!strcmp(names[j], v)) p = permits[j];
    if (is(op, "acquire")) {
      uint64_t retry_after = 0;
      st = BREAKER(acquire, now, &p, &retry_after, &t);
      if (st == FUSEWIRE_STATUS_OK) {
        put(&got, "admitted", "true");
        put(&got, "probe", (p.raw >> 16) & 1 ? "true" : "false");
        if ((v = get(in, "as")) && nnamed < NAMED) {
          snprintf(names[nnamed], 32, "%s", v);
          permits[nnamed++] = p;
        }
      } else {
        put(&got, "admitted", "false");
        putu(&got, "retry_after", retry_after);
      }
      transition_kv(&got, t);
    } else if (is(op, "snapshot")) {
      fusewire_breaker_stats x;
      BREAKER(snapshot, now, &x);
      putu(&got, "generation", x.generation);
      putu(&got, "counts.successes", x.successes);
      putu(&got, "counts.failures", x.failures);
      putu(&got, "counts.timeouts", x.timeouts);
      putu(&got, "counts.slow", x.slow);
      putu(&got, "counts.ignored", x.ignored);
      putu(&got, "counts.rejected", x.rejected);
      putu(&got, "counts.admitted", x.admitted);
      putu(&got, "refused_permits", x.refused_permits);
      putu(&got, "permits_out", x.permits_out);
      putu(&got, "consecutive_failures", x.consecutive_failures);
      putu(&got, "probes_in_flight", x.probes_in_flight);
      putu(&got, "open_until", x.open_until);
      putu(&got, "reopens", x.reopens);
      putu(&got, "clock_regressions", x.clock_regressions);
      putu(&got, "since", x.since);
    } else {
      static const char *OUTCOMES[] = {"success", "failure", "timeout", "ignored"};
      if (is(op, "record")) BREAKER(record, now, p, pick(get(in, "outcome"), OUTCOMES, 4), u64(get(in, "duration")), &t);
      else if (is(op, "record_untripped"))
        BREAKER(record_untripped, now, p, pick(get(in, "outcome"), OUTCOMES, 4), u64(get(in, "duration")), &t);
      else if (is(op, "release")) BREAKER(release, now, p, &t);
      else if (is(op, "poll")) BREAKER(poll, now, &t);
      else if (is(op, "trip")) BREAKER(trip, now, &t);
      else if (is(op, "close")) BREAKER(close, now, &t);
      else if (is(op, "force_open")) BREAKER(force_open, now, &t);
      else if (is(op, "disable")) BREAKER(disable, now, &t);
      else if (is(op, "reset")) BREAKER(reset, now, &t);
      transition_kv(&got, t);
    }
    BREAKER(state, &state);
    put(&got, "state", STATES[state]);
    if (!check_step(s, i, &got)) { failures++; return NULL; }
  }
  passed++;
  return NULL;
}

/* raw(n) is fusewire_backoff_raw; delay(n, prev) is fusewire_backoff_delay,
 * which draws from the object's generator (seeded as the reference runner
 * seeds its own) in any attempt order. */
static const char *run_backoff(scenario *s) {
  fusewire_backoff_config cfg;
  fusewire_backoff b;
  fusewire_config_error e = {0};
  backoff_config(&s->config, "", &cfg);
  if (!check_config_error(s, fusewire_backoff_init(&b, &cfg, u64(get(&s->config, "seed")), &e), e)) { failures++; return NULL; }
  if (s->has_error) return NULL;
  for (int i = 0; i < s->nsteps; i++) {
    const kv *in = &s->steps[i].in;
    uint32_t n = (uint32_t)u64(get(in, "n"));
    uint64_t d = 0;
    kv got = {0};
    if (is(get(in, "op"), "raw")) {
      fusewire_backoff_raw(&b, n, &d);
      putu(&got, "value", d);
    } else {
      fusewire_backoff_delay(&b, n, u64(get(in, "prev")), &d);
      putu(&got, "delay", d);
    }
    if (!check_step(s, i, &got)) { failures++; return NULL; }
  }
  passed++;
  return NULL;
}

static const char *run_retry(scenario *s) {
  fusewire_retry_config cfg;
  fusewire_retry r;
  fusewire_config_error e = {0};
  const char *v;
  if (is(get(&s->config, "max_elapsed"), "0")) return "max_elapsed 0 means no deadline in C, so Some(0) cannot be asked for";
  /* A budget in the config: a fusewire_budget beside the retry, asked by
   * fusewire_retry_next_with_budget; `success` refills it. */
  fusewire_budget budget;
  int has_budget = get(&s->config, "budget.max_tokens") != NULL;
  if (has_budget) {
    fusewire_budget_config bc = {(uint32_t)u64(get(&s->config, "budget.max_tokens")),
                                 (uint32_t)u64(get(&s->config, "budget.token_ratio_milli"))};
    fusewire_status bst = fusewire_budget_init(&budget, &bc, &e);
    if (bst != FUSEWIRE_STATUS_OK) {
      if (!check_config_error(s, bst, e)) failures++;
      return NULL;
    }
  }
  memset(&cfg, 0, sizeof cfg);
  backoff_config(&s->config, "backoff.", &cfg.backoff);
  cfg.max_attempts = (uint32_t)u64(get(&s->config, "max_attempts"));
  v = get(&s->config, "max_elapsed");
  cfg.max_elapsed = (v && !is(v, "null")) ? u64(v) : 0;
  cfg.seed = u64(get(&s->config, "seed"));
  if (!check_config_error(s, fusewire_retry_init(&r, &cfg, &e), e)) { failures++; return NULL; }
  if (s->has_error) return NULL;
  for (int i = 0; i < s->nsteps; i++) {
    const kv *in = &s->steps[i].in;
    uint64_t now = step_now(in).ticks, d = 0;
    uint32_t attempts = 0;
    kv got = {0};
    if (is(get(in, "op"), "start")) {
      fusewire_retry_start(&r, fusewire_tick_of(now));
    } else if (is(get(in, "op"), "success")) {
      fusewire_budget_record_success(&budget);
    } else {
      fusewire_status st = has_budget
        ? fusewire_retry_next_with_budget(&r, fusewire_tick_of(now), u64(get(in, "server_retry_after")), &budget, &d)
        : fusewire_retry_next(&r, fusewire_tick_of(now), u64(get(in, "server_retry_after")), &d);
      if (st == FUSEWIRE_STATUS_OK) {
        put(&got, "decision", "retry_after");
        putu(&got, "delay", d);
      } else {
        put(&got, "decision", "give_up");
        put(&got, "reason", st == FUSEWIRE_STATUS_GIVE_UP_DEADLINE        ? "deadline"
                            : st == FUSEWIRE_STATUS_GIVE_UP_WAIT_TOO_LONG ? "wait_too_long"
                            : st == FUSEWIRE_STATUS_THROTTLED             ? "budget"
                                                                          : "max_attempts");
      }
    }
    fusewire_retry_attempts(&r, &attempts);
    putu(&got, "attempts", attempts);
    if (has_budget) {
      uint64_t tokens = 0, throttled = 0;
      fusewire_budget_tokens(&budget, &tokens, &throttled);
      putu(&got, "tokens_milli", tokens);
      putu(&got, "throttled", throttled);
    }
    if (!check_step(s, i, &got)) { failures++; return NULL; }
  }
  passed++;
  return NULL;
}

static const char *run_budget(scenario *s) {
  fusewire_budget_config cfg = {(uint32_t)u64(get(&s->config, "max_tokens")), (uint32_t)u64(get(&s->config, "token_ratio_milli"))};
  fusewire_budget b;
  fusewire_config_error e = {0};
  if (!check_config_error(s, fusewire_budget_init(&b, &cfg, &e), e)) { failures++; return NULL; }
  if (s->has_error) return NULL;
  for (int i = 0; i < s->nsteps; i++) {
    const char *op = get(&s->steps[i].in, "op");
    uint64_t tokens = 0, throttled = 0;
    kv got = {0};
    if (is(op, "success")) fusewire_budget_record_success(&b);
    else if (is(op, "failure")) fusewire_budget_record_failure(&b);
    else if (is(op, "try_retry")) put(&got, "ok", fusewire_budget_try_retry(&b) == FUSEWIRE_STATUS_OK ? "true" : "false");
    fusewire_budget_tokens(&b, &tokens, &throttled);
    /* can_retry is not a C call: read it off the documented rule. */
    put(&got, "can_retry", tokens * 2 > (uint64_t)cfg.max_tokens * 1000 ? "true" : "false");
    putu(&got, "tokens_milli", tokens);
    putu(&got, "throttled", throttled);
    if (!check_step(s, i, &got)) { failures++; return NULL; }
  }
  passed++;
  return NULL;
}

static const char *run_bucket(scenario *s) {
  fusewire_bucket_config cfg;
  fusewire_bucket b;
  fusewire_config_error e = {0};
  cfg.burst = (uint32_t)u64(get(&s->config, "burst"));
  cfg.tokens = (uint32_t)u64(get(&s->config, "tokens"));
  cfg.period = u64(get(&s->config, "period"));
  if (!check_config_error(s, fusewire_bucket_init(&b, &cfg, &e), e)) { failures++; return NULL; }
  if (s->has_error) return NULL;
  for (int i = 0; i < s->nsteps; i++) {
    const kv *in = &s->steps[i].in;
    const char *op = get(in, "op");
    uint64_t now = step_now(in).ticks, wait = 0;
    uint32_t avail = 0;
    kv got = {0};
    if (is(op, "acquire") || is(op, "acquire_one")) {
      uint32_t n = is(op, "acquire") ? (uint32_t)u64(get(in, "n")) : 1;
      fusewire_status st = fusewire_bucket_acquire(&b, fusewire_tick_of(now), n, &wait);
      if (st == FUSEWIRE_STATUS_OK) put(&got, "result", "granted");
      else if (st == FUSEWIRE_STATUS_RATE_LIMITED) { put(&got, "result", "denied"); putu(&got, "retry_after", wait); }
      else { put(&got, "result", "exceeds_burst"); putu(&got, "burst", cfg.burst); }
    } else if (is(op, "refund")) {
      fusewire_bucket_refund(&b, fusewire_tick_of(now), (uint32_t)u64(get(in, "n")));
    } else if (is(op, "set_rate")) {
      fusewire_config_error se = {0};
      if (fusewire_bucket_set_rate(&b, fusewire_tick_of(now), (uint32_t)u64(get(in, "tokens")), u64(get(in, "period")), &se) != FUSEWIRE_STATUS_OK) {
        /* The vectors name the core field; C prefixes it with the noun. */
        const char *f = fusewire_field_text(se.field);
        put(&got, "error.field", strncmp(f, "bucket.", 7) ? f : f + 7);
        put(&got, "error.problem", se.problem < 5 ? PROBLEMS[se.problem] : "unknown");
      }
    }
    fusewire_bucket_available(&b, fusewire_tick_of(now), &avail);
    putu(&got, "available", avail);
    if (!check_step(s, i, &got)) { failures++; return NULL; }
  }
  passed++;
  return NULL;
}

static const char *run_bulkhead(scenario *s) {
  static const char *PRIORITIES[] = {"critical", "normal", "sheddable"};
  fusewire_bulkhead_config cfg;
  fusewire_bulkhead b;
  fusewire_config_error e = {0};
  char names[NAMED][32];
  fusewire_bulkhead_slot slots[NAMED];
  int nnamed = 0;
  cfg.limit = (uint32_t)u64(get(&s->config, "limit"));
  cfg.reserve_critical = (uint32_t)u64(get(&s->config, "reserve_critical"));
  cfg.reserve_normal = (uint32_t)u64(get(&s->config, "reserve_normal"));
  if (is(get(&s->config, "lease"), "0")) return "lease 0 means the default (60000 ticks) in C, so a zero lease cannot be asked for";
  cfg.lease = get(&s->config, "lease") ? u64(get(&s->config, "lease")) : 0;
  if (!check_config_error(s, fusewire_bulkhead_init(&b, &cfg, &e), e)) { failures++; return NULL; }
  if (s->has_error) return NULL;
  for (int i = 0; i < s->nsteps; i++) {
    const kv *in = &s->steps[i].in;
    fusewire_tick now = step_now(in);
    uint32_t p = pick(get(in, "priority"), PRIORITIES, 3), in_use = 0, a[3] = {0};
    const char *v;
    char list[64];
    kv got = {0};
    if (is(get(in, "op"), "expire")) {
      uint32_t freed = 0;
      fusewire_bulkhead_expire(&b, now, &freed);
      putu(&got, "freed", freed);
    } else if (is(get(in, "op"), "acquire")) {
      fusewire_bulkhead_slot slot = {0};
      fusewire_status st = fusewire_bulkhead_acquire(&b, now, p, &slot);
      put(&got, "admitted", st == FUSEWIRE_STATUS_OK ? "true" : "false");
      if (st == FUSEWIRE_STATUS_OK && (v = get(in, "as")) && nnamed < NAMED) {
        snprintf(names[nnamed], 32, "%s", v);
        slots[nnamed++] = slot;
      }
    } else {
      fusewire_bulkhead_slot slot = {0};
      fusewire_status st;
      if ((v = get(in, "slot_raw"))) slot.raw = u64(v);
      else if ((v = get(in, "slot")))
        for (int j = 0; j < nnamed; j++) if (!strcmp(names[j], v)) slot = slots[j];
      st = fusewire_bulkhead_release(&b, now, slot);
      put(&got, "released", st == FUSEWIRE_STATUS_OK ? "true" : "false");
      if (st == FUSEWIRE_STATUS_NOT_HELD) put(&got, "refused", "not_held");
      if (st == FUSEWIRE_STATUS_SLOT_EXPIRED) put(&got, "refused", "expired");
    }
    for (uint32_t q = 0; q < 3; q++) fusewire_bulkhead_usage(&b, q, &in_use, &a[q]);
    snprintf(list, sizeof list, "%u,%u,%u", a[0], a[1], a[2]);
    putu(&got, "in_use", in_use);
    putu(&got, "available", cfg.limit - in_use);
    put(&got, "available_for", list);
    {
      fusewire_bulkhead_counters n = {0, 0, 0};
      fusewire_bulkhead_counts(&b, &n);
      putu(&got, "extra_releases", n.extra_releases);
      putu(&got, "expired_releases", n.expired_releases);
      putu(&got, "reclaimed", n.reclaimed);
    }
    if (!check_step(s, i, &got)) { failures++; return NULL; }
  }
  passed++;
  return NULL;
}

/* chaos: the rates are percentages in the vectors, millionths in C. */
static const char *run_chaos(scenario *s) {
  static const char *OUTCOMES[] = {"pass", "fault", "substitute"};
  fusewire_chaos_config cfg;
  fusewire_chaos c;
  fusewire_config_error e = {0};
  const char *v;
  memset(&cfg, 0, sizeof cfg);
  cfg.fault_rate_ppm = (v = get(&s->config, "fault_rate")) ? ppm(v) : 0;
  cfg.latency_rate_ppm = (v = get(&s->config, "latency_rate")) ? ppm(v) : 0;
  cfg.substitute_rate_ppm = (v = get(&s->config, "substitute_rate")) ? ppm(v) : 0;
  cfg.behavior_rate_ppm = (v = get(&s->config, "behavior_rate")) ? ppm(v) : 0;
  cfg.latency_min = u64(get(&s->config, "latency_min"));
  cfg.latency_max = u64(get(&s->config, "latency_max"));
  cfg.seed = u64(get(&s->config, "seed"));
  cfg.enabled = is(get(&s->config, "enabled"), "true");
  if (!check_config_error(s, fusewire_chaos_init(&c, &cfg, &e), e)) { failures++; return NULL; }
  if (s->has_error) return NULL;
  for (int i = 0; i < s->nsteps; i++) {
    const kv *in = &s->steps[i].in;
    const char *op = get(in, "op");
    fusewire_injection j;
    fusewire_status st = FUSEWIRE_STATUS_OK;
    uint64_t calls = 0;
    kv got = {0};
    if (is(op, "set_enabled")) {
      st = fusewire_chaos_set_enabled(&c, is(get(in, "on"), "true"));
    } else {
      st = is(op, "inject") ? fusewire_chaos_inject(&c, &j) : fusewire_chaos_decide(&c, u64(get(in, "index")), &j);
      putu(&got, "delay", j.delay);
      put(&got, "outcome", j.outcome < 3 ? OUTCOMES[j.outcome] : "unknown");
      put(&got, "behavior", j.behavior ? "true" : "false");
    }
    if (st != FUSEWIRE_STATUS_OK || fusewire_chaos_calls(&c, &calls, NULL) != FUSEWIRE_STATUS_OK) put(&got, "status", fusewire_status_text(st));
    putu(&got, "calls", calls);
    if (!check_step(s, i, &got)) { failures++; return NULL; }
  }
  passed++;
  return NULL;
}

/* An event as the vectors write it: the JSON object the Rust runner
 * prints (u64s above 2^53 as strings). */
static void event_json(char *out, size_t len, fusewire_pool_event e) {
  static const char *REASONS_POOL[] = {"consecutive_failures", "consecutive_gateway_failures", "success_rate"};
  if (e.kind == FUSEWIRE_POOL_EVENT_KIND_RETURNED) {
    snprintf(out, len, "{\"returned\":%u}", (unsigned)e.endpoint);
  } else {
    const char *q = e.until > (1ULL << 53) ? "\"" : "";
    snprintf(out, len, "{\"ejected\":%u,\"reason\":\"%s\",\"until\":%s%llu%s}", (unsigned)e.endpoint,
             e.reason < 3 ? REASONS_POOL[e.reason] : "unknown", q, (unsigned long long)e.until, q);
  }
}

/* One pool scenario on a fusewire_pool16, or (small) on a fusewire_pool4:
 * both capacities must give the core's answers. */
#define POOL(verb, ...) (small ? fusewire_pool4_##verb(&p4, __VA_ARGS__) : fusewire_pool16_##verb(&p16, __VA_ARGS__))
static int run_pool_on(scenario *s, int small) {
  static const char *RESULTS[] = {"success", "failure", "gateway_failure"};
  fusewire_pool_config cfg;
  fusewire_pool4 p4;
  fusewire_pool16 p16;
  fusewire_config_error e = {0};
  char names[NAMED][32];
  fusewire_pool_pick picks[NAMED];
  int nnamed = 0;
  const char *v;
  uint32_t endpoints = (uint32_t)u64(get(&s->config, "endpoints"));
  static const char *U32S[] = {"consecutive_failures", "consecutive_gateway_failures", "max_ejection_percent",
                               "success_rate_minimum_hosts", "success_rate_request_volume", "success_rate_stdev_factor_milli"};
  static const char *U64S[] = {"interval", "base_ejection_time", "max_ejection_time", "ejection_jitter", "seed"};
  uint32_t *u32s[6];
  uint64_t *u64s[5];
  fusewire_pool_config_default(&cfg);
  u32s[0] = &cfg.consecutive_failures; u32s[1] = &cfg.consecutive_gateway_failures; u32s[2] = &cfg.max_ejection_percent;
  u32s[3] = &cfg.success_rate_minimum_hosts; u32s[4] = &cfg.success_rate_request_volume; u32s[5] = &cfg.success_rate_stdev_factor_milli;
  u64s[0] = &cfg.interval; u64s[1] = &cfg.base_ejection_time; u64s[2] = &cfg.max_ejection_time; u64s[3] = &cfg.ejection_jitter; u64s[4] = &cfg.seed;
  for (int k = 0; k < 6; k++) if ((v = get(&s->config, U32S[k]))) *u32s[k] = (uint32_t)u64(v);
  for (int k = 0; k < 5; k++) if ((v = get(&s->config, U64S[k]))) *u64s[k] = u64(v);
  if (!check_config_error(s, small ? fusewire_pool4_init(&p4, &cfg, endpoints, &e) : fusewire_pool16_init(&p16, &cfg, endpoints, &e), e)) return 0;
  if (s->has_error) return 1;
  for (int i = 0; i < s->nsteps; i++) {
    const kv *in = &s->steps[i].in;
    const char *op = get(in, "op");
    fusewire_tick now = step_now(in);
    fusewire_pool_pick k = {0, 0};
    fusewire_status st;
    kv got = {0};
    if ((v = get(in, "endpoint")) && !is(op, "stats")) k.endpoint = (uint32_t)u64(v);
    else if ((v = get(in, "pick")))
      for (int j = 0; j < nnamed; j++) if (!strcmp(names[j], v)) k = picks[j];
    if (is(op, "pick")) {
      v = get(in, "avoid");
      st = v && !is(v, "null") ? POOL(pick_avoiding, now, (uint32_t)u64(v), &k) : POOL(pick, now, &k);
      putu(&got, "endpoint", k.endpoint);
      put(&got, "panic", k.panic ? "true" : "false");
      if ((v = get(in, "as")) && nnamed < NAMED) {
        snprintf(names[nnamed], 32, "%s", v);
        picks[nnamed++] = k;
      }
    } else if (is(op, "record")) {
      fusewire_pool_event ev;
      st = POOL(record, now, k, pick(get(in, "result"), RESULTS, 3), &ev);
      if (ev.kind == FUSEWIRE_POOL_EVENT_KIND_NONE) put(&got, "event", "null");
      else {
        static const char *REASONS_POOL[] = {"consecutive_failures", "consecutive_gateway_failures", "success_rate"};
        putu(&got, "event.ejected", ev.endpoint);
        put(&got, "event.reason", ev.reason < 3 ? REASONS_POOL[ev.reason] : "unknown");
        putu(&got, "event.until", ev.until);
      }
    } else if (is(op, "release")) {
      st = small ? fusewire_pool4_release(&p4, k) : fusewire_pool16_release(&p16, k);
      put(&got, "", "{}");
    } else if (is(op, "poll")) {
      fusewire_pool_event evs[FUSEWIRE_POOL16_CAPACITY];
      uint32_t n = 0;
      char list[1024] = "", one[128];
      st = POOL(poll, now, evs, FUSEWIRE_POOL16_CAPACITY, &n);
      for (uint32_t j = 0; j < n; j++) {
        event_json(one, sizeof one, evs[j]);
        if (j) strncat(list, ",", sizeof list - strlen(list) - 1);
        strncat(list, one, sizeof list - strlen(list) - 1);
      }
      put(&got, "events", list);
    } else if (is(op, "stats")) {
      fusewire_endpoint_stats x;
      st = POOL(stats, now, (uint32_t)u64(get(in, "endpoint")), &x);
      putu(&got, "outstanding", x.outstanding);
      putu(&got, "consecutive_failures", x.consecutive_failures);
      putu(&got, "consecutive_gateway_failures", x.consecutive_gateway_failures);
      putu(&got, "successes", x.successes);
      putu(&got, "calls", x.calls);
      putu(&got, "ejections", x.ejections);
      putu(&got, "ejected_until", x.ejected_until);
      putu(&got, "picked", x.picked);
      put(&got, "ejected", x.ejected ? "true" : "false");
    } else {
      st = FUSEWIRE_STATUS_INVALID_ARGUMENT;
    }
    if (st != FUSEWIRE_STATUS_OK) put(&got, "status", fusewire_status_text(st));
    if (!check_step(s, i, &got)) {
      fprintf(stderr, "  (on a fusewire_pool%d)\n", small ? 4 : 16);
      return 0;
    }
  }
  return 1;
}
#undef POOL

static const char *run_pool(scenario *s) {
  uint64_t endpoints = u64(get(&s->config, "endpoints"));
  int ok = run_pool_on(s, 0) && (endpoints > FUSEWIRE_POOL4_CAPACITY || run_pool_on(s, 1));
  if (!ok) failures++;
  else if (!s->has_error) passed++;
  return NULL;
}

static void run(scenario *s) {
  const char *why = NULL;
  int before = failures;
  fusewire_tick_widener_init(&widener);
  if (is(component, "breaker")) why = run_breaker(s);
  else if (is(component, "backoff")) why = run_backoff(s);
  else if (is(component, "retry")) why = run_retry(s);
  else if (is(component, "budget")) why = run_budget(s);
  else if (is(component, "bucket")) why = run_bucket(s);
  else if (is(component, "bulkhead")) why = run_bulkhead(s);
  else if (is(component, "chaos")) why = run_chaos(s);
  else if (is(component, "pool")) why = run_pool(s);
  else why = "unknown component";
  if (why) {
    skipped++;
    printf("c: skipped %s/%s: %s\n", component, s->name, why);
  } else if (s->has_error && failures == before) {
    passed++;
  }
}

static void clear(scenario *s) {
  kv_free(&s->config);
  kv_free(&s->error);
  for (int i = 0; i < s->nsteps; i++) { kv_free(&s->steps[i].in); kv_free(&s->steps[i].expect); }
  s->nsteps = 0;
  s->has_error = 0;
}

int main(int argc, char **argv) {
  scenario s;
  memset(&s, 0, sizeof s);
  for (int f = 1; f < argc; f++) {
    FILE *in = fopen(argv[f], "r");
    char *line = NULL;
    size_t n = 0;
    if (!in) { perror(argv[f]); return 2; }
    while (getline(&line, &n, in) > 0) {
      if (!strncmp(line, "component ", 10)) sscanf(line + 10, "%63s", component);
      else if (!strncmp(line, "scenario ", 9)) { clear(&s); sscanf(line + 9, "%255s", s.name); }
      else if (!strncmp(line, "config_error ", 13)) { kv_parse(&s.error, line + 13); s.has_error = 1; }
      else if (!strncmp(line, "config ", 7)) kv_parse(&s.config, line + 7);
      else if (!strncmp(line, "step ", 5)) {
        char *bar = strstr(line, " | ");
        if (s.nsteps == s.cap) {
          s.cap = s.cap ? 2 * s.cap : 64;
          s.steps = realloc(s.steps, sizeof(step) * (size_t)s.cap);
        }
        memset(&s.steps[s.nsteps], 0, sizeof(step));
        if (bar) { *bar = 0; kv_parse(&s.steps[s.nsteps].expect, bar + 3); }
        kv_parse(&s.steps[s.nsteps].in, line + 5);
        s.nsteps++;
      } else if (!strncmp(line, "end", 3)) run(&s);
    }
    free(line);
    fclose(in);
  }
  clear(&s);
  free(s.steps);
  printf("c: %d scenarios passed, %d failed, %d skipped (listed above)\n",
         passed, failures, skipped);
  return failures ? 1 : 0;
}
