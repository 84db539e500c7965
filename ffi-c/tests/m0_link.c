/* Links the thumbv6m (Cortex-M0) library with the shared forms against the
 * firmware's interrupt hooks (examples/cortex_m0_irq.c): every symbol the
 * library needs must resolve, with no C library (make embedded). */
#include "fusewire_shared.h"

static fusewire_shared_bucket bucket;

int main(void);
int main(void) {
    fusewire_bucket_config c;
    uint64_t wait = 0;
    c.period = 10;
    c.tokens = 1;
    c.burst = 2;
    if (fusewire_shared_bucket_init(&bucket, &c, 0) != FUSEWIRE_STATUS_OK) return 1;
    return fusewire_shared_bucket_acquire(&bucket, fusewire_tick_of(0), 1, &wait) == FUSEWIRE_STATUS_OK ? 0 : 2;
}
