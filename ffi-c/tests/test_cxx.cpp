// The header from C++: enums are real types (an int is not an outcome),
// the tick and permit are structs, the static initialisers are constant
// data, and a scenario runs (make c-test builds it as C++11 and C++17).
#include "fusewire_shared.h"
#include <cstdio>
#include <type_traits>

static_assert(!std::is_convertible<int, fusewire_outcome>::value, "an int is not an outcome");
static_assert(!std::is_convertible<uint64_t, fusewire_tick>::value, "a count is not a tick");
static_assert(!std::is_convertible<uint64_t, fusewire_permit>::value, "a count is not a permit");
static_assert(sizeof(fusewire_state) == 4, "32-bit codes");
static_assert(!std::is_convertible<int, fusewire_call_result>::value, "an int is not a call result");
static_assert(!std::is_convertible<fusewire_pool16 *, fusewire_pool4 *>::value, "the capacity is the type");

static const fusewire_breaker_config kConfig = FUSEWIRE_BREAKER_CONFIG_DEFAULT;

int main() {
    int failed = 0;
    fusewire_breaker_config defaults;
    if (fusewire_breaker_config_default(&defaults) != FUSEWIRE_STATUS_OK) failed++;
    if (defaults.min_calls != kConfig.min_calls || defaults.comparison != kConfig.comparison) failed++;
    fusewire_breaker b;
    fusewire_config_error e = {FUSEWIRE_FIELD_NONE, FUSEWIRE_PROBLEM_NONE};
    if (fusewire_breaker_init(&b, &kConfig, &e) != FUSEWIRE_STATUS_OK) failed++;
    fusewire_permit p = {0};
    uint64_t wait = 0;
    int opened_after = -1;
    for (uint64_t now = 0; now < 20; now++) {
        if (fusewire_breaker_acquire(&b, fusewire_tick_of(now), &p, &wait, nullptr) != FUSEWIRE_STATUS_OK) {
            opened_after = static_cast<int>(now);
            break;
        }
        fusewire_breaker_record(&b, fusewire_tick_of(now), p, FUSEWIRE_OUTCOME_FAILURE, 1, nullptr);
    }
    fusewire_state st = FUSEWIRE_STATE_CLOSED;
    if (fusewire_breaker_state(&b, &st) != FUSEWIRE_STATUS_OK || st != FUSEWIRE_STATE_OPEN) failed++;
    if (opened_after != 10 || wait == 0) failed++;
    fusewire_shared_bucket k;
    fusewire_bucket_config kc = {2, 1, 10};
    if (fusewire_shared_bucket_init(&k, &kc, nullptr) != FUSEWIRE_STATUS_OK) failed++;
    fusewire_pool_config pc;
    fusewire_pool4 pool;
    fusewire_pool_pick pick = {0, 0};
    if (fusewire_pool_config_default(&pc) != FUSEWIRE_STATUS_OK) failed++;
    if (fusewire_pool4_init(&pool, &pc, 2, nullptr) != FUSEWIRE_STATUS_OK) failed++;
    if (fusewire_pool4_pick(&pool, fusewire_tick_of(0), &pick) != FUSEWIRE_STATUS_OK || pick.endpoint > 1) failed++;
    if (fusewire_pool4_record(&pool, fusewire_tick_of(1), pick, FUSEWIRE_CALL_RESULT_GATEWAY_FAILURE, nullptr) != FUSEWIRE_STATUS_OK) failed++;
    std::printf("C++%ld: %s\n", static_cast<long>(__cplusplus), failed ? "FAILED" : "passed");
    return failed;
}
