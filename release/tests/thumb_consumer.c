/* Links a Cortex-M bundle library the way firmware does: no C library, no
 * heap, the full breaker through the public header (release/dist-test.sh).
 * Every symbol the library needs must resolve; main returns 0 when the
 * breaker opens after three failures. */
#include <fusewire.h>

int main(void);
int main(void) {
    struct fusewire_breaker_config config;
    fusewire_breaker breaker;
    fusewire_permit permit;
    uint64_t retry_after = 0;
    uint64_t now = 0;
    int i;
    if (fusewire_breaker_config_default(&config) != FUSEWIRE_STATUS_OK ||
        fusewire_breaker_init(&breaker, &config, NULL) != FUSEWIRE_STATUS_OK) {
        return 1;
    }
    for (i = 0; i < 20; i++, now++) {
        if (fusewire_breaker_acquire(&breaker, fusewire_tick_of(now), &permit, &retry_after, NULL) != FUSEWIRE_STATUS_OK) {
            break;
        }
        fusewire_breaker_record(&breaker, fusewire_tick_of(now), permit, FUSEWIRE_OUTCOME_FAILURE, 1, NULL);
    }
    return (i < 20 && retry_after != 0) ? 0 : 2;
}
