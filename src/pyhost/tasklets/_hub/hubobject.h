/* SPDX-License-Identifier: MIT
 *
 * hubobject.h: the Python side of the hub, shared by the three files that
 * implement it: hubmodule.c (the module, the Hub and Timer types),
 * scheduler.c (run queue, parking with an optional deadline, waking, the
 * hub greenlet's loop) and sockops.c (operations for socket calls: try,
 * submit, wait for the own completion, cancel; the per-fd stash).
 * Everything here belongs to one thread's hub.
 */
#ifndef PYHOST_HUB_HUBOBJECT_H
#define PYHOST_HUB_HUBOBJECT_H

#include <Python.h>

#include <sys/types.h>

#include "hub.h"

/* Completions dispatched per backend wait. */
#define PYHOST__HUB_BATCH 256

/* Greenlet switches by copying the C stack to the heap and back.  Under
 * AddressSanitizer the redzones that instrumented frames put around their
 * address-taken locals are then read by that copy (a false
 * stack-buffer-underflow in greenlet's memcpy) and left behind for other
 * greenlets' frames.  Functions that can be on a tasklet's stack when it
 * switches therefore get no redzones.  Everything else stays checked. */
#if defined(__SANITIZE_ADDRESS__)
#define PYHOST__NO_ASAN __attribute__((no_sanitize("address")))
#else
#define PYHOST__NO_ASAN
#endif

/* Module state. */
typedef struct {
    PyTypeObject *hub_type;
    PyTypeObject *timer_type;
    PyTypeObject *timed_out_type;
    PyObject *timed_out; /* the TIMED_OUT singleton */
    PyObject *tls_key;   /* thread state dict key owning each hub */
    PyObject *loop_func; /* _hub._loop, the hub greenlet's run */
    int warned_fallback; /* one RuntimeWarning per process */
} pyhost__hub_state_t;

static inline pyhost__hub_state_t *
pyhost__hub_get_state(PyObject *module)
{
    return (pyhost__hub_state_t *)PyModule_GetState(module);
}

/* A runnable tasklet: switch to g with value, or throw exc into it. */
typedef struct {
    PyObject *g;     /* owned */
    PyObject *value; /* owned, may be NULL */
    PyObject *exc;   /* owned, may be NULL */
} pyhost__rq_entry_t;

/* What a timer in the hub's heap belongs to. */
enum {
    PYHOST__TIMER_PARK, /* a park's deadline: wakes the tasklet, timed out */
    PYHOST__TIMER_CALL, /* a Timer object from call_later: calls back */
};

/* Timer node with a tag saying what owns it. */
typedef struct {
    pyhost__timer_t node;
    int kind;
} pyhost__hub_timer_t;

/* The outcome of pyhost__hub_park (besides -1: an exception was thrown
 * into the tasklet). */
enum {
    PYHOST__PARK_WOKEN = 0,   /* a waker passed a value */
    PYHOST__PARK_TIMEOUT = 1, /* the deadline passed first */
};

typedef struct pyhost__hub pyhost__hub_t;

/* An operation waited for by one tasklet.  Allocated by the waiting C
 * frame on the heap (a greenlet's stack moves when it switches); the hub
 * only flags it completed and wakes the tasklet. */
typedef struct {
    pyhost__op_t op;
    PyObject *waiter; /* owned until completion: the tasklet */
    PyObject *key;    /* owned: what the waiter parks on */
    PyObject *owner;  /* owned until completion: the buffer's object */
    Py_buffer view;   /* pinned until completion when has_view */
    int has_view;
    int timed_out;   /* the waiter's deadline asked for the cancel */
    int closed;      /* close_fd asked for the cancel */
    int done;        /* the hub has processed the completion; the
                      * backend's op.completed may come earlier */
    uint32_t fd_gen; /* RECV: its fd's generation when it started */
    PyObject *hub;   /* owned: the hub outlives its pending ops */
} pyhost__io_t;

/* The io an op of the hub belongs to. */
static inline pyhost__io_t *
pyhost__io_of(pyhost__op_t *op)
{
    return (pyhost__io_t *)((char *)op - offsetof(pyhost__io_t, op));
}

/* Bytes that a receive got after its caller had stopped waiting (an
 * exception thrown into it): the next receive on the fd returns them
 * first.  data[off:len] is unread; data is PyMem memory.  gen counts the
 * closes of the fd number: bytes of a receive that started before a close
 * belong to the closed socket, never to the next one given that number. */
typedef struct {
    char *data;
    size_t off, len, cap;
    uint32_t gen;
} pyhost__stash_t;

/* All fields belong to the hub's thread (and are protected by the GIL,
 * which is what the other threads hold when they touch `remote`). */
struct pyhost__hub {
    PyObject_HEAD
    pyhost__optab_t tab;
    pyhost__timerheap_t timers;
    pyhost__backend_t *backend;
    PyObject *loop;          /* owned: the hub greenlet, NULL until needed */
    PyObject *main;          /* owned: the thread's main greenlet */
    PyObject *parked;        /* owned dict: greenlet -> key it waits on */
    PyObject *pending_throw; /* owned dict: runnable greenlet -> exception */
    PyObject *remote;        /* owned list of (g, key, value) from threads */
    PyObject *timed_out;     /* owned: the module's TIMED_OUT singleton */
    pyhost__rq_entry_t *rq;  /* run queue: a ring buffer */
    size_t rq_head, rq_len, rq_cap;
    pyhost__stash_t *stash; /* indexed by fd; PyMem memory */
    int stash_cap;
    int wake_fd;           /* eventfd other threads write to */
    pyhost__io_t *wake_io; /* the POLL op on wake_fd, or NULL */
    long jobs;             /* call_in_thread jobs not yet finished */
    PyObject *run_key;     /* owned: key of main parked in run(); its
                            * deadline is not a reason to stay busy */
    PyObject *loop_func;   /* owned: _hub._loop */
    unsigned long thread_id;
    pid_t pid;
};

/* Borrowed pointer to this thread's hub; the thread state dict owns it
 * (defined in hubmodule.c). */
extern _Thread_local pyhost__hub_t *pyhost__hub_tls;

/* The Python Timer object returned by call_later. */
typedef struct pyhost__timer_object {
    PyObject_HEAD
    pyhost__hub_timer_t t;
    pyhost__hub_t *hub; /* owned */
    PyObject *callback; /* owned */
    PyObject *args;     /* owned tuple */
} pyhost__timer_object_t;

/* scheduler.c: run queue, parking, waking, the loop */
int pyhost__hub_rq_push(pyhost__hub_t *self, PyObject *g, PyObject *value,
                        PyObject *exc);
int pyhost__hub_wake(pyhost__hub_t *self, PyObject *g, PyObject *key,
                     PyObject *value);
int pyhost__hub_throw(pyhost__hub_t *self, PyObject *g, PyObject *exc);
void pyhost__hub_exception_to_main(pyhost__hub_t *self);
pyhost__rq_entry_t pyhost__hub_rq_pop(pyhost__hub_t *self);
int pyhost__hub_ensure_loop(pyhost__hub_t *self);
int pyhost__hub_park(pyhost__hub_t *self, PyObject *key, int64_t deadline,
                     PyObject **value);
void pyhost__hub_arm_wake(pyhost__hub_t *self);
/* The hub greenlet's body (the module function _hub._loop). */
PyObject *pyhost__hub_loop_run(PyObject *module, PyObject *unused);

/* sockops.c: socket operations and the stash */
void pyhost__hub_dispatch(pyhost__hub_t *self, pyhost__op_t **done, int n);
void pyhost__hub_io_cancel(pyhost__hub_t *self, pyhost__io_t *io);
PyObject *pyhost__hub_io_wait(pyhost__hub_t *self, pyhost__io_t *io,
                              int64_t deadline);
void pyhost__hub_stash_drop(pyhost__hub_t *self, int fd);
PyObject *pyhost__hub_recv_meth(pyhost__hub_t *self, PyObject *args);
PyObject *pyhost__hub_recv_into_meth(pyhost__hub_t *self, PyObject *args);
PyObject *pyhost__hub_send_meth(pyhost__hub_t *self, PyObject *args);
PyObject *pyhost__hub_sendall_meth(pyhost__hub_t *self, PyObject *args);
PyObject *pyhost__hub_wait_fd_meth(pyhost__hub_t *self, PyObject *args);
PyObject *pyhost__hub_wait_fds_meth(pyhost__hub_t *self, PyObject *args);
PyObject *pyhost__hub_stashed_meth(pyhost__hub_t *self, PyObject *arg);
PyObject *pyhost__hub_close_fd_meth(pyhost__hub_t *self, PyObject *arg);

/* hubmodule.c: the one timeout validation, a PyArg "O&" converter that
 * stores seconds as a double, -1.0 for None (no timeout) */
int pyhost__timeout_converter(PyObject *obj, void *out);

/* The deadline of a timeout from pyhost__timeout_converter: none for -1. */
static inline int64_t
pyhost__timeout_deadline(double timeout)
{
    return timeout < 0 ? PYHOST__NO_DEADLINE : pyhost__deadline_ns(timeout);
}

#endif /* PYHOST_HUB_HUBOBJECT_H */
