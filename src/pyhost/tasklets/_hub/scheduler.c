/* SPDX-License-Identifier: MIT
 *
 * scheduler.c: the hub's scheduling.  A tasklet that blocks parks itself
 * (records in `parked` the key it waits on) and switches to the hub
 * greenlet; a waker makes it runnable only if it still waits on that key,
 * so a late wake can never resume a tasklet that waits for something else.
 * A park may carry a deadline (the model is CPython's parking lot with a
 * timeout): a timer that, when due, wakes the tasklet with the TIMED_OUT
 * singleton, which no waker can pass, so the park reports "timed out"
 * rather than a value.  Every timed wait of the hub (sleep, join, socket
 * deadlines, select, the cooperative lock) is such a park.
 * The hub greenlet's loop runs the run queue, waits for completions with
 * the GIL released (a signal ends the wait and its handler's exception goes
 * to the main tasklet), then fires due timers.
 */
#include <Python.h>

#include <errno.h>
#include <unistd.h>

#include "compat.h"
#include "hubobject.h"
#include "tasklet.h"

/* ---- run queue -------------------------------------------------------- */

/* Append (g, value, exc), taking new references.  Return 0 or -1. */
int
pyhost__hub_rq_push(pyhost__hub_t *self, PyObject *g, PyObject *value,
                    PyObject *exc)
{
    if (self->rq_len == self->rq_cap) {
        size_t ncap = self->rq_cap ? self->rq_cap * 2 : 64;
        pyhost__rq_entry_t *rq = PyMem_Malloc(ncap * sizeof(*rq));
        if (rq == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (size_t i = 0; i < self->rq_len; i++) {
            rq[i] = self->rq[(self->rq_head + i) % self->rq_cap];
        }
        PyMem_Free(self->rq);
        self->rq = rq;
        self->rq_head = 0;
        self->rq_cap = ncap;
    }
    pyhost__rq_entry_t *e =
        &self->rq[(self->rq_head + self->rq_len) % self->rq_cap];
    e->g = Py_NewRef(g);
    e->value = Py_XNewRef(value);
    e->exc = Py_XNewRef(exc);
    self->rq_len++;
    return 0;
}

pyhost__rq_entry_t
pyhost__hub_rq_pop(pyhost__hub_t *self)
{
    pyhost__rq_entry_t e = self->rq[self->rq_head];
    self->rq_head = (self->rq_head + 1) % self->rq_cap;
    self->rq_len--;
    return e;
}

/* ---- waking ----------------------------------------------------------- */

/* Make g runnable with value if it is parked on key (identity).  Return 1
 * when woken, 0 when g waits on something else (a stale wake), -1 on
 * error. */
int
pyhost__hub_wake(pyhost__hub_t *self, PyObject *g, PyObject *key,
                 PyObject *value)
{
    PyObject *cur = PyDict_GetItemWithError(self->parked, g);
    if (cur == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (cur != key) {
        return 0;
    }
    if (PyDict_DelItem(self->parked, g) < 0) {
        return -1;
    }
    return pyhost__hub_rq_push(self, g, value, NULL) < 0 ? -1 : 1;
}

/* Raise exc in g: at once if g is parked, when it next runs if it is
 * runnable.  Return 0 or -1. */
int
pyhost__hub_throw(pyhost__hub_t *self, PyObject *g, PyObject *exc)
{
    PyObject *cur = PyDict_GetItemWithError(self->parked, g);
    if (cur != NULL) {
        if (PyDict_DelItem(self->parked, g) < 0) {
            return -1;
        }
        return pyhost__hub_rq_push(self, g, NULL, exc);
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    return PyDict_SetItem(self->pending_throw, g, exc);
}

/* Hand the raised exception to the main tasklet (signal handlers,
 * KeyboardInterrupt in a tasklet): the hub itself must keep running. */
void
pyhost__hub_exception_to_main(pyhost__hub_t *self)
{
    PyObject *exc = pyhost__err_take();
    if (exc == NULL) {
        return;
    }
    if (pyhost__hub_throw(self, self->main, exc) < 0) {
        PyErr_WriteUnraisable((PyObject *)self);
    }
    Py_DECREF(exc);
}

/* Report an exception that escaped a timer callback or a raw greenlet:
 * the ones that must stop the program go to main, others are printed. */
static void
sched_report_error(pyhost__hub_t *self, PyObject *context)
{
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt) ||
        PyErr_ExceptionMatches(PyExc_SystemExit)) {
        pyhost__hub_exception_to_main(self);
        return;
    }
    PyErr_WriteUnraisable(context);
}

/* ---- parking ---------------------------------------------------------- */

/* Make sure the hub greenlet can be switched to (it ends when it finds
 * nothing parked).  Return 0 or -1 with an exception set. */
int
pyhost__hub_ensure_loop(pyhost__hub_t *self)
{
    if (self->loop != NULL && !pyhost__greenlet_dead(self->loop)) {
        return 0;
    }
    PyObject *loop = pyhost__greenlet_new(self->loop_func, self->main);
    if (loop == NULL) {
        return -1;
    }
    Py_XSETREF(self->loop, loop);
    return 0;
}

/* A timed park's deadline.  Allocated by the parking frame on the heap (a
 * greenlet's stack moves when it switches) and freed by it; the timer heap
 * only points at it while it is armed. */
typedef struct {
    pyhost__hub_timer_t t; /* first: the heap's node is the waiter */
    PyObject *g;           /* owned: the parked tasklet */
    PyObject *key;         /* owned: what it parks on */
} sched_waiter_t;

/* Park the current tasklet on key and switch to the hub, until a waker
 * wakes it (pyhost__hub_wake with this key), an exception is thrown into
 * it, or deadline passes (PYHOST__NO_DEADLINE: no deadline, no timer).
 * Return PYHOST__PARK_WOKEN with *value set to a new reference to what the
 * waker passed, PYHOST__PARK_TIMEOUT (*value NULL) when the deadline came
 * first, or -1 with the thrown exception set (*value NULL). */
PYHOST__NO_ASAN
int
pyhost__hub_park(pyhost__hub_t *self, PyObject *key, int64_t deadline,
                 PyObject **value)
{
    *value = NULL;
    PyObject *g = pyhost__greenlet_current();
    if (g == NULL) {
        return -1;
    }
    int status = -1;
    sched_waiter_t *w = NULL;
    if (g == self->loop) {
        PyErr_SetString(PyExc_RuntimeError,
                        "cannot block inside the hub (a timer callback "
                        "must not wait)");
        goto done;
    }
    if (deadline != PYHOST__NO_DEADLINE) {
        w = PyMem_Malloc(sizeof(*w));
        if (w == NULL) {
            PyErr_NoMemory();
            goto done;
        }
        w->t.kind = PYHOST__TIMER_PARK;
        w->t.node.index = PYHOST__TIMER_IDLE;
        w->g = Py_NewRef(g);
        w->key = Py_NewRef(key);
        if (pyhost__timerheap_push(&self->timers, &w->t.node, deadline) < 0) {
            PyErr_NoMemory();
            goto done;
        }
    }
    if (PyDict_SetItem(self->parked, g, key) < 0) {
        goto done;
    }
    if (pyhost__hub_ensure_loop(self) < 0) {
        (void)PyDict_DelItem(self->parked, g);
        goto done;
    }
    PyObject *loop = Py_NewRef(self->loop);
    PyObject *res = pyhost__greenlet_switch(loop, NULL);
    Py_DECREF(loop);
    /* A wake or throw removed the entry; anything else (the hub greenlet
     * ended) leaves it, and it must not outlive this park. */
    PyObject *exc = pyhost__err_take();
    PyObject *cur = PyDict_GetItemWithError(self->parked, g);
    if (cur == key) {
        (void)PyDict_DelItem(self->parked, g);
    }
    PyErr_Clear();
    pyhost__err_set_raised(exc);
    if (res == NULL) {
        goto done;
    }
    if (res == self->timed_out) {
        Py_DECREF(res);
        status = PYHOST__PARK_TIMEOUT;
        goto done;
    }
    if (PyTuple_Check(res) && PyTuple_GET_SIZE(res) == 0) {
        Py_SETREF(res, Py_NewRef(Py_None));
    }
    *value = res;
    status = PYHOST__PARK_WOKEN;
done:
    if (w != NULL) {
        pyhost__timerheap_remove(&self->timers, &w->t.node);
        Py_DECREF(w->g);
        Py_DECREF(w->key);
        PyMem_Free(w);
    }
    Py_DECREF(g);
    return status;
}

/* ---- the loop --------------------------------------------------------- */

static int
sched_has_io(pyhost__hub_t *self)
{
    uint32_t own = self->wake_io != NULL && self->wake_io->op.user_data;
    return self->tab.live > own || self->jobs > 0;
}

/* (Re)arm the POLL op on the eventfd other threads use to wake us. */
void
pyhost__hub_arm_wake(pyhost__hub_t *self)
{
    pyhost__io_t *io = self->wake_io;
    if (io == NULL) {
        return;
    }
    uint64_t v;
    while (read(self->wake_fd, &v, sizeof(v)) > 0) {
    }
    io->op.res = 0;
    io->done = 0;
    if (pyhost__optab_add(&self->tab, &io->op) == 0 &&
        self->backend->ops->submit(self->backend, &io->op) == 0) {
        return;
    }
    pyhost__optab_remove(&self->tab, &io->op);
}

/* Move the wakes other threads queued into the run queue. */
static void
sched_take_remote(pyhost__hub_t *self)
{
    Py_ssize_t n = PyList_GET_SIZE(self->remote);
    if (n == 0) {
        return;
    }
    PyObject *items = PyList_GetSlice(self->remote, 0, n);
    if (items == NULL || PyList_SetSlice(self->remote, 0, n, NULL) < 0) {
        Py_XDECREF(items);
        PyErr_WriteUnraisable((PyObject *)self);
        return;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = PyList_GET_ITEM(items, i);
        self->jobs--;
        if (pyhost__hub_wake(self, PyTuple_GET_ITEM(t, 0),
                             PyTuple_GET_ITEM(t, 1),
                             PyTuple_GET_ITEM(t, 2)) < 0) {
            PyErr_WriteUnraisable((PyObject *)self);
        }
    }
    Py_DECREF(items);
}

/* Switch to each tasklet that was runnable when we started. */
PYHOST__NO_ASAN
static void
sched_run_ready(pyhost__hub_t *self)
{
    size_t n = self->rq_len;
    while (n-- > 0 && self->rq_len > 0) {
        pyhost__rq_entry_t e = pyhost__hub_rq_pop(self);
        PyObject *thrown = PyDict_GetItemWithError(self->pending_throw, e.g);
        if (thrown != NULL) {
            Py_XSETREF(e.exc, Py_NewRef(thrown));
            (void)PyDict_DelItem(self->pending_throw, e.g);
        }
        PyErr_Clear();
        PyObject *r;
        if (pyhost__greenlet_dead(e.g)) {
            r = Py_NewRef(Py_None);
        }
        else if (e.exc != NULL) {
            r = pyhost__greenlet_throw(e.g, e.exc);
        }
        else if (e.value != NULL) {
            PyObject *args = PyTuple_Pack(1, e.value);
            r = args ? pyhost__greenlet_switch(e.g, args) : NULL;
            Py_XDECREF(args);
        }
        else {
            r = pyhost__greenlet_switch(e.g, NULL);
        }
        if (r == NULL) {
            if (PyErr_ExceptionMatches(pyhost__greenlet_exit_type())) {
                PyErr_Clear();
            }
            else {
                sched_report_error(self, e.g);
            }
        }
        Py_XDECREF(r);
        Py_DECREF(e.g);
        Py_XDECREF(e.value);
        Py_XDECREF(e.exc);
    }
}

/* Fire due timers: a park's deadline wakes its tasklet with TIMED_OUT
 * (a no-op when a waker came first), a Python timer calls its callback
 * (in the hub: it must not block). */
static void
sched_fire_timers(pyhost__hub_t *self)
{
    int64_t now = pyhost__monotonic_ns();
    pyhost__timer_t *node;
    while ((node = pyhost__timerheap_pop_due(&self->timers, now)) != NULL) {
        pyhost__hub_timer_t *ht = (pyhost__hub_timer_t *)node;
        if (ht->kind == PYHOST__TIMER_PARK) {
            sched_waiter_t *w = (sched_waiter_t *)ht;
            if (pyhost__hub_wake(self, w->g, w->key, self->timed_out) < 0) {
                PyErr_WriteUnraisable((PyObject *)self);
            }
            continue;
        }
        pyhost__timer_object_t *t =
            (pyhost__timer_object_t *)((char *)ht -
                                       offsetof(pyhost__timer_object_t, t));
        /* The heap's reference passes to this frame. */
        PyObject *r = PyObject_Call(t->callback, t->args, NULL);
        if (r == NULL) {
            sched_report_error(self, t->callback);
        }
        Py_XDECREF(r);
        Py_DECREF(t);
    }
}

/* Nothing runnable, no timer, no I/O: wake main if it waits in run(),
 * else main waits for something that can never happen. */
static int
sched_idle(pyhost__hub_t *self)
{
    PyObject *cur = PyDict_GetItemWithError(self->parked, self->main);
    if (cur == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (self->run_key != NULL && cur == self->run_key) {
        return pyhost__hub_wake(self, self->main, cur, Py_True);
    }
    PyErr_SetString(PyExc_RuntimeError,
                    "deadlock: every tasklet is blocked and no I/O, timer "
                    "or thread job is pending");
    pyhost__hub_exception_to_main(self);
    return 1;
}

/* True when t is the deadline of main's park in run_until_idle(): that
 * one is not a reason for the hub to stay busy. */
static int
sched_is_run_deadline(pyhost__hub_t *self, pyhost__timer_t *t)
{
    pyhost__hub_timer_t *ht = (pyhost__hub_timer_t *)t;
    if (self->run_key == NULL || ht->kind != PYHOST__TIMER_PARK) {
        return 0;
    }
    sched_waiter_t *w = (sched_waiter_t *)ht;
    return w->g == self->main && w->key == self->run_key;
}

/* Wait for completions (GIL released) and dispatch them. */
static void
sched_poll(pyhost__hub_t *self, int64_t timeout_ns)
{
    pyhost__op_t *done[PYHOST__HUB_BATCH];
    int n;
    Py_BEGIN_ALLOW_THREADS
    n = self->backend->ops->wait(self->backend, timeout_ns, done,
                                 PYHOST__HUB_BATCH);
    Py_END_ALLOW_THREADS
    if (n == -EINTR) {
        if (PyErr_CheckSignals() < 0) {
            pyhost__hub_exception_to_main(self);
        }
        return;
    }
    if (n < 0) {
        errno = -n;
        PyErr_SetFromErrno(PyExc_OSError);
        PyErr_WriteUnraisable((PyObject *)self);
        return;
    }
    pyhost__hub_dispatch(self, done, n);
}

/* The hub greenlet's body: runs until the greenlet is killed. */
PYHOST__NO_ASAN
PyObject *
pyhost__hub_loop_run(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    /* Borrowed: the hub owns this greenlet, and stops it (by replacing
     * pyhost__hub_tls and switching here) before it goes away. */
    pyhost__hub_t *self = pyhost__hub_tls;
    if (self == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no hub in this thread");
        return NULL;
    }
    for (;;) {
        sched_run_ready(self);
        if (PyErr_Occurred()) {
            PyErr_WriteUnraisable((PyObject *)self);
        }
        if (pyhost__hub_tls != self) {
            break; /* the hub was replaced or is being torn down */
        }
        sched_take_remote(self);
        int64_t timeout = -1;
        pyhost__timer_t *first = pyhost__timerheap_peek(&self->timers);
        if (self->rq_len > 0) {
            timeout = 0;
        }
        else if (first != NULL && !(self->timers.len == 1 &&
                                    sched_is_run_deadline(self, first) &&
                                    !sched_has_io(self))) {
            timeout = first->when - pyhost__monotonic_ns();
            if (timeout < 0) {
                timeout = 0;
            }
        }
        else if (!sched_has_io(self)) {
            if (sched_idle(self) == 0) {
                break; /* nobody is parked: nothing left to do */
            }
            continue;
        }
        if (timeout != 0 && PyErr_CheckSignals() < 0) {
            pyhost__hub_exception_to_main(self);
            continue;
        }
        sched_poll(self, timeout);
        sched_fire_timers(self);
    }
    Py_RETURN_NONE;
}
