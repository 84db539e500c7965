/* A project that links fusewire the way the README says: two lines of
 * pkg-config or CMake. It opens a breaker with three failures and checks
 * that the next call is refused, so a wrong link fails loudly. */
#include <fusewire.h>
#include <stdio.h>

int main(void) {
    struct fusewire_breaker_config config;
    fusewire_breaker breaker;
    fusewire_permit permit;
    uint64_t retry_after = 0;
    uint64_t now = 0;
    int i;
    if (fusewire_breaker_config_default(&config) != FUSEWIRE_STATUS_OK ||
        fusewire_breaker_init(&breaker, &config, NULL) != FUSEWIRE_STATUS_OK) {
        puts("consumer: init failed");
        return 1;
    }
    for (i = 0; i < 20; i++, now++) {
        if (fusewire_breaker_acquire(&breaker, fusewire_tick_of(now), &permit, &retry_after, NULL) != FUSEWIRE_STATUS_OK) {
            break;
        }
        fusewire_breaker_record(&breaker, fusewire_tick_of(now), permit, FUSEWIRE_OUTCOME_FAILURE, 1, NULL);
    }
    if (i == 20 || retry_after == 0) {
        puts("consumer: the breaker never opened");
        return 1;
    }
    printf("consumer: linked fusewire %s, open after %d failures, retry after %llu ticks\n",
           fusewire_version(), i, (unsigned long long)retry_after);
    return 0;
}
