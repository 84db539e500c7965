/* Calls that must NOT compile (make misuse builds each MISUSE_n alone and
 * requires an error): the swaps the API makes impossible. */
#include "fusewire.h"

void misuse(fusewire_breaker *b, fusewire_bucket *k, fusewire_permit p, uint64_t now, uint64_t d,
            fusewire_pool4 *p4, fusewire_pool16 *p16, fusewire_pool_pick pick);
void misuse(fusewire_breaker *b, fusewire_bucket *k, fusewire_permit p, uint64_t now, uint64_t d,
            fusewire_pool4 *p4, fusewire_pool16 *p16, fusewire_pool_pick pick) {
    (void)b; (void)k; (void)p; (void)now; (void)d; (void)p4; (void)p16; (void)pick;
#if MISUSE == 1 /* duration and now swapped (a plain uint64_t as now) */
    fusewire_breaker_record(b, d, p, FUSEWIRE_OUTCOME_SUCCESS, fusewire_tick_of(now), NULL);
#elif MISUSE == 2 /* a plain integer where the permit goes */
    fusewire_breaker_record(b, fusewire_tick_of(now), d, FUSEWIRE_OUTCOME_SUCCESS, d, NULL);
#elif MISUSE == 3 /* the permit as the duration */
    fusewire_breaker_record(b, fusewire_tick_of(now), p, FUSEWIRE_OUTCOME_SUCCESS, p, NULL);
#elif MISUSE == 4 /* now in the old position (after the count) */
    fusewire_bucket_acquire(k, 1, fusewire_tick_of(now), NULL);
#elif MISUSE == 5 /* a raw tick count as now */
    fusewire_breaker_poll(b, now, NULL);
#elif MISUSE == 6 /* a lite object built with a threshold of 0: refused by the compiler */
    static fusewire_lite_breaker bad = FUSEWIRE_LITE_BREAKER_INIT(0, 1000);
    (void)bad;
#elif MISUSE == 7 /* a bucket whose horizon does not fit 2^31 ticks */
    static fusewire_lite_bucket bad = FUSEWIRE_LITE_BUCKET_INIT(65536, 32768);
    (void)bad;
#elif MISUSE == 8 /* a pool of 16 where a pool of 4 goes: the capacity is the type */
    fusewire_pool4_pick(p16, fusewire_tick_of(now), &pick);
#elif MISUSE == 9 /* the pick and now swapped */
    fusewire_pool4_record(p4, pick, fusewire_tick_of(now), FUSEWIRE_CALL_RESULT_SUCCESS, NULL);
#elif MISUSE == 10 /* an endpoint index where the pick goes */
    fusewire_pool16_release(p16, 3u);
#endif
}
