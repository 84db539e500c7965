/* Compiled, not run, for every language standard and target the header
 * promises (make headers): C99/C11/C17, C++11/17, freestanding
 * arm-none-eabi for Cortex-M0 and M4, freestanding i386. Each object's
 * size and alignment must be what the header's macros say, on that
 * target's ABI; the static initialisers must compile as `const` data. */
#include "fusewire_shared.h"

#if defined(__cplusplus)
#define FW_ASSERT(c, m) static_assert(c, m)
#define FW_ALIGNOF(t) alignof(t)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define FW_ASSERT(c, m) _Static_assert(c, m)
#define FW_ALIGNOF(t) _Alignof(t)
#else /* C99: a negative array size fails the build */
#define FW_CAT2(a, b) a##b
#define FW_CAT(a, b) FW_CAT2(a, b)
#define FW_ASSERT(c, m) typedef char FW_CAT(fw_assert_, __LINE__)[(c) ? 1 : -1]
#define FW_ALIGNOF(t) __alignof__(t)
#endif

#if defined(__cplusplus) || (defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L)
#define FW_OBJECT(t, size)                                   \
    FW_ASSERT(sizeof(t) == (size), #t " size");              \
    FW_ASSERT(FW_ALIGNOF(t) == FUSEWIRE_OBJECT_ALIGN, #t " alignment")
#else
#define FW_OBJECT(t, size)                                            \
    typedef char fw_size_##t[sizeof(t) == (size) ? 1 : -1];           \
    typedef char fw_align_##t[FW_ALIGNOF(t) == FUSEWIRE_OBJECT_ALIGN ? 1 : -1]
#endif

FW_OBJECT(fusewire_breaker, FUSEWIRE_BREAKER_SIZE);
FW_OBJECT(fusewire_timed_breaker, FUSEWIRE_TIMED_BREAKER_SIZE);
FW_OBJECT(fusewire_backoff, FUSEWIRE_BACKOFF_SIZE);
FW_OBJECT(fusewire_retry, FUSEWIRE_RETRY_SIZE);
FW_OBJECT(fusewire_bucket, FUSEWIRE_BUCKET_SIZE);
FW_OBJECT(fusewire_budget, FUSEWIRE_BUDGET_SIZE);
FW_OBJECT(fusewire_bulkhead, FUSEWIRE_BULKHEAD_SIZE);
FW_OBJECT(fusewire_shared_breaker, FUSEWIRE_SHARED_BREAKER_SIZE);
FW_OBJECT(fusewire_shared_bucket, FUSEWIRE_SHARED_BUCKET_SIZE);
FW_OBJECT(fusewire_shared_budget, FUSEWIRE_SHARED_BUDGET_SIZE);
FW_OBJECT(fusewire_shared_bulkhead, FUSEWIRE_SHARED_BULKHEAD_SIZE);
FW_OBJECT(fusewire_tick_widener, FUSEWIRE_TICK_WIDENER_SIZE);
FW_OBJECT(fusewire_shared_tick_widener, FUSEWIRE_SHARED_TICK_WIDENER_SIZE);
FW_OBJECT(fusewire_lite_breaker, FUSEWIRE_LITE_BREAKER_SIZE);
FW_OBJECT(fusewire_lite_backoff, FUSEWIRE_LITE_BACKOFF_SIZE);
FW_OBJECT(fusewire_lite_bucket, FUSEWIRE_LITE_BUCKET_SIZE);
FW_OBJECT(fusewire_chaos, FUSEWIRE_CHAOS_SIZE);
FW_OBJECT(fusewire_pool4, FUSEWIRE_POOL4_SIZE);
FW_OBJECT(fusewire_pool16, FUSEWIRE_POOL16_SIZE);
/* The minimal profile's RAM goal: at most 32 bytes an object. */
FW_ASSERT(FUSEWIRE_LITE_BREAKER_SIZE <= 32 && FUSEWIRE_LITE_BACKOFF_SIZE <= 32 &&
              FUSEWIRE_LITE_BUCKET_SIZE <= 32,
          "lite objects within 32 bytes");
/* The boundary's 32-bit codes and the tick: the width the library reads. */
FW_ASSERT(sizeof(fusewire_status) == 4, "status");
FW_ASSERT(sizeof(fusewire_outcome) == 4, "outcome");
FW_ASSERT(sizeof(fusewire_tick) == 8, "tick");
FW_ASSERT(sizeof(fusewire_permit) == 8, "permit");
FW_ASSERT(sizeof(fusewire_call_result) == 4 && sizeof(fusewire_chaos_outcome) == 4, "pool and chaos codes");

/* Configs in flash. */
static const fusewire_backoff_config backoff_default = FUSEWIRE_BACKOFF_CONFIG_DEFAULT;
static const fusewire_breaker_config breaker_default = FUSEWIRE_BREAKER_CONFIG_DEFAULT;
/* Minimal-profile objects built by the compiler. */
static fusewire_lite_breaker lite_breaker = FUSEWIRE_LITE_BREAKER_INIT(3, 1000);
static fusewire_lite_backoff lite_backoff = FUSEWIRE_LITE_BACKOFF_INIT(10, 320, 1);
static fusewire_lite_bucket lite_bucket = FUSEWIRE_LITE_BUCKET_INIT(500, 5);

uint32_t fw_header_check_uses(void);
uint32_t fw_header_check_uses(void) {
    return backoff_default.factor_milli + breaker_default.min_calls + (uint32_t)lite_breaker._opaque[0] +
           (uint32_t)lite_backoff._opaque[0] + (uint32_t)lite_bucket._opaque[0];
}
