/*
 * host_shared.c: one token bucket and one bulkhead shared by the processes
 * of one host, in POSIX shared memory (the host tier of issue #17, for C).
 *
 * The placement rules (ffi-c/README.md, "Many processes, one host"):
 *  1. Put the shared objects in memory every process maps MAP_SHARED
 *     (shm_open + mmap, or a file), at an address aligned to
 *     FUSEWIRE_OBJECT_ALIGN, each its own FUSEWIRE_SHARED_*_SIZE bytes.
 *  2. Initialise each once, before any other process uses it (here: the
 *     parent, before fork; two executables: the one that creates the
 *     region, under a lock, then sets a "ready" word the others wait for).
 *  3. Every process runs the same fusewire build and passes `now` from the
 *     same clock in the same unit: CLOCK_MONOTONIC is system-wide.
 *  4. Never copy an initialised object; never initialise it again while
 *     another process uses it.
 *
 * Run: 4 children race for a bucket of 50 tokens (refilled one per hour):
 * together they take exactly 50. Then a child takes the bulkhead's two
 * slots and is killed with SIGKILL: the parent sees the slots held, and
 * free again within their lease (400 ms; epochs of half of it).
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fusewire_shared.h"

/* The region's layout: one struct, so each member is aligned for its type
 * (the shared objects' alignment is FUSEWIRE_OBJECT_ALIGN). */
struct region {
    fusewire_shared_bucket bucket;
    fusewire_shared_bulkhead bulkhead;
};

/* The clock every process passes: CLOCK_MONOTONIC in nanoseconds. */
static fusewire_tick now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    fusewire_tick t = {(uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec};
    return t;
}

static int fail(const char *what) {
    fprintf(stderr, "host_shared: %s\n", what);
    return 1;
}

int main(void) {
    char name[64];
    snprintf(name, sizeof name, "/fusewire-c-example-%ld", (long)getpid());
    int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return fail("shm_open");
    if (ftruncate(fd, (off_t)sizeof(struct region)) != 0) return fail("ftruncate");
    struct region *r = mmap(NULL, sizeof(struct region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (r == MAP_FAILED) return fail("mmap");
    shm_unlink(name); /* the mapping lives on; nothing is left in /dev/shm */

    fusewire_bucket_config bc = {3600ull * 1000000000ull, 1, 50}; /* 50, one more per hour */
    fusewire_bulkhead_config hc = {2, 0, 0, 400u * 1000000u}; /* 2 slots, 400 ms lease */
    if (fusewire_shared_bucket_init(&r->bucket, &bc, NULL) != FUSEWIRE_STATUS_OK) return fail("bucket init");
    if (fusewire_shared_bulkhead_init(&r->bulkhead, &hc, NULL) != FUSEWIRE_STATUS_OK) return fail("bulkhead init");

    /* 1. Four processes race for the 50 tokens. */
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        if (kids[i] < 0) return fail("fork");
        if (kids[i] == 0) {
            int taken = 0;
            for (int k = 0; k < 1000; k++) {
                if (fusewire_shared_bucket_acquire(&r->bucket, now(), 1, NULL) == FUSEWIRE_STATUS_OK) taken++;
            }
            _exit(taken);
        }
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        int status;
        if (waitpid(kids[i], &status, 0) != kids[i] || !WIFEXITED(status)) return fail("waitpid");
        total += WEXITSTATUS(status);
    }
    printf("host_shared: 4 processes took %d tokens of 50\n", total);
    if (total != 50) return fail("the processes took more or less than the bucket held");

    /* 2. A process holding both slots is killed: its slots come back after the lease. */
    int ready[2];
    if (pipe(ready) != 0) return fail("pipe");
    pid_t holder = fork();
    if (holder < 0) return fail("fork");
    if (holder == 0) {
        fusewire_bulkhead_slot a, b;
        if (fusewire_shared_bulkhead_acquire(&r->bulkhead, now(), FUSEWIRE_PRIORITY_NORMAL, &a) != FUSEWIRE_STATUS_OK ||
            fusewire_shared_bulkhead_acquire(&r->bulkhead, now(), FUSEWIRE_PRIORITY_NORMAL, &b) != FUSEWIRE_STATUS_OK)
            _exit(1);
        if (write(ready[1], "x", 1) != 1) _exit(1);
        for (;;) pause();
    }
    char c;
    if (read(ready[0], &c, 1) != 1) return fail("the holder did not start");
    fusewire_bulkhead_slot s;
    if (fusewire_shared_bulkhead_acquire(&r->bulkhead, now(), FUSEWIRE_PRIORITY_NORMAL, &s) != FUSEWIRE_STATUS_BULKHEAD_FULL)
        return fail("the other process's slots were not seen");
    kill(holder, SIGKILL);
    waitpid(holder, NULL, 0);
    uint64_t killed = now().ticks, waited;
    while (fusewire_shared_bulkhead_acquire(&r->bulkhead, now(), FUSEWIRE_PRIORITY_NORMAL, &s) != FUSEWIRE_STATUS_OK) {
        if (now().ticks - killed > 2000u * 1000000u) return fail("the slots never came back");
        struct timespec pause_ = {0, 5 * 1000000};
        nanosleep(&pause_, NULL);
    }
    waited = (now().ticks - killed) / 1000000u;
    printf("host_shared: a killed holder's slots came back after %llu ms (lease 400 ms, at most one)\n",
           (unsigned long long)waited);
    if (waited > 400 + 250) return fail("the slots came back later than their lease (and a loaded machine's slack)");
    fusewire_shared_bulkhead_release(&r->bulkhead, now(), s);
    munmap(r, sizeof(struct region));
    close(fd);
    printf("example: ok\n");
    return 0;
}
