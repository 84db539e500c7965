/* The C tests' checks: CHECK(cond) counts a pass or prints the failed
 * condition with its line; EXPECT(call, status) checks a status; report()
 * prints the tally and gives main's exit code. Not thread-safe: threads
 * return their findings to main, which checks them. */
#ifndef FUSEWIRE_TESTS_CHECK_H
#define FUSEWIRE_TESTS_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) {                                                          \
            passed++;                                                        \
        } else {                                                             \
            failed++;                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
        }                                                                    \
    } while (0)

#define EXPECT(call, status) CHECK((call) == (status))

/* In long loops: a call must return OK (0); only a failure is counted. */
#define EXPECT_QUIET(call)                                                   \
    do {                                                                     \
        if ((call) != 0) {                                                   \
            failed++;                                                        \
            fprintf(stderr, "%s:%d: not OK: %s\n", __FILE__, __LINE__,      \
                    #call);                                                  \
        }                                                                    \
    } while (0)

static int report(void) {
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif
