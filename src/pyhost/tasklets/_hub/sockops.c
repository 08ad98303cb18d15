/* SPDX-License-Identifier: MIT
 *
 * sockops.c: socket calls for tasklets.  Each first tries the syscall
 * without blocking; only when it would block does it become an operation on
 * the backend, which holds strong references to its tasklet and buffer
 * until its own completion.  A deadline, close or exception only requests a
 * cancel, and the tasklet keeps waiting for the completion before it
 * raises; data that won the race is returned (deadline) or attached to the
 * exception (anything else), so no byte is lost.
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

/* ---- operations ------------------------------------------------------- */

/* Release what io holds and free it.  The op must be completed. */
void
pyhost__hub_io_free(hub_io *io)
{
    if (io->has_view) {
        PyBuffer_Release(&io->view);
    }
    Py_XDECREF(io->owner);
    Py_XDECREF(io->waiter);
    Py_XDECREF(io->key);
    Py_XDECREF(io->hub);
    PyMem_Free(io);
}

/* A new io for the current tasklet, in the op table and submitted, with
 * its deadline armed (timeout < 0: none).  Return NULL with an exception
 * set on failure. */
HUB_NO_ASAN
hub_io *
pyhost__hub_io_start(HubObject *self, int kind, int fd, void *buf, size_t len,
                     int flags, uint32_t events, double timeout)
{
    hub_io *io = PyMem_Calloc(1, sizeof(*io));
    if (io == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    io->deadline.kind = TIMER_IO;
    io->deadline.node.index = PYHOST_TIMER_IDLE;
    io->op.kind = kind;
    io->op.fd = fd;
    io->op.buf = buf;
    io->op.len = len;
    io->op.msg_flags = flags;
    io->op.events = events;
    io->waiter = pyhost__greenlet_current();
    if (io->waiter == NULL) {
        PyMem_Free(io);
        return NULL;
    }
    if (io->waiter == self->loop) {
        PyErr_SetString(PyExc_RuntimeError,
                        "cannot block inside the hub (a timer callback "
                        "must not wait)");
        pyhost__hub_io_free(io);
        return NULL;
    }
    io->hub = Py_NewRef((PyObject *)self);
    int err = pyhost__optab_add(&self->tab, &io->op);
    if (err == 0) {
        err = self->backend->ops->submit(self->backend, &io->op);
        if (err < 0) {
            pyhost__optab_remove(&self->tab, &io->op);
        }
    }
    if (err < 0) {
        errno = -err;
        PyErr_SetFromErrno(PyExc_OSError);
        pyhost__hub_io_free(io);
        return NULL;
    }
    io->key = PyLong_FromUnsignedLongLong(io->op.user_data);
    if (io->key == NULL) {
        goto cancel;
    }
    if (timeout >= 0) {
        int64_t when = pyhost__deadline_ns(timeout);
        if (pyhost__timerheap_push(&self->timers, &io->deadline.node, when) <
            0) {
            PyErr_NoMemory();
            goto cancel;
        }
    }
    return io;
cancel:
    /* Submitted but unusable: it must still end with its completion. */
    {
        PyObject *exc = pyhost__err_take();
        if (io->key == NULL) {
            io->key = Py_NewRef(Py_None);
        }
        PyObject *r = pyhost__hub_io_wait(self, io);
        Py_XDECREF(r);
        pyhost__hub_io_free(io);
        pyhost__err_set_raised(exc);
        return NULL;
    }
}

/* Hand each completed operation to its waiter, and re-arm the hub's own
 * wake-up operation if it was among them. */
void
pyhost__hub_dispatch(HubObject *self, pyhost__op **done, int n)
{
    int rearm = 0;
    for (int i = 0; i < n; i++) {
        hub_io *io = (hub_io *)((char *)done[i] - offsetof(hub_io, op));
        pyhost__hub_io_completed(self, io);
        rearm |= io == self->wake_io;
    }
    if (rearm) {
        pyhost__hub_arm_wake(self);
    }
}

/* The backend reported io's completion: detach it and wake its tasklet. */
void
pyhost__hub_io_completed(HubObject *self, hub_io *io)
{
    pyhost__timerheap_remove(&self->timers, &io->deadline.node);
    pyhost__optab_remove(&self->tab, &io->op);
    io->done = 1;
    if (io == self->wake_io) {
        return;
    }
    if (pyhost__hub_wake(self, io->waiter, io->key, Py_None) < 0) {
        PyErr_WriteUnraisable((PyObject *)self);
    }
}

void
pyhost__hub_io_cancel(HubObject *self, hub_io *io)
{
    if (io->done || io->op.completed || io->op.cancel_requested) {
        return;
    }
    io->op.cancel_requested = 1;
    (void)self->backend->ops->cancel(self->backend, &io->op);
}

/* Wait until io's own completion.  An exception thrown into the waiting
 * tasklet meanwhile (Timeout, kill, a signal handler's) cancels the op and
 * keeps waiting; it is re-raised once the op has ended.  On success return
 * None and leave the result in io->op.res; the io is not freed.  Return
 * NULL with the first exception otherwise (io->op.res still valid). */
HUB_NO_ASAN
PyObject *
pyhost__hub_io_wait(HubObject *self, hub_io *io)
{
    PyObject *first_exc = NULL;
    while (!io->done) {
        PyObject *r = pyhost__hub_park(self, io->key);
        if (r != NULL) {
            Py_DECREF(r);
            continue;
        }
        PyObject *exc = pyhost__err_take();
        if (first_exc == NULL) {
            first_exc = exc;
        }
        else {
            Py_DECREF(exc);
        }
        pyhost__hub_io_cancel(self, io);
    }
    if (first_exc != NULL) {
        pyhost__err_set_raised(first_exc);
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Turn a finished io's result into the Python outcome.  Return res >= 0,
 * or -1 with an exception set (errno mapped like the socket module). */
Py_ssize_t
pyhost__hub_io_result(hub_io *io)
{
    int32_t res = io->op.res;
    if (res >= 0) {
        return res;
    }
    if (res == -ECANCELED || res == -EINTR) {
        if (io->closed) {
            PyObject *args = Py_BuildValue("(is)", EBADF,
                                           "File descriptor was closed in "
                                           "another tasklet");
            if (args != NULL) {
                PyErr_SetObject(PyExc_OSError, args);
                Py_DECREF(args);
            }
            return -1;
        }
        if (io->timed_out) {
            PyErr_SetString(PyExc_TimeoutError, "timed out");
            return -1;
        }
    }
    errno = -res;
    PyErr_SetFromErrno(PyExc_OSError);
    return -1;
}

/* Run one operation to its end for the current tasklet.  Return the
 * result (bytes, revents) or -1 with an exception set.  If an exception
 * interrupted a RECV that still got data, the bytes are attached to it as
 * `pyhost_received` so the caller can keep them. */
HUB_NO_ASAN
Py_ssize_t
pyhost__hub_run_op(HubObject *self, int kind, int fd, void *buf, size_t len,
                   int flags, uint32_t events, double timeout, PyObject *owner,
                   Py_buffer *view)
{
    hub_io *io =
        pyhost__hub_io_start(self, kind, fd, buf, len, flags, events, timeout);
    if (io == NULL) {
        if (view != NULL) {
            PyBuffer_Release(view);
        }
        return -1;
    }
    io->owner = Py_XNewRef(owner);
    if (view != NULL) {
        io->view = *view;
        io->has_view = 1;
    }
    PyObject *r = pyhost__hub_io_wait(self, io);
    Py_ssize_t res;
    if (r == NULL) {
        if (kind == PYHOST_OP_RECV && io->op.res > 0) {
            PyObject *exc = pyhost__err_take();
            PyObject *data = PyBytes_FromStringAndSize(buf, io->op.res);
            if (data == NULL ||
                PyObject_SetAttrString(exc, "pyhost_received", data) < 0) {
                PyErr_WriteUnraisable(exc);
            }
            Py_XDECREF(data);
            pyhost__err_set_raised(exc);
        }
        res = -1;
    }
    else {
        Py_DECREF(r);
        res = pyhost__hub_io_result(io);
    }
    pyhost__hub_io_free(io);
    return res;
}

/* Parse a timeout argument: None -> -1 (no limit), else seconds >= 0.
 * Return 0 or -1 with ValueError/TypeError set. */
HUB_NO_ASAN
int
pyhost__hub_parse_timeout(PyObject *obj, double *out)
{
    if (obj == Py_None) {
        *out = -1.0;
        return 0;
    }
    double t = PyFloat_AsDouble(obj);
    if (t == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    if (isnan(t)) {
        PyErr_SetString(PyExc_ValueError, "Invalid value NaN (not a number)");
        return -1;
    }
    if (t < 0) {
        PyErr_SetString(PyExc_ValueError, "Timeout value out of range");
        return -1;
    }
    *out = t;
    return 0;
}

/* One non-blocking try of recv/send.  Return bytes >= 0, -2 when it would
 * block, or -1 with an exception set. */
static Py_ssize_t
hub_try_io(int kind, int fd, void *buf, size_t len, int flags)
{
    for (;;) {
        ssize_t n = kind == PYHOST_OP_RECV
                        ? recv(fd, buf, len, flags | MSG_DONTWAIT)
                        : send(fd, buf, len, flags | MSG_DONTWAIT);
        if (n >= 0) {
            return n;
        }
        if (errno == EINTR) {
            if (PyErr_CheckSignals() < 0) {
                return -1;
            }
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return -2;
        }
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
}

/* recv/send for the current tasklet: try, then wait for an operation.
 * timeout 0 or MSG_DONTWAIT in flags raises BlockingIOError instead of
 * waiting. */
HUB_NO_ASAN
static Py_ssize_t
hub_sock_io(HubObject *self, int kind, int fd, void *buf, size_t len,
            int flags, double timeout, PyObject *owner, Py_buffer *view)
{
    if (fd < 0) {
        errno = EBADF;
        PyErr_SetFromErrno(PyExc_OSError);
        goto fail_view;
    }
    if (len == 0 && kind == PYHOST_OP_RECV) {
        /* Like the socket module: a zero-length read returns at once. */
        if (view != NULL) {
            PyBuffer_Release(view);
        }
        return 0;
    }
    Py_ssize_t n = hub_try_io(kind, fd, buf, len, flags);
    if (n != -2) {
        if (view != NULL) {
            PyBuffer_Release(view);
        }
        return n;
    }
    if (timeout == 0 || (flags & MSG_DONTWAIT)) {
        /* Non-blocking socket, or the caller asked this call not to
         * wait: raise BlockingIOError like the socket module. */
        errno = EAGAIN;
        PyErr_SetFromErrno(PyExc_OSError);
        goto fail_view;
    }
    return pyhost__hub_run_op(self, kind, fd, buf, len, flags, 0, timeout,
                              owner, view);
fail_view:
    if (view != NULL) {
        PyBuffer_Release(view);
    }
    return -1;
}

/* ---- socket calls ---------------------------------------------------- */

/* The socket calls all take the fd first, then somewhere an int (flags or
 * poll events) followed by the timeout: parse those three.  Return 0, or
 * -1 with an exception set. */
static int
hub_parse_call(PyObject *const *args, Py_ssize_t at, int *fd, int *value,
               double *timeout)
{
    if ((*fd = pyhost__long_as_int(args[0])) == -1 && PyErr_Occurred()) {
        return -1;
    }
    if ((*value = pyhost__long_as_int(args[at])) == -1 && PyErr_Occurred()) {
        return -1;
    }
    return pyhost__hub_parse_timeout(args[at + 1], timeout);
}

/* recv(fd, nbytes, flags, timeout) -> bytes */
HUB_NO_ASAN
PyObject *
pyhost__hub_recv_meth(HubObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    int fd, flags;
    Py_ssize_t nbytes;
    double timeout;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "recv(fd, nbytes, flags, timeout)");
        return NULL;
    }
    if (hub_parse_call(args, 2, &fd, &flags, &timeout) < 0) {
        return NULL;
    }
    if ((nbytes = PyLong_AsSsize_t(args[1])) == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (nbytes < 0) {
        PyErr_SetString(PyExc_ValueError, "negative buffersize in recv");
        return NULL;
    }
    PyObject *buf = PyBytes_FromStringAndSize(NULL, nbytes);
    if (buf == NULL) {
        return NULL;
    }
    Py_ssize_t n =
        hub_sock_io(self, PYHOST_OP_RECV, fd, PyBytes_AS_STRING(buf), nbytes,
                    flags, timeout, buf, NULL);
    if (n < 0) {
        Py_DECREF(buf);
        return NULL;
    }
    if (n != nbytes) {
        _PyBytes_Resize(&buf, n);
    }
    return buf;
}

/* recv_into(fd, buffer, nbytes, flags, timeout) -> int */
HUB_NO_ASAN
PyObject *
pyhost__hub_recv_into_meth(HubObject *self, PyObject *const *args,
                           Py_ssize_t nargs)
{
    int fd, flags;
    Py_ssize_t nbytes;
    double timeout;
    Py_buffer view;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError,
                        "recv_into(fd, buffer, nbytes, flags, timeout)");
        return NULL;
    }
    if (hub_parse_call(args, 3, &fd, &flags, &timeout) < 0) {
        return NULL;
    }
    if ((nbytes = PyLong_AsSsize_t(args[2])) == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (nbytes < 0) {
        PyErr_SetString(PyExc_ValueError, "negative buffersize in recv_into");
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &view, PyBUF_WRITABLE) < 0) {
        return NULL;
    }
    if (nbytes == 0) {
        nbytes = view.len;
    }
    if (view.len < nbytes) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError,
                        "buffer too small for requested bytes");
        return NULL;
    }
    void *buf = view.buf;
    Py_ssize_t n = hub_sock_io(self, PYHOST_OP_RECV, fd, buf, nbytes, flags,
                               timeout, args[1], &view);
    return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

/* send(fd, data, flags, timeout) -> int */
HUB_NO_ASAN
PyObject *
pyhost__hub_send_meth(HubObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    int fd, flags;
    double timeout;
    Py_buffer view;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "send(fd, data, flags, timeout)");
        return NULL;
    }
    if (hub_parse_call(args, 2, &fd, &flags, &timeout) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    void *buf = view.buf;
    Py_ssize_t len = view.len;
    Py_ssize_t n = hub_sock_io(self, PYHOST_OP_SEND, fd, buf, len, flags,
                               timeout, args[1], &view);
    return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

/* sendall(fd, data, flags, timeout): the timeout bounds the whole call. */
HUB_NO_ASAN
PyObject *
pyhost__hub_sendall_meth(HubObject *self, PyObject *const *args,
                         Py_ssize_t nargs)
{
    int fd, flags;
    double timeout;
    Py_buffer view;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "sendall(fd, data, flags, timeout)");
        return NULL;
    }
    if (hub_parse_call(args, 2, &fd, &flags, &timeout) < 0) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    int64_t deadline =
        timeout > 0 ? pyhost__deadline_ns(timeout) : 0;
    char *p = view.buf;
    Py_ssize_t left = view.len;
    PyObject *res = NULL;
    do {
        double t = timeout;
        if (timeout > 0) {
            t = (double)(deadline - pyhost__now_ns()) / 1e9;
            if (t <= 0) {
                PyErr_SetString(PyExc_TimeoutError, "timed out");
                goto done;
            }
        }
        Py_buffer part;
        if (PyObject_GetBuffer(args[1], &part, PyBUF_SIMPLE) < 0) {
            goto done;
        }
        Py_ssize_t n = hub_sock_io(self, PYHOST_OP_SEND, fd, p, left, flags, t,
                                   args[1], &part);
        if (n < 0) {
            goto done;
        }
        p += n;
        left -= n;
    } while (left > 0);
    res = Py_NewRef(Py_None);
done:
    PyBuffer_Release(&view);
    return res;
}

/* wait_fd(fd, events, timeout) -> revents: park until fd is ready. */
HUB_NO_ASAN
PyObject *
pyhost__hub_wait_fd_meth(HubObject *self, PyObject *const *args,
                         Py_ssize_t nargs)
{
    int fd, events;
    double timeout;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "wait_fd(fd, events, timeout)");
        return NULL;
    }
    if (hub_parse_call(args, 1, &fd, &events, &timeout) < 0) {
        return NULL;
    }
    if (fd < 0) {
        errno = EBADF;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_ssize_t r = pyhost__hub_run_op(self, PYHOST_OP_POLL, fd, NULL, 0, 0,
                                      (uint32_t)events, timeout, NULL, NULL);
    return r < 0 ? NULL : PyLong_FromSsize_t(r);
}

/* wait_fds([(fd, events), ...], timeout) -> [(fd, revents), ...]: park
 * until at least one is ready (empty list on timeout).  The other ops are
 * then cancelled, and all of them end before this returns. */
HUB_NO_ASAN
PyObject *
pyhost__hub_wait_fds_meth(HubObject *self, PyObject *const *args,
                          Py_ssize_t nargs)
{
    double timeout;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "wait_fds(pairs, timeout)");
        return NULL;
    }
    if (pyhost__hub_parse_timeout(args[1], &timeout) < 0) {
        return NULL;
    }
    PyObject *seq = PySequence_Fast(args[0], "wait_fds needs a sequence");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    PyObject *result = NULL, *key = NULL, *first_exc = NULL;
    hub_io **ios = PyMem_Calloc(count ? count : 1, sizeof(*ios));
    if (ios == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    key = PyLong_FromVoidPtr(ios);
    if (key == NULL) {
        goto done;
    }
    PyObject *g = pyhost__greenlet_current();
    if (g == NULL) {
        goto done;
    }
    Py_DECREF(g); /* the ios below own it */
    Py_ssize_t started = 0;
    for (; started < count; started++) {
        int fd, events;
        PyObject *pair = PySequence_Fast_GET_ITEM(seq, started);
        if (!PyTuple_Check(pair)) {
            /* PyArg_ParseTuple would raise SystemError for it. */
            PyErr_SetString(PyExc_TypeError,
                            "wait_fds needs (fd, events) tuples");
            break;
        }
        if (!PyArg_ParseTuple(pair, "ii", &fd, &events)) {
            break;
        }
        hub_io *io = pyhost__hub_io_start(self, PYHOST_OP_POLL, fd, NULL, 0, 0,
                                          (uint32_t)events, -1.0);
        if (io == NULL) {
            break;
        }
        Py_SETREF(io->key, Py_NewRef(key));
        ios[started] = io;
    }
    if (started == count) {
        /* One park for all: any completion on key wakes us. */
        int any = 0;
        PyObject *timer = NULL;
        if (timeout >= 0 && count > 0) {
            PyObject *wake = PyObject_GetAttrString((PyObject *)self, "wake");
            PyObject *cur = pyhost__greenlet_current();
            if (wake != NULL && cur != NULL) {
                PyObject *cargs[4] = {PyFloat_FromDouble(timeout), wake, cur,
                                      key};
                if (cargs[0] != NULL) {
                    timer = pyhost__hub_call_later_meth(self, cargs, 4);
                }
                Py_XDECREF(cargs[0]);
            }
            Py_XDECREF(wake);
            Py_XDECREF(cur);
            if (timer == NULL) {
                first_exc = pyhost__err_take();
            }
        }
        while (first_exc == NULL && count > 0) {
            for (Py_ssize_t i = 0; i < count; i++) {
                any |= ios[i]->done;
            }
            if (any) {
                break;
            }
            PyObject *r = pyhost__hub_park(self, key);
            if (r == NULL) {
                first_exc = pyhost__err_take();
            }
            Py_XDECREF(r);
            break; /* a completion, or the timeout */
        }
        if (timer != NULL) {
            pyhost__hub_timer_disarm((TimerObject *)timer);
            Py_DECREF(timer);
        }
    }
    else {
        first_exc = pyhost__err_take();
    }
    /* End every op before reporting, whatever happened. */
    for (Py_ssize_t i = 0; i < count; i++) {
        if (ios[i] != NULL) {
            pyhost__hub_io_cancel(self, ios[i]);
        }
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (ios[i] == NULL) {
            continue;
        }
        PyObject *r = pyhost__hub_io_wait(self, ios[i]);
        if (r == NULL) {
            PyObject *exc = pyhost__err_take();
            if (first_exc == NULL) {
                first_exc = exc;
            }
            else {
                Py_DECREF(exc);
            }
        }
        Py_XDECREF(r);
    }
    if (first_exc == NULL) {
        result = PyList_New(0);
        for (Py_ssize_t i = 0; result != NULL && i < count; i++) {
            int32_t res = ios[i]->op.res;
            if (res == -ECANCELED) {
                continue;
            }
            if (res < 0) {
                res = res == -EBADF ? POLLNVAL : POLLERR;
            }
            PyObject *item = Py_BuildValue("(ii)", ios[i]->op.fd, (int)res);
            if (item == NULL || PyList_Append(result, item) < 0) {
                Py_XDECREF(item);
                Py_CLEAR(result);
                break;
            }
            Py_DECREF(item);
        }
    }
done:
    if (ios != NULL) {
        for (Py_ssize_t i = 0; i < count; i++) {
            if (ios[i] != NULL) {
                pyhost__hub_io_free(ios[i]);
            }
        }
        PyMem_Free(ios);
    }
    Py_XDECREF(key);
    Py_DECREF(seq);
    if (first_exc != NULL) {
        pyhost__err_set_raised(first_exc);
        Py_CLEAR(result);
    }
    return result;
}

/* close_fd(fd): cancel every op pending on fd and wait for their
 * completions (their tasklets get OSError(EBADF)), so that the caller's
 * close() then sends a FIN, not an RST, and no orphaned recv swallows the
 * peer's data. */
PyObject *
pyhost__hub_close_fd_meth(HubObject *self, PyObject *arg)
{
    int fd = pyhost__long_as_int(arg);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    int pending = 0;
    for (pyhost__op *op = pyhost__optab_fd_first(&self->tab, fd); op != NULL;
         op = op->fd_next) {
        hub_io *io = (hub_io *)((char *)op - offsetof(hub_io, op));
        if (io == self->wake_io) {
            continue;
        }
        io->closed = 1;
        pyhost__hub_io_cancel(self, io);
        pending = 1;
    }
    /* Cancels are synchronous in the kernel: the completions are ready
     * by the next wait.  Dispatch them here, without switching. */
    for (int spins = 0; pending && spins < 10000; spins++) {
        pending = 0;
        for (pyhost__op *op = pyhost__optab_fd_first(&self->tab, fd);
             op != NULL; op = op->fd_next) {
            pending |= op != &self->wake_io->op;
        }
        if (!pending) {
            break;
        }
        pyhost__op *done[HUB_BATCH];
        int n = self->backend->ops->wait(self->backend, spins ? 1000000 : 0,
                                         done, HUB_BATCH);
        pyhost__hub_dispatch(self, done, n);
    }
    self->backend->ops->forget_fd(self->backend, fd);
    Py_RETURN_NONE;
}
