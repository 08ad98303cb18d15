/* SPDX-License-Identifier: MIT
 *
 * hub.h: the pure-C core of the hub, shared by the glue (hubmodule.c) and
 * the two I/O backends.  Nothing here touches Python: the backends run with
 * the GIL released, and the C tests in tests/ctests link these files
 * alone.
 *
 * An operation (pyhost__op) is one socket request: poll for events, recv
 * into a buffer, or send from one.  It is started with the backend's submit
 * and ends only with its own completion, reported by the backend's wait.
 * A cancel (deadline, close, exception in the waiting tasklet) is only a
 * request: the completion that follows it may still carry data, and that
 * data is delivered.
 */
#ifndef PYHOST_HUB_H
#define PYHOST_HUB_H

#include <stddef.h>
#include <stdint.h>

/* ---- operations ------------------------------------------------------- */

enum pyhost__op_kind {
    PYHOST_OP_POLL, /* wait for poll(2) events; res = revents */
    PYHOST_OP_RECV, /* recv(2) into buf; res = bytes */
    PYHOST_OP_SEND, /* send(2) from buf; res = bytes */
};

typedef struct pyhost__op pyhost__op;
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
    pyhost__op *fd_next, *fd_prev;
    /* Backend-private link (epoll: its list of ops completed early). */
    pyhost__op *be_next;
};

/* Generation-tagged slots for pending ops, plus a per-fd list of them.
 * Owned by one hub, used by one thread. */
typedef struct {
    pyhost__op **slots;
    uint32_t *gens;
    uint32_t *free_list; /* stack of free slot indexes */
    uint32_t nfree;
    uint32_t cap;
    uint32_t live; /* ops added and not removed */
    pyhost__op **fd_heads;
    int fd_cap;
} pyhost__optab;

int pyhost__optab_init(pyhost__optab *tab);
void pyhost__optab_fini(pyhost__optab *tab);
int pyhost__optab_add(pyhost__optab *tab, pyhost__op *op);
void pyhost__optab_remove(pyhost__optab *tab, pyhost__op *op);
pyhost__op *pyhost__optab_lookup(pyhost__optab *tab, uint64_t user_data);
pyhost__op *pyhost__optab_fd_first(pyhost__optab *tab, int fd);

/* ---- timers ----------------------------------------------------------- */

/* A node embedded in whatever owns the timer; the heap orders nodes by
 * (when, seq) so equal deadlines fire in arming order. */
typedef struct {
    int64_t when; /* CLOCK_MONOTONIC, nanoseconds */
    uint64_t seq;
    size_t index; /* position in the heap; PYHOST_TIMER_IDLE when out */
} pyhost__timer;

#define PYHOST_TIMER_IDLE ((size_t)-1)

typedef struct {
    pyhost__timer **nodes;
    size_t len, cap;
    uint64_t next_seq;
} pyhost__timerheap;

void pyhost__timerheap_init(pyhost__timerheap *heap);
void pyhost__timerheap_fini(pyhost__timerheap *heap);
int pyhost__timerheap_push(pyhost__timerheap *heap, pyhost__timer *t,
                           int64_t when);
void pyhost__timerheap_remove(pyhost__timerheap *heap, pyhost__timer *t);
pyhost__timer *pyhost__timerheap_peek(const pyhost__timerheap *heap);
pyhost__timer *pyhost__timerheap_pop_due(pyhost__timerheap *heap, int64_t now);
static inline int
pyhost__timer_armed(const pyhost__timer *t)
{
    return t->index != PYHOST_TIMER_IDLE;
}
int64_t pyhost__now_ns(void);

/* The deadline `seconds` from now, saturated at INT64_MAX: an infinite or
 * absurdly long wait (sleep(inf), a timeout of years) must mean "not in
 * our lifetime", never wrap into the past (or be undefined behaviour). */
static inline int64_t
pyhost__deadline_ns(double seconds)
{
    int64_t now = pyhost__now_ns();
    double ns = seconds * 1e9;
    if (!(ns < (double)(INT64_MAX - now))) {
        return INT64_MAX;
    }
    return now + (int64_t)ns;
}

/* ---- backends --------------------------------------------------------- */

typedef struct pyhost__backend pyhost__backend;

struct pyhost__backend_ops {
    const char *name;
    /* Start op (already in the op table).  Return 0 or -errno. */
    int (*submit)(pyhost__backend *be, pyhost__op *op);
    /* Ask for op to end early; its completion follows through wait. */
    int (*cancel)(pyhost__backend *be, pyhost__op *op);
    /* Wait up to timeout_ns (-1: no limit, 0: do not block) for
     * completions; store up to max finished ops in out, each with
     * completed = 1 and res set.  Return how many, or -errno (-EINTR
     * when a signal arrived).  Called without the GIL. */
    int (*wait)(pyhost__backend *be, int64_t timeout_ns, pyhost__op **out,
                int max);
    /* The fd is about to be closed: drop any state kept for it. */
    void (*forget_fd)(pyhost__backend *be, int fd);
    void (*destroy)(pyhost__backend *be);
};

struct pyhost__backend {
    const struct pyhost__backend_ops *ops;
    pyhost__optab *tab; /* borrowed from the owning hub */
};

/* Create a backend over tab.  Return 0 or -errno (io_uring: -EPERM under
 * seccomp, -ENOSYS, ...).  The caller destroys it with ops->destroy. */
int pyhost__uring_create(pyhost__optab *tab, pyhost__backend **out);
int pyhost__epoll_create(pyhost__optab *tab, pyhost__backend **out);

#endif /* PYHOST_HUB_H */
