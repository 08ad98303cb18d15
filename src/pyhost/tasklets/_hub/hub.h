/* SPDX-License-Identifier: MIT
 *
 * hub.h: the pure-C core of the hub, shared by the glue (hubmodule.c) and
 * the two I/O backends.  Nothing here touches Python: the backends run with
 * the GIL released, and the C tests in tests/ctests link these files
 * alone.
 *
 * An operation (pyhost__op_t) is one socket request: poll for events, recv
 * into a buffer, or send from one.  It is started with the backend's submit
 * and ends only with its own completion, reported by the backend's wait.
 * A cancel (deadline, close, exception in the waiting tasklet) is only a
 * request: the completion that follows it may still carry data, and that
 * data is delivered (returned, or kept in the hub's per-fd stash for the
 * next receive).  Deadlines are CLOCK_MONOTONIC nanoseconds (clock.h).
 */
#ifndef PYHOST_HUB_H
#define PYHOST_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "clock.h"

/* ---- operations ------------------------------------------------------- */

enum pyhost__op_kind {
    PYHOST__OP_POLL, /* wait for poll(2) events; res = revents */
    PYHOST__OP_RECV, /* recv(2) into buf; res = bytes */
    PYHOST__OP_SEND, /* send(2) from buf; res = bytes */
};

typedef struct pyhost__op pyhost__op_t;
struct pyhost__op {
    /* Set by pyhost__optab_add: slot index in the low 32 bits, the slot's
     * generation in the high 32 bits, so a late CQE for a freed slot that
     * was reused is recognised as stale.  0 is never a valid value. */
    uint64_t user_data;
    int kind;
    int fd;
    uint32_t events; /* POLL: the poll(2) mask wanted */
    void *buf;       /* RECV/SEND: the caller pins it until completion */
    size_t len;
    int msg_flags;
    int32_t res;            /* the result: >= 0, or -errno (-ECANCELED) */
    unsigned completed : 1; /* the backend has reported res */
    unsigned cancel_requested : 1; /* a cancel has been submitted */
    /* Per-fd list of ops not yet reported (owned by the fd table). */
    pyhost__op_t *fd_next, *fd_prev;
    /* Backend-private link (epoll: its list of ops completed early). */
    pyhost__op_t *be_next;
};

/* Generation-tagged slots for pending ops, plus a per-fd list of them.
 * Owned by one hub, used by one thread. */
typedef struct {
    pyhost__op_t **slots;
    uint32_t *gens;
    uint32_t *free_list; /* stack of free slot indexes */
    uint32_t nfree;
    uint32_t cap;
    uint32_t live; /* ops added and not removed */
    pyhost__op_t **fd_heads;
    int fd_cap;
} pyhost__optab_t;

int pyhost__optab_init(pyhost__optab_t *tab);
void pyhost__optab_fini(pyhost__optab_t *tab);
int pyhost__optab_add(pyhost__optab_t *tab, pyhost__op_t *op);
void pyhost__optab_remove(pyhost__optab_t *tab, pyhost__op_t *op);
pyhost__op_t *pyhost__optab_lookup(pyhost__optab_t *tab, uint64_t user_data);
pyhost__op_t *pyhost__optab_fd_first(pyhost__optab_t *tab, int fd);

/* ---- timers ----------------------------------------------------------- */

/* A node embedded in whatever owns the timer; the heap orders nodes by
 * (when, seq) so equal deadlines fire in arming order. */
typedef struct {
    int64_t when; /* CLOCK_MONOTONIC, nanoseconds */
    uint64_t seq;
    size_t index; /* position in the heap; PYHOST__TIMER_IDLE when out */
} pyhost__timer_t;

#define PYHOST__TIMER_IDLE ((size_t)-1)

typedef struct {
    pyhost__timer_t **nodes;
    size_t len, cap;
    uint64_t next_seq;
} pyhost__timerheap_t;

void pyhost__timerheap_init(pyhost__timerheap_t *heap);
void pyhost__timerheap_fini(pyhost__timerheap_t *heap);
int pyhost__timerheap_push(pyhost__timerheap_t *heap, pyhost__timer_t *t,
                           int64_t when);
void pyhost__timerheap_remove(pyhost__timerheap_t *heap, pyhost__timer_t *t);
pyhost__timer_t *pyhost__timerheap_peek(const pyhost__timerheap_t *heap);
pyhost__timer_t *pyhost__timerheap_pop_due(pyhost__timerheap_t *heap,
                                           int64_t now);
static inline int
pyhost__timer_armed(const pyhost__timer_t *t)
{
    return t->index != PYHOST__TIMER_IDLE;
}

/* ---- backends --------------------------------------------------------- */

typedef struct pyhost__backend pyhost__backend_t;

typedef struct pyhost__backend_ops pyhost__backend_ops_t;
struct pyhost__backend_ops {
    const char *name;
    /* Start op (already in the op table).  Return 0 or -errno. */
    int (*submit)(pyhost__backend_t *be, pyhost__op_t *op);
    /* Ask for op to end early; its completion follows through wait. */
    int (*cancel)(pyhost__backend_t *be, pyhost__op_t *op);
    /* Wait up to timeout_ns (-1: no limit, 0: do not block) for
     * completions; store up to max finished ops in out, each with
     * completed = 1 and res set.  Return how many, or -errno (-EINTR
     * when a signal arrived).  Called without the GIL. */
    int (*wait)(pyhost__backend_t *be, int64_t timeout_ns, pyhost__op_t **out,
                int max);
    /* The fd is about to be closed: drop any state kept for it. */
    void (*forget_fd)(pyhost__backend_t *be, int fd);
    void (*destroy)(pyhost__backend_t *be);
};

struct pyhost__backend {
    const pyhost__backend_ops_t *ops;
    pyhost__optab_t *tab; /* borrowed from the owning hub */
};

/* Create a backend over tab.  Return 0 or -errno (io_uring: -EPERM under
 * seccomp, -ENOSYS, ...).  The caller destroys it with ops->destroy. */
int pyhost__uring_create(pyhost__optab_t *tab, pyhost__backend_t **out);
int pyhost__epoll_create(pyhost__optab_t *tab, pyhost__backend_t **out);

#endif /* PYHOST_HUB_H */
