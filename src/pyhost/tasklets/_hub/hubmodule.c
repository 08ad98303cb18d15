/* SPDX-License-Identifier: MIT
 *
 * hubmodule.c: the pyhost.tasklets._hub extension: the module, the Hub
 * type, the Timer type and the TIMED_OUT singleton that a timed park
 * returns.  One Hub per OS thread (greenlets cannot switch threads),
 * created on first use and owned by the thread state dict; the scheduling
 * lives in scheduler.c and the socket operations in sockops.c.  Every
 * method parses its arguments with PyArg_ParseTuple*, so errors read like
 * CPython's own.
 */
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "compat.h"
#include "hubobject.h"
#include "tasklet.h"

/* Borrowed pointer to this thread's hub; the thread state dict owns it. */
_Thread_local pyhost__hub_t *pyhost__hub_tls;

/* ---- timeouts --------------------------------------------------------- */

/* The one validation of a timeout in C (pyhost/tasklets/_deadline.py says
 * the same in Python): a PyArg "O&" converter that stores in *(double *)out
 * -1.0 for None (no timeout), else the number of seconds, >= 0 (inf
 * allowed).  Return 1, or 0 with TypeError (not a number) or ValueError
 * (NaN, negative) set. */
int
pyhost__timeout_converter(PyObject *obj, void *out)
{
    if (obj == Py_None) {
        *(double *)out = -1.0;
        return 1;
    }
    double t = PyFloat_AsDouble(obj);
    if (t == -1.0 && PyErr_Occurred()) {
        return 0;
    }
    if (isnan(t)) {
        PyErr_SetString(PyExc_ValueError, "Invalid value NaN (not a number)");
        return 0;
    }
    if (t < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "timeout value must be a non-negative number");
        return 0;
    }
    *(double *)out = t;
    return 1;
}

/* ---- Hub type --------------------------------------------------------- */

static const char *
hub_env_backend(void)
{
    const char *env = getenv("PYHOST_HUB_BACKEND");
    return env != NULL && env[0] != '\0' ? env : "auto";
}

/* Create this thread's hub on the backend named (NULL: the environment's
 * choice).  Return a new reference, or NULL with an exception set. */
static pyhost__hub_t *
hub_create(PyObject *module, const char *backend)
{
    pyhost__hub_state_t *st = pyhost__hub_get_state(module);
    if (backend == NULL) {
        backend = hub_env_backend();
    }
    int want_uring = strcmp(backend, "uring") == 0;
    int want_epoll = strcmp(backend, "epoll") == 0;
    if (!want_uring && !want_epoll && strcmp(backend, "auto") != 0) {
        PyErr_Format(PyExc_ValueError,
                     "unknown hub backend '%s' (expected 'uring', 'epoll' or "
                     "'auto')",
                     backend);
        return NULL;
    }
    pyhost__hub_t *self = PyObject_GC_New(pyhost__hub_t, st->hub_type);
    if (self == NULL) {
        return NULL;
    }
    pyhost__optab_init(&self->tab);
    pyhost__timerheap_init(&self->timers);
    self->backend = NULL;
    self->loop = self->main = self->run_key = NULL;
    self->loop_func = Py_NewRef(st->loop_func);
    self->timed_out = Py_NewRef(st->timed_out);
    self->rq = NULL;
    self->rq_head = self->rq_len = self->rq_cap = 0;
    self->stash = NULL;
    self->stash_cap = 0;
    self->wake_fd = -1;
    self->wake_io = NULL;
    self->jobs = 0;
    self->thread_id = PyThread_get_thread_ident();
    self->pid = getpid();
    self->parked = PyDict_New();
    self->pending_throw = PyDict_New();
    self->remote = PyList_New(0);
    PyObject_GC_Track(self);
    if (self->parked == NULL || self->pending_throw == NULL ||
        self->remote == NULL) {
        goto error;
    }
    int err = -ENOSYS;
    if (!want_epoll) {
        err = pyhost__uring_create(&self->tab, &self->backend);
        if (err < 0 && want_uring) {
            errno = -err;
            PyErr_SetFromErrno(PyExc_OSError);
            goto error;
        }
        if (err < 0 && !st->warned_fallback) {
            st->warned_fallback = 1;
            if (PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
                                 "pyhost: io_uring is unavailable (%s); "
                                 "using the epoll backend",
                                 strerror(-err)) < 0) {
                goto error;
            }
        }
    }
    if (self->backend == NULL) {
        err = pyhost__epoll_create(&self->tab, &self->backend);
        if (err < 0) {
            errno = -err;
            PyErr_SetFromErrno(PyExc_OSError);
            goto error;
        }
    }
    PyObject *cur = pyhost__greenlet_current();
    if (cur == NULL) {
        goto error;
    }
    self->main = pyhost__greenlet_root(cur);
    Py_DECREF(cur);
    if (self->main == NULL) {
        goto error;
    }
    if (pyhost__hub_ensure_loop(self) < 0) {
        goto error;
    }
    self->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (self->wake_fd < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        goto error;
    }
    self->wake_io = PyMem_Calloc(1, sizeof(pyhost__io_t));
    if (self->wake_io == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    self->wake_io->op.kind = PYHOST__OP_POLL;
    self->wake_io->op.fd = self->wake_fd;
    self->wake_io->op.events = POLLIN;
    pyhost__hub_arm_wake(self);
    return self;
error:
    Py_DECREF(self);
    return NULL;
}

/* Return a borrowed reference to this thread's hub, creating it. */
static pyhost__hub_t *
hub_current(PyObject *module)
{
    pyhost__hub_t *hub = pyhost__hub_tls;
    if (hub != NULL && hub->pid == getpid()) {
        return hub;
    }
    pyhost__hub_state_t *st = pyhost__hub_get_state(module);
    PyObject *dict = PyThreadState_GetDict();
    if (dict == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no thread state dict");
        return NULL;
    }
    hub = hub_create(module, NULL);
    if (hub == NULL) {
        return NULL;
    }
    pyhost__hub_tls = hub;
    if (PyDict_SetItem(dict, st->tls_key, (PyObject *)hub) < 0) {
        pyhost__hub_tls = NULL;
        Py_DECREF(hub);
        return NULL;
    }
    Py_DECREF(hub);
    return hub;
}

static int
hub_traverse(pyhost__hub_t *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->loop);
    Py_VISIT(self->main);
    Py_VISIT(self->parked);
    Py_VISIT(self->pending_throw);
    Py_VISIT(self->remote);
    Py_VISIT(self->run_key);
    Py_VISIT(self->loop_func);
    Py_VISIT(self->timed_out);
    for (size_t i = 0; i < self->rq_len; i++) {
        pyhost__rq_entry_t *e = &self->rq[(self->rq_head + i) % self->rq_cap];
        Py_VISIT(e->g);
        Py_VISIT(e->value);
        Py_VISIT(e->exc);
    }
    return 0;
}

static int
hub_clear(pyhost__hub_t *self)
{
    Py_CLEAR(self->parked);
    Py_CLEAR(self->pending_throw);
    Py_CLEAR(self->remote);
    Py_CLEAR(self->run_key);
    while (self->rq_len > 0) {
        pyhost__rq_entry_t e = pyhost__hub_rq_pop(self);
        Py_DECREF(e.g);
        Py_XDECREF(e.value);
        Py_XDECREF(e.exc);
    }
    Py_CLEAR(self->loop);
    Py_CLEAR(self->main);
    Py_CLEAR(self->loop_func);
    Py_CLEAR(self->timed_out);
    return 0;
}

/* End the hub greenlet if it is suspended in its loop: with pyhost__hub_tls no
 * longer pointing at this hub, it leaves the loop when resumed. */
PYHOST__NO_ASAN
static void
hub_stop_loop(pyhost__hub_t *self)
{
    if (self->loop == NULL || !pyhost__greenlet_started(self->loop) ||
        pyhost__greenlet_dead(self->loop) ||
        self->thread_id != PyThread_get_thread_ident() ||
        self->pid != getpid()) {
        return;
    }
    /* The loop returns to its parent, main: only main may resume it. */
    PyObject *cur = pyhost__greenlet_current();
    if (cur == NULL) {
        PyErr_Clear();
        return;
    }
    Py_DECREF(cur);
    if (cur != self->main) {
        return;
    }
    PyObject *exc = pyhost__err_take();
    PyObject *r = pyhost__greenlet_switch(self->loop, NULL);
    if (r == NULL) {
        PyErr_WriteUnraisable((PyObject *)self);
    }
    Py_XDECREF(r);
    pyhost__err_set_raised(exc);
}

/* Tear down: every op still pending is cancelled and its completion
 * awaited, so the kernel never writes into memory we no longer own. */
PYHOST__NO_ASAN
static void
hub_dealloc(pyhost__hub_t *self)
{
    PyObject_GC_UnTrack(self);
    if (pyhost__hub_tls == self) {
        pyhost__hub_tls = NULL;
    }
    hub_stop_loop(self);
    if (self->backend != NULL) {
        if (self->wake_io != NULL && self->wake_io->op.user_data != 0) {
            pyhost__hub_io_cancel(self, self->wake_io);
            pyhost__op_t *done[16];
            for (int tries = 0; tries < 1000 && self->wake_io->op.user_data;
                 tries++) {
                int n =
                    self->backend->ops->wait(self->backend, 1000000, done, 16);
                for (int i = 0; i < n; i++) {
                    pyhost__optab_remove(&self->tab, done[i]);
                }
            }
        }
        self->backend->ops->destroy(self->backend);
    }
    if (self->wake_fd >= 0) {
        close(self->wake_fd);
    }
    PyMem_Free(self->wake_io);
    hub_clear(self);
    PyMem_Free(self->rq);
    for (int fd = 0; fd < self->stash_cap; fd++) {
        PyMem_Free(self->stash[fd].data);
    }
    PyMem_Free(self->stash);
    pyhost__timerheap_fini(&self->timers);
    pyhost__optab_fini(&self->tab);
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* ---- Hub methods ------------------------------------------------------ */

/* Refuse TIMED_OUT as a value to wake with: only a park's deadline passes
 * it, so that a park can never mistake a waker's value for a timeout. */
static int
hub_check_wake_value(pyhost__hub_t *self, PyObject *value, const char *name)
{
    if (value == self->timed_out) {
        PyErr_Format(PyExc_ValueError,
                     "%s(): TIMED_OUT is not a value to wake with", name);
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(hub_park_doc,
             "park(key, timeout=None)\n--\n\n"
             "Park the current tasklet until wake(g, key, value) or\n"
             "throw(g, exc), or until timeout seconds have passed.  Return\n"
             "value, raise exc, or return TIMED_OUT (which no waker can\n"
             "pass) when the timeout came first.");

PYHOST__NO_ASAN
static PyObject *
hub_park_meth(pyhost__hub_t *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"key", "timeout", NULL};
    PyObject *key, *value;
    double timeout = -1.0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O&:park", kwlist, &key,
                                     pyhost__timeout_converter, &timeout)) {
        return NULL;
    }
    int64_t deadline = pyhost__timeout_deadline(timeout);
    if (timeout >= 0 && deadline == PYHOST__NO_DEADLINE) {
        /* An infinite timeout is still a timer, one that never fires: a
         * tasklet in sleep(inf) keeps run() waiting, as a finite sleep
         * does, instead of counting as blocked for good. */
        deadline = PYHOST__NO_DEADLINE - 1;
    }
    int r = pyhost__hub_park(self, key, deadline, &value);
    if (r < 0) {
        return NULL;
    }
    return r == PYHOST__PARK_TIMEOUT ? Py_NewRef(self->timed_out) : value;
}

PyDoc_STRVAR(hub_wake_doc,
             "wake(g, key, value=None)\n--\n\n"
             "Make g runnable with value if it is parked on key;\n"
             "return whether it was.");

static PyObject *
hub_wake_meth(pyhost__hub_t *self, PyObject *args)
{
    PyObject *g, *key, *value = Py_None;
    if (!PyArg_ParseTuple(args, "OO|O:wake", &g, &key, &value) ||
        hub_check_wake_value(self, value, "wake") < 0) {
        return NULL;
    }
    int r = pyhost__hub_wake(self, g, key, value);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

PyDoc_STRVAR(hub_throw_doc,
             "throw(g, exc)\n--\n\nRaise exc in tasklet g when it next runs.");

static PyObject *
hub_throw_meth(pyhost__hub_t *self, PyObject *args)
{
    PyObject *g, *exc;
    if (!PyArg_ParseTuple(args, "OO!:throw", &g, PyExc_BaseException, &exc)) {
        return NULL;
    }
    if (pyhost__hub_throw(self, g, exc) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(
    hub_schedule_doc,
    "schedule(g)\n--\n\nAppend g to the run queue (start it, or resume it\n"
    "from a yield).");

static PyObject *
hub_schedule_meth(pyhost__hub_t *self, PyObject *g)
{
    if (!pyhost__greenlet_check(g)) {
        /* PyArg's own wording; greenlet's type is private to tasklet.c. */
        PyErr_Format(PyExc_TypeError,
                     "schedule() argument must be greenlet, not %.50s",
                     Py_TYPE(g)->tp_name);
        return NULL;
    }
    if (pyhost__hub_rq_push(self, g, NULL, NULL) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(
    hub_yield_doc,
    "yield_()\n--\n\nLet the other runnable tasklets run, then come back.");

PYHOST__NO_ASAN
static PyObject *
hub_yield_meth(pyhost__hub_t *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *g = pyhost__greenlet_current();
    if (g == NULL) {
        return NULL;
    }
    PyObject *res = NULL;
    if (g == self->loop) {
        Py_DECREF(g);
        Py_RETURN_NONE;
    }
    if (pyhost__hub_ensure_loop(self) < 0 ||
        pyhost__hub_rq_push(self, g, NULL, NULL) < 0) {
        goto done;
    }
    res = pyhost__greenlet_switch(self->loop, NULL);
    if (res != NULL) {
        Py_SETREF(res, Py_NewRef(Py_None));
    }
done:
    Py_DECREF(g);
    return res;
}

PyDoc_STRVAR(
    hub_run_doc,
    "run_until_idle(key, timeout)\n--\n\nPark main on key; return True when"
    " nothing is left to run\nor wait for, False when timeout seconds "
    "passed.");

PYHOST__NO_ASAN
static PyObject *
hub_run_meth(pyhost__hub_t *self, PyObject *args)
{
    PyObject *key, *value;
    double timeout;
    if (!PyArg_ParseTuple(args, "OO&:run_until_idle", &key,
                          pyhost__timeout_converter, &timeout)) {
        return NULL;
    }
    /* The loop knows main's park on run_key: its deadline alone does not
     * keep the hub busy, and with nothing else left main is woken with
     * True. */
    Py_XSETREF(self->run_key, Py_NewRef(key));
    int r =
        pyhost__hub_park(self, key, pyhost__timeout_deadline(timeout), &value);
    Py_CLEAR(self->run_key);
    if (r < 0) {
        return NULL;
    }
    return r == PYHOST__PARK_TIMEOUT ? Py_NewRef(Py_False) : value;
}

PyDoc_STRVAR(
    hub_call_later_doc,
    "call_later(seconds, callback, *args)\n--\n\nCall callback(*args) in the"
    " hub after seconds; return a Timer\n(cancel() it). The callback must not"
    " block.");

PYHOST__NO_ASAN
static PyObject *
hub_call_later_meth(pyhost__hub_t *self, PyObject *args)
{
    double seconds = -1.0;
    PyObject *callback, *head = NULL, *rest = NULL;
    pyhost__timer_object_t *t = NULL;
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    if (nargs < 2) {
        /* PyArg_UnpackTuple fails before it stores anything, with
         * CPython's "expected at least 2 arguments, got 1". */
        (void)PyArg_UnpackTuple(args, "call_later", 2, PY_SSIZE_T_MAX,
                                &callback, &callback);
        return NULL;
    }
    head = PyTuple_GetSlice(args, 0, 2);
    rest = PyTuple_GetSlice(args, 2, nargs);
    if (head == NULL || rest == NULL ||
        !PyArg_ParseTuple(head, "O&O:call_later", pyhost__timeout_converter,
                          &seconds, &callback)) {
        goto error;
    }
    if (seconds < 0) {
        PyErr_SetString(PyExc_TypeError,
                        "call_later() argument 1 must be a number, not None");
        goto error;
    }
    pyhost__hub_state_t *st = PyType_GetModuleState(Py_TYPE(self));
    t = PyObject_GC_New(pyhost__timer_object_t, st->timer_type);
    if (t == NULL) {
        goto error;
    }
    t->t.kind = PYHOST__TIMER_CALL;
    t->t.node.index = PYHOST__TIMER_IDLE;
    t->hub = (pyhost__hub_t *)Py_NewRef(self);
    t->callback = Py_NewRef(callback);
    t->args = Py_NewRef(rest);
    PyObject_GC_Track(t);
    if (pyhost__timerheap_push(&self->timers, &t->t.node,
                               pyhost__deadline_ns(seconds)) < 0) {
        PyErr_NoMemory();
        Py_CLEAR(t);
        goto error;
    }
    Py_INCREF(t); /* owned by the heap while armed */
error:
    Py_XDECREF(head);
    Py_XDECREF(rest);
    return (PyObject *)t;
}

PyDoc_STRVAR(
    hub_job_done_doc,
    "job_done(g, key, value=None)\n--\n\nFrom any thread: end a job begun with"
    " job_begin() and wake g\n(parked on key) in the hub's thread.");

static PyObject *
hub_job_done_meth(pyhost__hub_t *self, PyObject *args)
{
    PyObject *g, *key, *value = Py_None;
    if (!PyArg_ParseTuple(args, "OO|O:job_done", &g, &key, &value) ||
        hub_check_wake_value(self, value, "job_done") < 0) {
        return NULL;
    }
    PyObject *t = PyTuple_Pack(3, g, key, value);
    if (t == NULL || PyList_Append(self->remote, t) < 0) {
        Py_XDECREF(t);
        return NULL;
    }
    Py_DECREF(t);
    uint64_t one = 1;
    if (write(self->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN) {
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(hub_job_begin_doc,
             "job_begin()\n--\n\nCount a thread job that job_done() will "
             "end: the hub stays busy until then.");

static PyObject *
hub_job_begin_meth(pyhost__hub_t *self, PyObject *Py_UNUSED(ignored))
{
    self->jobs++;
    Py_RETURN_NONE;
}

static PyObject *
hub_get_backend(pyhost__hub_t *self, void *Py_UNUSED(closure))
{
    return PyUnicode_FromString(self->backend->ops->name);
}

static PyObject *
hub_get_pending(pyhost__hub_t *self, void *Py_UNUSED(closure))
{
    uint32_t own = self->wake_io != NULL && self->wake_io->op.user_data;
    return PyLong_FromLong((long)(self->tab.live - own) + self->jobs);
}

static PyObject *
hub_get_runnable(pyhost__hub_t *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(self->rq_len);
}

static PyObject *
hub_get_main(pyhost__hub_t *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->main);
}

static PyObject *
hub_get_loop(pyhost__hub_t *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->loop);
}

PyDoc_STRVAR(hub_recv_doc,
             "recv(fd, nbytes, flags, timeout)\n--\n\n"
             "Receive up to nbytes (stashed bytes first); bytes.");
PyDoc_STRVAR(hub_recv_into_doc,
             "recv_into(fd, buffer, nbytes, flags, timeout)\n--\n\n"
             "Receive into buffer (stashed bytes first); the count.");
PyDoc_STRVAR(hub_send_doc, "send(fd, data, flags, timeout)\n--\n\n"
                           "Send some of data; the count.");
PyDoc_STRVAR(hub_sendall_doc,
             "sendall(fd, data, flags, timeout)\n--\n\n"
             "Send all of data; the timeout bounds the whole call.");
PyDoc_STRVAR(hub_wait_fd_doc, "wait_fd(fd, events, timeout)\n--\n\n"
                              "Park until fd is ready; the poll revents.");
PyDoc_STRVAR(hub_wait_fds_doc,
             "wait_fds(pairs, timeout)\n--\n\n"
             "Park until one of [(fd, events)] is ready; [(fd, revents)].");
PyDoc_STRVAR(hub_stashed_doc,
             "stashed(fd)\n--\n\n"
             "How many received bytes the hub keeps for fd's next receive.");
PyDoc_STRVAR(hub_close_fd_doc,
             "close_fd(fd)\n--\n\n"
             "End fd's operations and drop its stash before a close.");

static PyMethodDef hub_methods[] = {
    {"park", (PyCFunction)(void (*)(void))hub_park_meth,
     METH_VARARGS | METH_KEYWORDS, hub_park_doc},
    {"wake", (PyCFunction)hub_wake_meth, METH_VARARGS, hub_wake_doc},
    {"throw", (PyCFunction)hub_throw_meth, METH_VARARGS, hub_throw_doc},
    {"schedule", (PyCFunction)hub_schedule_meth, METH_O, hub_schedule_doc},
    {"yield_", (PyCFunction)hub_yield_meth, METH_NOARGS, hub_yield_doc},
    {"run_until_idle", (PyCFunction)hub_run_meth, METH_VARARGS, hub_run_doc},
    {"call_later", (PyCFunction)hub_call_later_meth, METH_VARARGS,
     hub_call_later_doc},
    {"job_begin", (PyCFunction)hub_job_begin_meth, METH_NOARGS,
     hub_job_begin_doc},
    {"job_done", (PyCFunction)hub_job_done_meth, METH_VARARGS,
     hub_job_done_doc},
    {"recv", (PyCFunction)pyhost__hub_recv_meth, METH_VARARGS, hub_recv_doc},
    {"recv_into", (PyCFunction)pyhost__hub_recv_into_meth, METH_VARARGS,
     hub_recv_into_doc},
    {"send", (PyCFunction)pyhost__hub_send_meth, METH_VARARGS, hub_send_doc},
    {"sendall", (PyCFunction)pyhost__hub_sendall_meth, METH_VARARGS,
     hub_sendall_doc},
    {"wait_fd", (PyCFunction)pyhost__hub_wait_fd_meth, METH_VARARGS,
     hub_wait_fd_doc},
    {"wait_fds", (PyCFunction)pyhost__hub_wait_fds_meth, METH_VARARGS,
     hub_wait_fds_doc},
    {"stashed", (PyCFunction)pyhost__hub_stashed_meth, METH_O,
     hub_stashed_doc},
    {"close_fd", (PyCFunction)pyhost__hub_close_fd_meth, METH_O,
     hub_close_fd_doc},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef hub_getset[] = {
    {"backend", (getter)hub_get_backend, NULL, "'uring' or 'epoll'", NULL},
    {"pending", (getter)hub_get_pending, NULL,
     "operations and thread jobs not yet finished", NULL},
    {"runnable", (getter)hub_get_runnable, NULL, "run queue length", NULL},
    {"main", (getter)hub_get_main, NULL, "this thread's main greenlet", NULL},
    {"loop", (getter)hub_get_loop, NULL, "the hub greenlet", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot hub_slots[] = {
    {Py_tp_doc, "The per-thread hub: run queue, timers, I/O backend."},
    {Py_tp_dealloc, hub_dealloc},
    {Py_tp_traverse, hub_traverse},
    {Py_tp_clear, hub_clear},
    {Py_tp_methods, hub_methods},
    {Py_tp_getset, hub_getset},
    {0, NULL},
};

static PyType_Spec hub_spec = {
    .name = "pyhost.tasklets._hub.Hub",
    .basicsize = sizeof(pyhost__hub_t),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = hub_slots,
};

/* ---- Timer type ------------------------------------------------------- */

/* Disarm t if it is armed (dropping the heap's reference).  Calls no
 * Python code, so it is safe with an exception set. */
static void
hub_timer_disarm(pyhost__timer_object_t *t)
{
    if (pyhost__timer_armed(&t->t.node)) {
        pyhost__timerheap_remove(&t->hub->timers, &t->t.node);
        Py_DECREF(t); /* the heap's reference */
    }
}

static PyObject *
hub_timer_cancel(pyhost__timer_object_t *self, PyObject *Py_UNUSED(ignored))
{
    hub_timer_disarm(self);
    Py_RETURN_NONE;
}

static PyObject *
hub_timer_get_pending(pyhost__timer_object_t *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(pyhost__timer_armed(&self->t.node));
}

static int
hub_timer_traverse(pyhost__timer_object_t *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->hub);
    Py_VISIT(self->callback);
    Py_VISIT(self->args);
    return 0;
}

static int
hub_timer_clear(pyhost__timer_object_t *self)
{
    Py_CLEAR(self->callback);
    Py_CLEAR(self->args);
    return 0;
}

static void
hub_timer_dealloc(pyhost__timer_object_t *self)
{
    PyObject_GC_UnTrack(self);
    hub_timer_clear(self);
    Py_CLEAR(self->hub);
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef hub_timer_methods[] = {
    {"cancel", (PyCFunction)hub_timer_cancel, METH_NOARGS,
     "Disarm the timer (no-op once fired)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef hub_timer_getset[] = {
    {"pending", (getter)hub_timer_get_pending, NULL, "armed and not fired",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot hub_timer_slots[] = {
    {Py_tp_doc, "A hub timer returned by Hub.call_later()."},
    {Py_tp_dealloc, hub_timer_dealloc},
    {Py_tp_traverse, hub_timer_traverse},
    {Py_tp_clear, hub_timer_clear},
    {Py_tp_methods, hub_timer_methods},
    {Py_tp_getset, hub_timer_getset},
    {0, NULL},
};

static PyType_Spec hub_timer_spec = {
    .name = "pyhost.tasklets._hub.Timer",
    .basicsize = sizeof(pyhost__timer_object_t),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = hub_timer_slots,
};

/* ---- TIMED_OUT -------------------------------------------------------- */

/* The type of the one TIMED_OUT object: what Hub.park(key, timeout)
 * returns when the timeout came first.  No waker can pass it (wake and
 * job_done refuse it), so it cannot be confused with a woken value. */
static PyObject *
hub_timed_out_repr(PyObject *Py_UNUSED(self))
{
    return PyUnicode_FromString("pyhost.tasklets._hub.TIMED_OUT");
}

static PyType_Slot hub_timed_out_slots[] = {
    {Py_tp_doc, "The type of TIMED_OUT, the result of a park that timed "
                "out."},
    {Py_tp_repr, hub_timed_out_repr},
    {0, NULL},
};

static PyType_Spec hub_timed_out_spec = {
    .name = "pyhost.tasklets._hub.TimedOutType",
    .basicsize = sizeof(PyObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = hub_timed_out_slots,
};

/* ---- module functions ------------------------------------------------- */

PyDoc_STRVAR(
    hub_get_hub_doc,
    "get_hub()\n--\n\nReturn this thread's hub, creating it on first use.");

static PyObject *
hub_get_hub(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    pyhost__hub_t *hub = hub_current(module);
    return hub ? Py_NewRef((PyObject *)hub) : NULL;
}

PyDoc_STRVAR(
    hub_new_hub_doc,
    "new_hub(backend)\n--\n\nReplace this thread's hub with a new one on\n"
    "backend ('uring', 'epoll', 'auto'); the old one must be idle.");

PYHOST__NO_ASAN
static PyObject *
hub_new_hub(PyObject *module, PyObject *args)
{
    pyhost__hub_state_t *st = pyhost__hub_get_state(module);
    const char *name;
    int abandon = 0;
    if (!PyArg_ParseTuple(args, "s|p:new_hub", &name, &abandon)) {
        return NULL;
    }
    pyhost__hub_t *old = pyhost__hub_tls;
    if (old != NULL && old->pid == getpid() && !abandon) {
        PyObject *g = pyhost__greenlet_current();
        if (g == NULL) {
            return NULL;
        }
        int in_tasklet = g != old->main;
        Py_DECREF(g);
        uint32_t own = old->wake_io != NULL && old->wake_io->op.user_data;
        if (in_tasklet || old->tab.live > own || old->jobs > 0 ||
            old->rq_len > 0 || PyDict_GET_SIZE(old->parked) > 0) {
            PyErr_SetString(PyExc_RuntimeError,
                            "the hub is busy: switch backends from the main "
                            "tasklet with no tasklet or operation pending");
            return NULL;
        }
    }
    PyObject *dict = PyThreadState_GetDict();
    if (dict == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no thread state dict");
        return NULL;
    }
    pyhost__hub_t *hub = hub_create(module, name);
    if (hub == NULL) {
        return NULL;
    }
    pyhost__hub_tls = hub;
    if (old != NULL) {
        hub_stop_loop(old);
    }
    if (PyDict_SetItem(dict, st->tls_key, (PyObject *)hub) < 0) {
        Py_DECREF(hub);
        return NULL;
    }
    return (PyObject *)hub;
}

static PyMethodDef hub_module_methods[] = {
    {"get_hub", hub_get_hub, METH_NOARGS, hub_get_hub_doc},
    {"new_hub", hub_new_hub, METH_VARARGS, hub_new_hub_doc},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef hub_loop_def = {
    "_loop",
    pyhost__hub_loop_run,
    METH_NOARGS,
    "The hub greenlet's body.",
};

/* ---- module ----------------------------------------------------------- */

static int
hub_exec(PyObject *module)
{
    pyhost__hub_state_t *st = pyhost__hub_get_state(module);
    if (pyhost__greenlet_import() < 0) {
        return -1;
    }
    st->hub_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &hub_spec, NULL);
    if (st->hub_type == NULL || PyModule_AddType(module, st->hub_type) < 0) {
        return -1;
    }
    st->timer_type = (PyTypeObject *)PyType_FromModuleAndSpec(
        module, &hub_timer_spec, NULL);
    if (st->timer_type == NULL ||
        PyModule_AddType(module, st->timer_type) < 0) {
        return -1;
    }
    st->timed_out_type = (PyTypeObject *)PyType_FromModuleAndSpec(
        module, &hub_timed_out_spec, NULL);
    if (st->timed_out_type == NULL) {
        return -1;
    }
    st->timed_out = PyType_GenericAlloc(st->timed_out_type, 0);
    if (st->timed_out == NULL ||
        PyModule_AddObjectRef(module, "TIMED_OUT", st->timed_out) < 0) {
        return -1;
    }
    st->tls_key = PyUnicode_InternFromString("pyhost.tasklets._hub.hub");
    if (st->tls_key == NULL) {
        return -1;
    }
    st->loop_func = PyCFunction_New(&hub_loop_def, module);
    if (st->loop_func == NULL) {
        return -1;
    }
    if (PyModule_AddIntConstant(module, "POLLIN", POLLIN) < 0 ||
        PyModule_AddIntConstant(module, "POLLOUT", POLLOUT) < 0 ||
        PyModule_AddIntConstant(module, "POLLPRI", POLLPRI) < 0 ||
        PyModule_AddIntConstant(module, "POLLERR", POLLERR) < 0 ||
        PyModule_AddIntConstant(module, "POLLHUP", POLLHUP) < 0 ||
        PyModule_AddIntConstant(module, "POLLNVAL", POLLNVAL) < 0) {
        return -1;
    }
    return 0;
}

static int
hub_module_traverse(PyObject *module, visitproc visit, void *arg)
{
    pyhost__hub_state_t *st = pyhost__hub_get_state(module);
    Py_VISIT(st->hub_type);
    Py_VISIT(st->timer_type);
    Py_VISIT(st->timed_out_type);
    Py_VISIT(st->timed_out);
    Py_VISIT(st->tls_key);
    Py_VISIT(st->loop_func);
    return 0;
}

static int
hub_module_clear(PyObject *module)
{
    pyhost__hub_state_t *st = pyhost__hub_get_state(module);
    Py_CLEAR(st->hub_type);
    Py_CLEAR(st->timer_type);
    Py_CLEAR(st->timed_out);
    Py_CLEAR(st->timed_out_type);
    Py_CLEAR(st->tls_key);
    Py_CLEAR(st->loop_func);
    return 0;
}

static void
hub_module_free(void *module)
{
    hub_module_clear((PyObject *)module);
}

static PyModuleDef_Slot hub_module_slots[] = {
    {Py_mod_exec, hub_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef hub_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pyhost.tasklets._hub",
    .m_doc = "The per-thread hub behind pyhost's tasklets and sockets.",
    .m_size = sizeof(pyhost__hub_state_t),
    .m_methods = hub_module_methods,
    .m_slots = hub_module_slots,
    .m_traverse = hub_module_traverse,
    .m_clear = hub_module_clear,
    .m_free = hub_module_free,
};

PyMODINIT_FUNC
PyInit__hub(void)
{
    return PyModuleDef_Init(&hub_module);
}
