/* SPDX-License-Identifier: MIT
 *
 * hubobject.h: the Python side of the hub, shared by the three files that
 * implement it: hubmodule.c (the module, the Hub and Timer types),
 * scheduler.c (run queue, parking and waking, the hub greenlet's loop) and
 * sockops.c (operations for socket calls: try, submit, wait for the own
 * completion, cancel).  Everything here belongs to one thread's hub.
 */
#ifndef PYHOST_HUB_HUBOBJECT_H
#define PYHOST_HUB_HUBOBJECT_H

#include <Python.h>

#include <sys/types.h>

#include "hub.h"

/* Greenlet switches by copying the C stack to the heap and back.  Under
 * AddressSanitizer the redzones that instrumented frames put around their
 * address-taken locals are then read by that copy (a false
 * stack-buffer-underflow in greenlet's memcpy) and left behind for other
 * greenlets' frames.  Functions that can be on a tasklet's stack when it
 * switches therefore get no redzones.  Everything else stays checked. */
/* Completions dispatched per backend wait. */
#define HUB_BATCH 256

#if defined(__SANITIZE_ADDRESS__)
#define HUB_NO_ASAN __attribute__((no_sanitize("address")))
#else
#define HUB_NO_ASAN
#endif

typedef struct {
    PyTypeObject *hub_type;
    PyTypeObject *timer_type;
    PyObject *tls_key;   /* thread state dict key owning each hub */
    PyObject *loop_func; /* _hub._loop, the hub greenlet's run */
    int warned_fallback; /* one RuntimeWarning per process */
} hub_state;

static inline hub_state *
get_hub_state(PyObject *module)
{
    return (hub_state *)PyModule_GetState(module);
}

/* A runnable tasklet: switch to g with value, or throw exc into it. */
typedef struct {
    PyObject *g;     /* owned */
    PyObject *value; /* owned, may be NULL */
    PyObject *exc;   /* owned, may be NULL */
} hub_entry;

enum { TIMER_IO, TIMER_PY };

/* Timer node with a tag saying what owns it. */
typedef struct {
    pyhost__timer node;
    int kind;
} hub_timer;

typedef struct HubObject HubObject;

/* An operation waited for by one tasklet.  Allocated by the waiting C
 * frame; the hub only flags it completed and wakes the tasklet. */
typedef struct {
    pyhost__op op;
    hub_timer deadline;
    PyObject *waiter; /* owned until completion: the tasklet */
    PyObject *key;    /* owned: what the waiter parks on */
    PyObject *owner;  /* owned until completion: the buffer's object */
    Py_buffer view;   /* pinned until completion when has_view */
    int has_view;
    int timed_out; /* the deadline asked for the cancel */
    int closed;    /* close_fd asked for the cancel */
    int done;      /* the hub has processed the completion; the
                    * backend's op.completed may come earlier */
    PyObject *hub; /* owned: the hub outlives its pending ops */
} hub_io;

/* All fields belong to the hub's thread (and are protected by the GIL,
 * which is what the other threads hold when they touch `remote`). */
struct HubObject {
    PyObject_HEAD pyhost__optab tab;
    pyhost__timerheap timers;
    pyhost__backend *backend;
    PyObject *loop;          /* owned: the hub greenlet, NULL until needed */
    PyObject *main;          /* owned: the thread's main greenlet */
    PyObject *parked;        /* owned dict: greenlet -> key it waits on */
    PyObject *pending_throw; /* owned dict: runnable greenlet -> exception */
    PyObject *remote;        /* owned list of (g, key, value) from threads */
    hub_entry *rq;           /* run queue: a ring buffer */
    size_t rq_head, rq_len, rq_cap;
    int wake_fd;                   /* eventfd other threads write to */
    hub_io *wake_io;               /* the POLL op on wake_fd, or NULL */
    long jobs;                     /* call_in_thread jobs not yet finished */
    PyObject *run_key;             /* owned: key of main parked in run() */
    struct TimerObject *run_timer; /* run()'s own timer: not a reason to
                                    * stay busy; borrowed */
    PyObject *loop_func;           /* owned: _hub._loop */
    unsigned long thread_id;
    pid_t pid;
};

/* Borrowed pointer to this thread's hub; the thread state dict owns it
 * (defined in hubmodule.c). */
extern _Thread_local HubObject *pyhost__hub_tls;

typedef struct TimerObject {
    PyObject_HEAD hub_timer t;
    HubObject *hub;     /* owned */
    PyObject *callback; /* owned */
    PyObject *args;     /* owned tuple */
} TimerObject;

/* scheduler.c: run queue, parking, waking, the loop */
int pyhost__hub_rq_push(HubObject *self, PyObject *g, PyObject *value,
                        PyObject *exc);
int pyhost__hub_wake(HubObject *self, PyObject *g, PyObject *key,
                     PyObject *value);
int pyhost__hub_throw(HubObject *self, PyObject *g, PyObject *exc);
void pyhost__hub_exception_to_main(HubObject *self);
void pyhost__hub_report_error(HubObject *self, PyObject *context);
hub_entry pyhost__hub_rq_pop(HubObject *self);
int pyhost__hub_ensure_loop(HubObject *self);
PyObject *pyhost__hub_park(HubObject *self, PyObject *key);
int pyhost__hub_has_io(HubObject *self);
void pyhost__hub_arm_wake(HubObject *self);
/* The hub greenlet's body (the module function _hub._loop). */
PyObject *pyhost__hub_loop_run(PyObject *module, PyObject *unused);

/* sockops.c: socket operations */
void pyhost__hub_io_free(hub_io *io);
hub_io *pyhost__hub_io_start(HubObject *self, int kind, int fd, void *buf,
                             size_t len, int flags, uint32_t events,
                             double timeout);
void pyhost__hub_io_completed(HubObject *self, hub_io *io);
void pyhost__hub_dispatch(HubObject *self, pyhost__op **done, int n);
void pyhost__hub_io_cancel(HubObject *self, hub_io *io);
PyObject *pyhost__hub_io_wait(HubObject *self, hub_io *io);
Py_ssize_t pyhost__hub_io_result(hub_io *io);
Py_ssize_t pyhost__hub_run_op(HubObject *self, int kind, int fd, void *buf,
                              size_t len, int flags, uint32_t events,
                              double timeout, PyObject *owner,
                              Py_buffer *view);
int pyhost__hub_parse_timeout(PyObject *obj, double *out);
PyObject *pyhost__hub_recv_meth(HubObject *self, PyObject *const *args,
                                Py_ssize_t nargs);
PyObject *pyhost__hub_recv_into_meth(HubObject *self, PyObject *const *args,
                                     Py_ssize_t nargs);
PyObject *pyhost__hub_send_meth(HubObject *self, PyObject *const *args,
                                Py_ssize_t nargs);
PyObject *pyhost__hub_sendall_meth(HubObject *self, PyObject *const *args,
                                   Py_ssize_t nargs);
PyObject *pyhost__hub_wait_fd_meth(HubObject *self, PyObject *const *args,
                                   Py_ssize_t nargs);
PyObject *pyhost__hub_wait_fds_meth(HubObject *self, PyObject *const *args,
                                    Py_ssize_t nargs);
PyObject *pyhost__hub_close_fd_meth(HubObject *self, PyObject *arg);

/* hubmodule.c */
PyObject *pyhost__hub_call_later_meth(HubObject *self, PyObject *const *args,
                                      Py_ssize_t nargs);
void pyhost__hub_timer_disarm(TimerObject *t);

#endif /* PYHOST_HUB_HUBOBJECT_H */
