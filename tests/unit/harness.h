/* Minimal test harness: CHECK records a failure with its location and keeps
 * going; TEST_END exits non-zero when anything failed. */
#ifndef TANDEM_TEST_HARNESS_H
#define TANDEM_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>

static int test_failures __attribute__((unused));

#define CHECK(cond)                                                                                \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
                        test_failures++;                                                           \
                }                                                                                  \
        } while (0)

#define CHECK_EQ(a, b)                                                                             \
        do {                                                                                       \
                unsigned long long a_ = (unsigned long long)(a);                                   \
                unsigned long long b_ = (unsigned long long)(b);                                   \
                if (a_ != b_) {                                                                    \
                        fprintf(stderr, "FAIL %s:%d: %s == %s (%llu != %llu)\n", __FILE__,         \
                                __LINE__, #a, #b, a_, b_);                                         \
                        test_failures++;                                                           \
                }                                                                                  \
        } while (0)

/* Aborts the test when a precondition (setup) fails. */
#define REQUIRE(cond)                                                                              \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "FATAL %s:%d: %s\n", __FILE__, __LINE__, #cond);           \
                        exit(2);                                                                   \
                }                                                                                  \
        } while (0)

#define TEST_END()                                                                                 \
        do {                                                                                       \
                if (test_failures) {                                                               \
                        fprintf(stderr, "%d check(s) failed\n", test_failures);                    \
                        return 1;                                                                  \
                }                                                                                  \
                printf("ok\n");                                                                    \
                return 0;                                                                          \
        } while (0)

#endif
