/* SPDX-License-Identifier: MIT
 *
 * clock.h: the one monotonic clock and the one deadline helper of pyhost's
 * C code (the idea of CPython's _PyDeadline_Init/_PyDeadline_Get).  A
 * deadline is a CLOCK_MONOTONIC time in nanoseconds; a wait computes it
 * once, from the caller's timeout, and asks pyhost__deadline_left_ns() how
 * long is left each time it waits again (after EINTR, after a spurious
 * wake-up), so that retries never stretch the caller's timeout.
 *
 * Pure C, no Python: the hub's backends, the console's threads and the
 * standalone C tests use it as they are.
 */
#ifndef PYHOST_CLOCK_H
#define PYHOST_CLOCK_H

#include <stdint.h>
#include <time.h>

/* No deadline: a wait without a timeout. */
#define PYHOST__NO_DEADLINE INT64_MAX

/* Now, on CLOCK_MONOTONIC, in nanoseconds. */
static inline int64_t
pyhost__monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Now, on CLOCK_REALTIME (wall time, for showing), in nanoseconds. */
static inline int64_t
pyhost__wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The deadline `seconds` from now, saturated at PYHOST__NO_DEADLINE: an
 * infinite or absurdly long wait (sleep(inf), a timeout of years) means
 * "not in our lifetime" and never wraps into the past.  seconds is >= 0
 * and not NaN (the caller validated it). */
static inline int64_t
pyhost__deadline_ns(double seconds)
{
    int64_t now = pyhost__monotonic_ns();
    double ns = seconds * 1e9;
    if (!(ns < (double)(PYHOST__NO_DEADLINE - now))) {
        return PYHOST__NO_DEADLINE;
    }
    return now + (int64_t)ns;
}

/* Nanoseconds left until deadline: 0 once it has passed. */
static inline int64_t
pyhost__deadline_left_ns(int64_t deadline)
{
    int64_t now = pyhost__monotonic_ns();
    return deadline > now ? deadline - now : 0;
}

#endif
