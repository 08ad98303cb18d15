/* SPDX-License-Identifier: MIT
 *
 * test_timerheap.c: the hub's timer heap pops in (deadline, arming order),
 * removes from any position, and re-arms in place; deadlines from clock.h
 * saturate instead of wrapping.
 */
#include "helpers.h"
#include "hub.h"

#include <stdio.h>
#include <stdlib.h>

#define N 2000

int
main(void)
{
    static pyhost__timer_t nodes[N];
    pyhost__timerheap_t heap;
    pyhost__timerheap_init(&heap);
    srand(12345);
    for (int i = 0; i < N; i++) {
        nodes[i].index = PYHOST__TIMER_IDLE;
        CHECK(pyhost__timerheap_push(&heap, &nodes[i], rand() % 500) == 0);
    }
    /* Remove every third node, re-arm every fifth. */
    for (int i = 0; i < N; i += 3) {
        pyhost__timerheap_remove(&heap, &nodes[i]);
        CHECK(!pyhost__timer_armed(&nodes[i]));
    }
    for (int i = 1; i < N; i += 5) {
        CHECK(pyhost__timerheap_push(&heap, &nodes[i], rand() % 500) == 0);
    }
    size_t expected = 0;
    for (int i = 0; i < N; i++) {
        expected += pyhost__timer_armed(&nodes[i]);
    }
    CHECK(heap.len == expected);
    CHECK(pyhost__timerheap_pop_due(&heap, -1) == NULL);
    int64_t last_when = -1;
    uint64_t last_seq = 0;
    size_t popped = 0;
    pyhost__timer_t *t;
    while ((t = pyhost__timerheap_pop_due(&heap, 1000)) != NULL) {
        CHECK(!pyhost__timer_armed(t));
        CHECK(t->when > last_when ||
              (t->when == last_when && t->seq > last_seq));
        last_when = t->when;
        last_seq = t->seq;
        popped++;
    }
    CHECK(popped == expected);
    CHECK(pyhost__timerheap_peek(&heap) == NULL);
    /* Removing an idle node is a no-op. */
    pyhost__timerheap_remove(&heap, &nodes[0]);
    pyhost__timerheap_fini(&heap);
    /* An infinite or huge timeout is "no deadline", never the past. */
    CHECK(pyhost__deadline_ns(1.0 / 0.0) == PYHOST__NO_DEADLINE);
    CHECK(pyhost__deadline_ns(1e300) == PYHOST__NO_DEADLINE);
    int64_t soon = pyhost__deadline_ns(0.5);
    CHECK(soon > pyhost__monotonic_ns());
    CHECK(pyhost__deadline_left_ns(soon) <= 500000000);
    CHECK(pyhost__deadline_left_ns(pyhost__monotonic_ns() - 1) == 0);
    printf("ok: %zu timers in order\n", popped);
    return T_EXIT_PASS;
}
