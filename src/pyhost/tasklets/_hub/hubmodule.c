/* SPDX-License-Identifier: MIT
 *
 * hubmodule.c: the pyhost.tasklets._hub extension: the module, the Hub type and the
 * Timer type.  One Hub per OS thread (greenlets cannot switch threads),
 * created on first use and owned by the thread state dict; the scheduling
 * lives in scheduler.c and the socket operations in sockops.c.
 */
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "compat.h"
#include "hubobject.h"
#include "tasklet.h"

/* Borrowed pointer to this thread's hub; the thread state dict owns it. */
_Thread_local HubObject *pyhost__hub_tls;

/* ---- Hub type --------------------------------------------------------- */

static const char *
hub_env_backend(void)
{
    const char *env = getenv("PYHOST_HUB_BACKEND");
    return env != NULL && env[0] != '\0' ? env : "auto";
}

/* Create this thread's hub on the backend named (NULL: the environment's
 * choice).  Return a new reference, or NULL with an exception set. */
static HubObject *
hub_create(PyObject *module, const char *backend)
{
    hub_state *st = get_hub_state(module);
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
    HubObject *self = PyObject_GC_New(HubObject, st->hub_type);
    if (self == NULL) {
        return NULL;
    }
    pyhost__optab_init(&self->tab);
    pyhost__timerheap_init(&self->timers);
    self->backend = NULL;
    self->loop = self->main = self->run_key = NULL;
    self->run_timer = NULL;
    self->loop_func = Py_NewRef(st->loop_func);
    self->rq = NULL;
    self->rq_head = self->rq_len = self->rq_cap = 0;
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
    self->wake_io = PyMem_Calloc(1, sizeof(hub_io));
    if (self->wake_io == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    self->wake_io->deadline.node.index = PYHOST_TIMER_IDLE;
    self->wake_io->op.kind = PYHOST_OP_POLL;
    self->wake_io->op.fd = self->wake_fd;
    self->wake_io->op.events = POLLIN;
    pyhost__hub_arm_wake(self);
    return self;
error:
    Py_DECREF(self);
    return NULL;
}

/* Return a borrowed reference to this thread's hub, creating it. */
static HubObject *
hub_current(PyObject *module)
{
    HubObject *hub = pyhost__hub_tls;
    if (hub != NULL && hub->pid == getpid()) {
        return hub;
    }
    hub_state *st = get_hub_state(module);
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
hub_traverse(HubObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->loop);
    Py_VISIT(self->main);
    Py_VISIT(self->parked);
    Py_VISIT(self->pending_throw);
    Py_VISIT(self->remote);
    Py_VISIT(self->run_key);
    Py_VISIT(self->loop_func);
    for (size_t i = 0; i < self->rq_len; i++) {
        hub_entry *e = &self->rq[(self->rq_head + i) % self->rq_cap];
        Py_VISIT(e->g);
        Py_VISIT(e->value);
        Py_VISIT(e->exc);
    }
    return 0;
}

static int
hub_clear(HubObject *self)
{
    Py_CLEAR(self->parked);
    Py_CLEAR(self->pending_throw);
    Py_CLEAR(self->remote);
    Py_CLEAR(self->run_key);
    while (self->rq_len > 0) {
        hub_entry e = pyhost__hub_rq_pop(self);
        Py_DECREF(e.g);
        Py_XDECREF(e.value);
        Py_XDECREF(e.exc);
    }
    Py_CLEAR(self->loop);
    Py_CLEAR(self->main);
    Py_CLEAR(self->loop_func);
    return 0;
}

/* End the hub greenlet if it is suspended in its loop: with pyhost__hub_tls no
 * longer pointing at this hub, it leaves the loop when resumed. */
HUB_NO_ASAN
static void
hub_stop_loop(HubObject *self)
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
HUB_NO_ASAN
static void
hub_dealloc(HubObject *self)
{
    PyObject_GC_UnTrack(self);
    if (pyhost__hub_tls == self) {
        pyhost__hub_tls = NULL;
    }
    hub_stop_loop(self);
    if (self->backend != NULL) {
        if (self->wake_io != NULL && self->wake_io->op.user_data != 0) {
            pyhost__hub_io_cancel(self, self->wake_io);
            pyhost__op *done[16];
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
    pyhost__timerheap_fini(&self->timers);
    pyhost__optab_fini(&self->tab);
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* ---- Hub methods ------------------------------------------------------ */

PyDoc_STRVAR(
    hub_park_doc,
    "park(key)\n--\n\nPark the current tasklet until wake(g, key, value) or\n"
    "throw(g, exc); return value or raise exc.");

HUB_NO_ASAN
static PyObject *
hub_park_meth(HubObject *self, PyObject *key)
{
    return pyhost__hub_park(self, key);
}

PyDoc_STRVAR(hub_wake_doc, "wake(g, key, value=None)\n--\n\nMake g runnable "
                           "with value if it is parked"
                           " on key;\nreturn whether it was.");

static PyObject *
hub_wake_meth(HubObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 2 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "wake(g, key, value=None)");
        return NULL;
    }
    int r = pyhost__hub_wake(self, args[0], args[1],
                             nargs == 3 ? args[2] : Py_None);
    return r < 0 ? NULL : PyBool_FromLong(r);
}

PyDoc_STRVAR(hub_throw_doc,
             "throw(g, exc)\n--\n\nRaise exc in tasklet g when it next runs.");

static PyObject *
hub_throw_meth(HubObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyExceptionInstance_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError,
                        "throw(g, exc) takes a greenlet and an exception "
                        "instance");
        return NULL;
    }
    if (pyhost__hub_throw(self, args[0], args[1]) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(
    hub_schedule_doc,
    "schedule(g)\n--\n\nAppend g to the run queue (start it, or resume it\n"
    "from a yield).");

static PyObject *
hub_schedule_meth(HubObject *self, PyObject *g)
{
    if (!pyhost__greenlet_check(g)) {
        PyErr_SetString(PyExc_TypeError, "schedule() needs a greenlet");
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

HUB_NO_ASAN
static PyObject *
hub_yield_meth(HubObject *self, PyObject *Py_UNUSED(ignored))
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

HUB_NO_ASAN
static PyObject *
hub_run_meth(HubObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    double timeout;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "run_until_idle(key, timeout)");
        return NULL;
    }
    if (pyhost__hub_parse_timeout(args[1], &timeout) < 0) {
        return NULL;
    }
    PyObject *key = args[0];
    PyObject *timer = NULL;
    if (timeout >= 0) {
        PyObject *wake = PyObject_GetAttrString((PyObject *)self, "wake");
        if (wake == NULL) {
            return NULL;
        }
        PyObject *cargs[5] = {args[1], wake, self->main, key, Py_False};
        timer = pyhost__hub_call_later_meth(self, cargs, 5);
        Py_DECREF(wake);
        if (timer == NULL) {
            return NULL;
        }
    }
    Py_XSETREF(self->run_key, Py_NewRef(key));
    self->run_timer = (TimerObject *)timer;
    PyObject *r = pyhost__hub_park(self, key);
    Py_CLEAR(self->run_key);
    self->run_timer = NULL;
    if (timer != NULL) {
        /* Not timer.cancel(): r may be NULL with the exception that
         * interrupted the run set, and no Python call may run then. */
        pyhost__hub_timer_disarm((TimerObject *)timer);
        Py_DECREF(timer);
    }
    return r;
}

PyDoc_STRVAR(
    hub_call_later_doc,
    "call_later(seconds, callback, *args)\n--\n\nCall callback(*args) in the"
    " hub after seconds; return a Timer\n(cancel() it). The callback must not"
    " block.");

HUB_NO_ASAN
PyObject *
pyhost__hub_call_later_meth(HubObject *self, PyObject *const *args,
                            Py_ssize_t nargs)
{
    double seconds;
    if (nargs < 2) {
        PyErr_SetString(PyExc_TypeError,
                        "call_later(seconds, callback, *args)");
        return NULL;
    }
    if (pyhost__hub_parse_timeout(args[0], &seconds) < 0) {
        return NULL;
    }
    if (seconds < 0) {
        PyErr_SetString(PyExc_ValueError, "call_later needs a number");
        return NULL;
    }
    hub_state *st = PyType_GetModuleState(Py_TYPE(self));
    TimerObject *t = PyObject_GC_New(TimerObject, st->timer_type);
    if (t == NULL) {
        return NULL;
    }
    t->t.kind = TIMER_PY;
    t->t.node.index = PYHOST_TIMER_IDLE;
    t->hub = (HubObject *)Py_NewRef(self);
    t->callback = Py_NewRef(args[1]);
    t->args = PyTuple_New(nargs - 2);
    PyObject_GC_Track(t);
    if (t->args == NULL) {
        Py_DECREF(t);
        return NULL;
    }
    for (Py_ssize_t i = 2; i < nargs; i++) {
        PyTuple_SET_ITEM(t->args, i - 2, Py_NewRef(args[i]));
    }
    int64_t when = pyhost__deadline_ns(seconds);
    if (pyhost__timerheap_push(&self->timers, &t->t.node, when) < 0) {
        Py_DECREF(t);
        return PyErr_NoMemory();
    }
    Py_INCREF(t); /* owned by the heap while armed */
    return (PyObject *)t;
}

PyDoc_STRVAR(
    hub_wake_threadsafe_doc,
    "job_done(g, key, value=None)\n--\n\nFrom any thread: end a job begun with"
    " job_begin() and wake g\n(parked on key) in the hub's thread.");

static PyObject *
hub_job_done_meth(HubObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 2 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "job_done(g, key, value=None)");
        return NULL;
    }
    PyObject *t =
        PyTuple_Pack(3, args[0], args[1], nargs == 3 ? args[2] : Py_None);
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

static PyObject *
hub_job_begin_meth(HubObject *self, PyObject *Py_UNUSED(ignored))
{
    self->jobs++;
    Py_RETURN_NONE;
}

static PyObject *
hub_get_backend(HubObject *self, void *Py_UNUSED(closure))
{
    return PyUnicode_FromString(self->backend->ops->name);
}

static PyObject *
hub_get_pending(HubObject *self, void *Py_UNUSED(closure))
{
    uint32_t own = self->wake_io != NULL && self->wake_io->op.user_data;
    return PyLong_FromLong((long)(self->tab.live - own) + self->jobs);
}

static PyObject *
hub_get_runnable(HubObject *self, void *Py_UNUSED(closure))
{
    return PyLong_FromSize_t(self->rq_len);
}

static PyObject *
hub_get_main(HubObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->main);
}

static PyObject *
hub_get_loop(HubObject *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->loop);
}

static PyMethodDef hub_methods[] = {
    {"park", (PyCFunction)hub_park_meth, METH_O, hub_park_doc},
    {"wake", (PyCFunction)(void (*)(void))hub_wake_meth, METH_FASTCALL,
     hub_wake_doc},
    {"throw", (PyCFunction)(void (*)(void))hub_throw_meth, METH_FASTCALL,
     hub_throw_doc},
    {"schedule", (PyCFunction)hub_schedule_meth, METH_O, hub_schedule_doc},
    {"yield_", (PyCFunction)hub_yield_meth, METH_NOARGS, hub_yield_doc},
    {"run_until_idle", (PyCFunction)(void (*)(void))hub_run_meth,
     METH_FASTCALL, hub_run_doc},
    {"call_later", (PyCFunction)(void (*)(void))pyhost__hub_call_later_meth,
     METH_FASTCALL, hub_call_later_doc},
    {"job_begin", (PyCFunction)hub_job_begin_meth, METH_NOARGS, NULL},
    {"job_done", (PyCFunction)(void (*)(void))hub_job_done_meth, METH_FASTCALL,
     hub_wake_threadsafe_doc},
    {"recv", (PyCFunction)(void (*)(void))pyhost__hub_recv_meth, METH_FASTCALL,
     NULL},
    {"recv_into", (PyCFunction)(void (*)(void))pyhost__hub_recv_into_meth,
     METH_FASTCALL, NULL},
    {"send", (PyCFunction)(void (*)(void))pyhost__hub_send_meth, METH_FASTCALL,
     NULL},
    {"sendall", (PyCFunction)(void (*)(void))pyhost__hub_sendall_meth,
     METH_FASTCALL, NULL},
    {"wait_fd", (PyCFunction)(void (*)(void))pyhost__hub_wait_fd_meth,
     METH_FASTCALL, NULL},
    {"wait_fds", (PyCFunction)(void (*)(void))pyhost__hub_wait_fds_meth,
     METH_FASTCALL, NULL},
    {"close_fd", (PyCFunction)pyhost__hub_close_fd_meth, METH_O, NULL},
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
    .basicsize = sizeof(HubObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = hub_slots,
};

/* ---- Timer type ------------------------------------------------------- */

/* Disarm t if it is armed (dropping the heap's reference).  Calls no
 * Python code, so it is safe with an exception set. */
void
pyhost__hub_timer_disarm(TimerObject *t)
{
    if (pyhost__timer_armed(&t->t.node)) {
        pyhost__timerheap_remove(&t->hub->timers, &t->t.node);
        Py_DECREF(t); /* the heap's reference */
    }
}

static PyObject *
timer_cancel(TimerObject *self, PyObject *Py_UNUSED(ignored))
{
    pyhost__hub_timer_disarm(self);
    Py_RETURN_NONE;
}

static PyObject *
timer_get_pending(TimerObject *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(pyhost__timer_armed(&self->t.node));
}

static int
timer_traverse(TimerObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->hub);
    Py_VISIT(self->callback);
    Py_VISIT(self->args);
    return 0;
}

static int
timer_clear(TimerObject *self)
{
    Py_CLEAR(self->callback);
    Py_CLEAR(self->args);
    return 0;
}

static void
timer_dealloc(TimerObject *self)
{
    PyObject_GC_UnTrack(self);
    timer_clear(self);
    Py_CLEAR(self->hub);
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef timer_methods[] = {
    {"cancel", (PyCFunction)timer_cancel, METH_NOARGS,
     "Disarm the timer (no-op once fired)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef timer_getset[] = {
    {"pending", (getter)timer_get_pending, NULL, "armed and not fired", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot timer_slots[] = {
    {Py_tp_doc, "A hub timer returned by Hub.call_later()."},
    {Py_tp_dealloc, timer_dealloc},
    {Py_tp_traverse, timer_traverse},
    {Py_tp_clear, timer_clear},
    {Py_tp_methods, timer_methods},
    {Py_tp_getset, timer_getset},
    {0, NULL},
};

static PyType_Spec timer_spec = {
    .name = "pyhost.tasklets._hub.Timer",
    .basicsize = sizeof(TimerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = timer_slots,
};

/* ---- module functions ------------------------------------------------- */

PyDoc_STRVAR(
    get_hub_doc,
    "get_hub()\n--\n\nReturn this thread's hub, creating it on first use.");

static PyObject *
get_hub(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    HubObject *hub = hub_current(module);
    return hub ? Py_NewRef((PyObject *)hub) : NULL;
}

PyDoc_STRVAR(
    new_hub_doc,
    "new_hub(backend)\n--\n\nReplace this thread's hub with a new one on\n"
    "backend ('uring', 'epoll', 'auto'); the old one must be idle.");

HUB_NO_ASAN
static PyObject *
new_hub(PyObject *module, PyObject *args)
{
    hub_state *st = get_hub_state(module);
    const char *name;
    int abandon = 0;
    if (!PyArg_ParseTuple(args, "s|p:new_hub", &name, &abandon)) {
        return NULL;
    }
    HubObject *old = pyhost__hub_tls;
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
    HubObject *hub = hub_create(module, name);
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

static PyMethodDef module_methods[] = {
    {"get_hub", get_hub, METH_NOARGS, get_hub_doc},
    {"new_hub", new_hub, METH_VARARGS, new_hub_doc},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef loop_def = {
    "_loop",
    pyhost__hub_loop_run,
    METH_NOARGS,
    "The hub greenlet's body.",
};

/* ---- module ----------------------------------------------------------- */

static int
hub_exec(PyObject *module)
{
    hub_state *st = get_hub_state(module);
    if (pyhost__greenlet_import() < 0) {
        return -1;
    }
    st->hub_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &hub_spec, NULL);
    if (st->hub_type == NULL || PyModule_AddType(module, st->hub_type) < 0) {
        return -1;
    }
    st->timer_type =
        (PyTypeObject *)PyType_FromModuleAndSpec(module, &timer_spec, NULL);
    if (st->timer_type == NULL ||
        PyModule_AddType(module, st->timer_type) < 0) {
        return -1;
    }
    st->tls_key = PyUnicode_InternFromString("pyhost.tasklets._hub.hub");
    if (st->tls_key == NULL) {
        return -1;
    }
    st->loop_func = PyCFunction_New(&loop_def, module);
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
    hub_state *st = get_hub_state(module);
    Py_VISIT(st->hub_type);
    Py_VISIT(st->timer_type);
    Py_VISIT(st->tls_key);
    Py_VISIT(st->loop_func);
    return 0;
}

static int
hub_module_clear(PyObject *module)
{
    hub_state *st = get_hub_state(module);
    Py_CLEAR(st->hub_type);
    Py_CLEAR(st->timer_type);
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
    .m_size = sizeof(hub_state),
    .m_methods = module_methods,
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
