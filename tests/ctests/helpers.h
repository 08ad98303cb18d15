/* SPDX-License-Identifier: MIT
 *
 * helpers.h: what every standalone C test shares.  A test is a small
 * program that exits T_EXIT_PASS, T_EXIT_FAIL, or T_EXIT_SKIP when what it
 * needs is missing here (io_uring refused by seccomp or sysctl, a port):
 * meson reports exit 77 as skipped, not failed.
 */
#ifndef PYHOST_TEST_HELPERS_H
#define PYHOST_TEST_HELPERS_H

#include <stdio.h>

enum { T_EXIT_PASS = 0, T_EXIT_FAIL = 1, T_EXIT_SKIP = 77 };

/* CHECK(cond): when cond is false, say which check failed and where, and
 * return T_EXIT_FAIL from the calling function, which returns int: the
 * steps of a test depend on each other, so the first failure ends it. */
#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,  \
                    #cond);                                                   \
            return T_EXIT_FAIL;                                               \
        }                                                                     \
    } while (0)

#endif
