/* SPDX-License-Identifier: MIT
 *
 * timerheap.c: a binary min-heap of timer nodes ordered by (deadline,
 * arming order).  Nodes live inside their owners (an operation's deadline,
 * a Python Timer object) and remember their heap index, so cancelling a
 * timer removes it at once instead of leaving a dead entry to pile up.
 */
#include "hub.h"

#include <errno.h>
#include <stdlib.h>

void
pyhost__timerheap_init(pyhost__timerheap_t *heap)
{
    heap->nodes = NULL;
    heap->len = heap->cap = 0;
    heap->next_seq = 0;
}

void
pyhost__timerheap_fini(pyhost__timerheap_t *heap)
{
    for (size_t i = 0; i < heap->len; i++) {
        heap->nodes[i]->index = PYHOST__TIMER_IDLE;
    }
    free(heap->nodes);
    pyhost__timerheap_init(heap);
}

static inline int
timerheap_less(const pyhost__timer_t *a, const pyhost__timer_t *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static inline void
timerheap_set(pyhost__timerheap_t *heap, size_t i, pyhost__timer_t *t)
{
    heap->nodes[i] = t;
    t->index = i;
}

static void
timerheap_sift_up(pyhost__timerheap_t *heap, size_t i)
{
    pyhost__timer_t *t = heap->nodes[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timerheap_less(t, heap->nodes[parent])) {
            break;
        }
        timerheap_set(heap, i, heap->nodes[parent]);
        i = parent;
    }
    timerheap_set(heap, i, t);
}

static void
timerheap_sift_down(pyhost__timerheap_t *heap, size_t i)
{
    pyhost__timer_t *t = heap->nodes[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= heap->len) {
            break;
        }
        if (child + 1 < heap->len &&
            timerheap_less(heap->nodes[child + 1], heap->nodes[child])) {
            child++;
        }
        if (!timerheap_less(heap->nodes[child], t)) {
            break;
        }
        timerheap_set(heap, i, heap->nodes[child]);
        i = child;
    }
    timerheap_set(heap, i, t);
}

/* Arm t for when (re-arming moves it).  Return 0 or -ENOMEM. */
int
pyhost__timerheap_push(pyhost__timerheap_t *heap, pyhost__timer_t *t,
                       int64_t when)
{
    if (pyhost__timer_armed(t)) {
        pyhost__timerheap_remove(heap, t);
    }
    if (heap->len == heap->cap) {
        size_t ncap = heap->cap ? heap->cap * 2 : 64;
        pyhost__timer_t **nodes = realloc(heap->nodes, ncap * sizeof(*nodes));
        if (nodes == NULL) {
            return -ENOMEM;
        }
        heap->nodes = nodes;
        heap->cap = ncap;
    }
    t->when = when;
    t->seq = heap->next_seq++;
    heap->nodes[heap->len] = t;
    t->index = heap->len++;
    timerheap_sift_up(heap, t->index);
    return 0;
}

/* Disarm t; a no-op when it is not armed. */
void
pyhost__timerheap_remove(pyhost__timerheap_t *heap, pyhost__timer_t *t)
{
    size_t i = t->index;
    if (i == PYHOST__TIMER_IDLE || i >= heap->len || heap->nodes[i] != t) {
        return;
    }
    t->index = PYHOST__TIMER_IDLE;
    pyhost__timer_t *last = heap->nodes[--heap->len];
    if (i == heap->len) {
        return;
    }
    timerheap_set(heap, i, last);
    if (i > 0 && timerheap_less(last, heap->nodes[(i - 1) / 2])) {
        timerheap_sift_up(heap, i);
    }
    else {
        timerheap_sift_down(heap, i);
    }
}

/* Return the earliest timer (still armed), or NULL. */
pyhost__timer_t *
pyhost__timerheap_peek(const pyhost__timerheap_t *heap)
{
    return heap->len ? heap->nodes[0] : NULL;
}

/* Disarm and return the earliest timer if it is due at now, else NULL. */
pyhost__timer_t *
pyhost__timerheap_pop_due(pyhost__timerheap_t *heap, int64_t now)
{
    pyhost__timer_t *t = pyhost__timerheap_peek(heap);
    if (t == NULL || t->when > now) {
        return NULL;
    }
    pyhost__timerheap_remove(heap, t);
    return t;
}
