/* SPDX-License-Identifier: MIT
 *
 * sockops.c: socket calls for tasklets.  Each first tries the syscall
 * without blocking; only when it would block does it become an operation on
 * the backend, which holds strong references to its tasklet and buffer
 * until its own completion.  The tasklet waits with one timed park
 * (pyhost__hub_park with the call's deadline); a timed-out park, a close or
 * an exception thrown into the tasklet only requests a cancel, and the
 * tasklet keeps waiting for the completion before it returns or raises.
 * Data that won the race is returned (deadline, close) or, when an
 * exception ends the call, kept in the hub's per-fd stash, which the next
 * receive on that fd returns first: no byte is lost, and no exception
 * carries data.  close_fd drops the fd's stash.
 */
#include <Python.h>

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "compat.h"
#include "hubobject.h"
#include "tasklet.h"

/* ---- operations ------------------------------------------------------- */

/* Release what io holds and free it.  The op must be completed. */
static void
sockops_io_free(pyhost__io_t *io)
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

/* A new io for the current tasklet, in the op table and submitted.
 * Return NULL with an exception set on failure. */
PYHOST__NO_ASAN
static pyhost__io_t *
sockops_io_start(pyhost__hub_t *self, int kind, int fd, void *buf, size_t len,
                 int flags, uint32_t events)
{
    pyhost__io_t *io = PyMem_Calloc(1, sizeof(*io));
    if (io == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
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
        sockops_io_free(io);
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
        sockops_io_free(io);
        return NULL;
    }
    io->key = PyLong_FromUnsignedLongLong(io->op.user_data);
    if (io->key == NULL) {
        /* Submitted but unusable: it must still end with its completion,
         * cancelled at once. */
        PyObject *exc = pyhost__err_take();
        io->key = Py_NewRef(Py_None);
        pyhost__hub_io_cancel(self, io);
        PyObject *r = pyhost__hub_io_wait(self, io, PYHOST__NO_DEADLINE);
        Py_XDECREF(r);
        sockops_io_free(io);
        pyhost__err_set_raised(exc);
        return NULL;
    }
    return io;
}

/* The backend reported io's completion: detach it and wake its tasklet. */
static void
sockops_io_completed(pyhost__hub_t *self, pyhost__io_t *io)
{
    pyhost__optab_remove(&self->tab, &io->op);
    io->done = 1;
    if (io == self->wake_io) {
        return;
    }
    if (pyhost__hub_wake(self, io->waiter, io->key, Py_None) < 0) {
        PyErr_WriteUnraisable((PyObject *)self);
    }
}

/* Hand each completed operation to its waiter, and re-arm the hub's own
 * wake-up operation if it was among them. */
void
pyhost__hub_dispatch(pyhost__hub_t *self, pyhost__op_t **done, int n)
{
    int rearm = 0;
    for (int i = 0; i < n; i++) {
        pyhost__io_t *io = pyhost__io_of(done[i]);
        sockops_io_completed(self, io);
        rearm |= io == self->wake_io;
    }
    if (rearm) {
        pyhost__hub_arm_wake(self);
    }
}

/* Ask the backend to end io early (once; a no-op once it has ended).  Its
 * completion still follows, and may still carry data. */
void
pyhost__hub_io_cancel(pyhost__hub_t *self, pyhost__io_t *io)
{
    if (io->done || io->op.completed || io->op.cancel_requested) {
        return;
    }
    io->op.cancel_requested = 1;
    (void)self->backend->ops->cancel(self->backend, &io->op);
}

/* Wait until io's own completion, with one timed park: until deadline
 * (PYHOST__NO_DEADLINE: none) has passed, then, once a cancel has been
 * requested, without one.  A timed-out park cancels the op (io->timed_out);
 * an exception thrown into the waiting tasklet meanwhile (Timeout, kill, a
 * signal handler's) cancels it too and is re-raised once the op has ended.
 * On success return None and leave the result in io->op.res; the io is not
 * freed.  Return NULL with the first exception otherwise (io->op.res still
 * valid). */
PYHOST__NO_ASAN
PyObject *
pyhost__hub_io_wait(pyhost__hub_t *self, pyhost__io_t *io, int64_t deadline)
{
    PyObject *first_exc = NULL;
    while (!io->done) {
        PyObject *value;
        int64_t until =
            io->op.cancel_requested ? PYHOST__NO_DEADLINE : deadline;
        int r = pyhost__hub_park(self, io->key, until, &value);
        if (r == PYHOST__PARK_WOKEN) {
            Py_DECREF(value);
            continue;
        }
        if (r == PYHOST__PARK_TIMEOUT) {
            io->timed_out = 1;
            pyhost__hub_io_cancel(self, io);
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
static Py_ssize_t
sockops_io_result(pyhost__io_t *io)
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

/* ---- the stash -------------------------------------------------------- */

/* Make fd's stash slot exist.  Return it, or NULL with MemoryError set. */
static pyhost__stash_t *
sockops_stash_slot(pyhost__hub_t *self, int fd)
{
    if (fd >= self->stash_cap) {
        int ncap = self->stash_cap ? self->stash_cap : 64;
        while (ncap <= fd) {
            ncap *= 2;
        }
        pyhost__stash_t *stash =
            PyMem_Realloc(self->stash, (size_t)ncap * sizeof(*stash));
        if (stash == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        memset(stash + self->stash_cap, 0,
               (size_t)(ncap - self->stash_cap) * sizeof(*stash));
        self->stash = stash;
        self->stash_cap = ncap;
    }
    return &self->stash[fd];
}

/* Append n received bytes to fd's stash (its slot exists: the receive
 * made it).  Return 0, or -1 with MemoryError set. */
static int
sockops_stash_add(pyhost__hub_t *self, int fd, const char *buf, size_t n)
{
    pyhost__stash_t *st = &self->stash[fd];
    if (st->len + n > st->cap) {
        size_t ncap = st->len + n;
        char *data = PyMem_Realloc(st->data, ncap);
        if (data == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        st->data = data;
        st->cap = ncap;
    }
    memcpy(st->data + st->len, buf, n);
    st->len += n;
    return 0;
}

/* Copy up to len stashed bytes of fd into buf, consuming them unless
 * flags has MSG_PEEK.  Return the count (0: nothing stashed). */
static size_t
sockops_stash_take(pyhost__hub_t *self, int fd, void *buf, size_t len,
                   int flags)
{
    if (fd < 0 || fd >= self->stash_cap) {
        return 0;
    }
    pyhost__stash_t *st = &self->stash[fd];
    size_t n = st->len - st->off;
    if (n > len) {
        n = len;
    }
    memcpy(buf, st->data + st->off, n);
    if (!(flags & MSG_PEEK)) {
        st->off += n;
        if (st->off == st->len) {
            pyhost__hub_stash_drop(self, fd);
        }
    }
    return n;
}

/* Forget fd's stashed bytes (read, or the fd is being closed); its
 * generation stays. */
void
pyhost__hub_stash_drop(pyhost__hub_t *self, int fd)
{
    if (fd >= 0 && fd < self->stash_cap) {
        pyhost__stash_t *st = &self->stash[fd];
        uint32_t gen = st->gen;
        PyMem_Free(st->data);
        memset(st, 0, sizeof(*st));
        st->gen = gen;
    }
}

/* Bytes stashed for fd. */
static inline size_t
sockops_stashed(pyhost__hub_t *self, int fd)
{
    if (fd < 0 || fd >= self->stash_cap) {
        return 0;
    }
    return self->stash[fd].len - self->stash[fd].off;
}

/* ---- running an operation ---------------------------------------------- */

/* Run one operation to its end for the current tasklet, waiting until
 * deadline at most.  Return the result (bytes, revents) or -1 with an
 * exception set.  If an exception ended a RECV that still got data, the
 * bytes go to fd's stash: the next receive returns them. */
PYHOST__NO_ASAN
static Py_ssize_t
sockops_run_op(pyhost__hub_t *self, int kind, int fd, void *buf, size_t len,
               int flags, uint32_t events, int64_t deadline, PyObject *owner,
               Py_buffer *view)
{
    /* A receive needs its fd's stash slot (and generation) from the start:
     * bytes it gets after its caller stopped waiting may be stashed. */
    pyhost__io_t *io = NULL;
    if (kind != PYHOST__OP_RECV || sockops_stash_slot(self, fd) != NULL) {
        io = sockops_io_start(self, kind, fd, buf, len, flags, events);
    }
    if (io == NULL) {
        if (view != NULL) {
            PyBuffer_Release(view);
        }
        return -1;
    }
    if (kind == PYHOST__OP_RECV) {
        io->fd_gen = self->stash[fd].gen;
    }
    io->owner = Py_XNewRef(owner);
    if (view != NULL) {
        io->view = *view;
        io->has_view = 1;
    }
    PyObject *r = pyhost__hub_io_wait(self, io, deadline);
    Py_ssize_t res;
    if (r == NULL) {
        /* Stash what a cut-short receive got, unless it only peeked (the
         * kernel still holds those bytes) or its fd was closed meanwhile
         * (they belong to the closed socket, not to the fd's next one). */
        if (kind == PYHOST__OP_RECV && io->op.res > 0 && !(flags & MSG_PEEK) &&
            !io->closed && self->stash[fd].gen == io->fd_gen) {
            PyObject *exc = pyhost__err_take();
            if (sockops_stash_add(self, fd, buf, (size_t)io->op.res) < 0) {
                PyErr_WriteUnraisable((PyObject *)self);
            }
            pyhost__err_set_raised(exc);
        }
        res = -1;
    }
    else {
        Py_DECREF(r);
        res = sockops_io_result(io);
    }
    sockops_io_free(io);
    return res;
}

/* One non-blocking try of recv/send.  Return bytes >= 0, -2 when it would
 * block, or -1 with an exception set. */
static Py_ssize_t
sockops_try(int kind, int fd, void *buf, size_t len, int flags)
{
    for (;;) {
        ssize_t n = kind == PYHOST__OP_RECV
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

/* recv/send for the current tasklet: the stash first (recv), then a try,
 * then an operation waited for until timeout seconds (-1: no limit) have
 * passed.  Timeout 0 or MSG_DONTWAIT in flags raises BlockingIOError
 * instead of waiting.  Releases view (when not NULL) on every path. */
PYHOST__NO_ASAN
static Py_ssize_t
sockops_io(pyhost__hub_t *self, int kind, int fd, void *buf, size_t len,
           int flags, double timeout, PyObject *owner, Py_buffer *view)
{
    Py_ssize_t n;
    if (fd < 0) {
        errno = EBADF;
        PyErr_SetFromErrno(PyExc_OSError);
        n = -1;
    }
    else if (len == 0 && kind == PYHOST__OP_RECV) {
        n = 0; /* like the socket module: a zero-length read returns */
    }
    else if (kind == PYHOST__OP_RECV && fd < self->stash_cap &&
             sockops_stashed(self, fd) > 0) {
        n = (Py_ssize_t)sockops_stash_take(self, fd, buf, len, flags);
    }
    else {
        n = sockops_try(kind, fd, buf, len, flags);
        if (n == -2 && (timeout == 0 || (flags & MSG_DONTWAIT))) {
            /* Non-blocking socket, or the caller asked this call not to
             * wait: raise BlockingIOError like the socket module. */
            errno = EAGAIN;
            PyErr_SetFromErrno(PyExc_OSError);
            n = -1;
        }
        else if (n == -2) {
            int64_t deadline = pyhost__timeout_deadline(timeout);
            /* The op owns view from here. */
            return sockops_run_op(self, kind, fd, buf, len, flags, 0, deadline,
                                  owner, view);
        }
    }
    if (view != NULL) {
        PyBuffer_Release(view);
    }
    return n;
}

/* ---- socket calls ---------------------------------------------------- */

/* recv(fd, nbytes, flags, timeout) -> bytes */
PYHOST__NO_ASAN
PyObject *
pyhost__hub_recv_meth(pyhost__hub_t *self, PyObject *args)
{
    int fd, flags;
    Py_ssize_t nbytes;
    double timeout;
    if (!PyArg_ParseTuple(args, "iniO&:recv", &fd, &nbytes, &flags,
                          pyhost__timeout_converter, &timeout)) {
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
        sockops_io(self, PYHOST__OP_RECV, fd, PyBytes_AS_STRING(buf), nbytes,
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
PYHOST__NO_ASAN
PyObject *
pyhost__hub_recv_into_meth(pyhost__hub_t *self, PyObject *args)
{
    int fd, flags;
    Py_ssize_t nbytes;
    double timeout;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "iw*niO&:recv_into", &fd, &view, &nbytes,
                          &flags, pyhost__timeout_converter, &timeout)) {
        return NULL;
    }
    if (nbytes < 0) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "negative buffersize in recv_into");
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
    Py_ssize_t n = sockops_io(self, PYHOST__OP_RECV, fd, view.buf, nbytes,
                              flags, timeout, view.obj, &view);
    return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

/* send(fd, data, flags, timeout) -> int */
PYHOST__NO_ASAN
PyObject *
pyhost__hub_send_meth(pyhost__hub_t *self, PyObject *args)
{
    int fd, flags;
    double timeout;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "iy*iO&:send", &fd, &view, &flags,
                          pyhost__timeout_converter, &timeout)) {
        return NULL;
    }
    Py_ssize_t n = sockops_io(self, PYHOST__OP_SEND, fd, view.buf, view.len,
                              flags, timeout, view.obj, &view);
    return n < 0 ? NULL : PyLong_FromSsize_t(n);
}

/* sendall(fd, data, flags, timeout): the timeout bounds the whole call
 * (one deadline; each wait gets what is left of it, as CPython's
 * sock_sendall does). */
PYHOST__NO_ASAN
PyObject *
pyhost__hub_sendall_meth(pyhost__hub_t *self, PyObject *args)
{
    int fd, flags;
    double timeout;
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "iy*iO&:sendall", &fd, &view, &flags,
                          pyhost__timeout_converter, &timeout)) {
        return NULL;
    }
    int64_t deadline = timeout > 0 ? pyhost__deadline_ns(timeout) : 0;
    char *p = view.buf;
    Py_ssize_t left = view.len;
    PyObject *res = NULL;
    do {
        double t = timeout;
        if (timeout > 0) {
            int64_t left_ns = pyhost__deadline_left_ns(deadline);
            if (left_ns == 0) {
                PyErr_SetString(PyExc_TimeoutError, "timed out");
                goto error;
            }
            t = (double)left_ns / 1e9;
        }
        /* Each part pins the buffer for its own operation. */
        Py_buffer part;
        if (PyObject_GetBuffer(view.obj, &part, PyBUF_SIMPLE) < 0) {
            goto error;
        }
        Py_ssize_t n = sockops_io(self, PYHOST__OP_SEND, fd, p, left, flags, t,
                                  view.obj, &part);
        if (n < 0) {
            goto error;
        }
        p += n;
        left -= n;
    } while (left > 0);
    res = Py_NewRef(Py_None);
error:
    PyBuffer_Release(&view);
    return res;
}

/* wait_fd(fd, events, timeout) -> revents: park until fd is ready.  Bytes
 * stashed for fd make it readable at once. */
PYHOST__NO_ASAN
PyObject *
pyhost__hub_wait_fd_meth(pyhost__hub_t *self, PyObject *args)
{
    int fd, events;
    double timeout;
    if (!PyArg_ParseTuple(args, "iiO&:wait_fd", &fd, &events,
                          pyhost__timeout_converter, &timeout)) {
        return NULL;
    }
    if (fd < 0) {
        errno = EBADF;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    if ((events & POLLIN) && sockops_stashed(self, fd) > 0) {
        return PyLong_FromLong(POLLIN);
    }
    int64_t deadline = pyhost__timeout_deadline(timeout);
    Py_ssize_t r = sockops_run_op(self, PYHOST__OP_POLL, fd, NULL, 0, 0,
                                  (uint32_t)events, deadline, NULL, NULL);
    return r < 0 ? NULL : PyLong_FromSsize_t(r);
}

/* wait_fds([(fd, events), ...], timeout) -> [(fd, revents), ...]: park
 * until at least one is ready (empty list on timeout).  The other ops are
 * then cancelled, and all of them end before this returns. */
PYHOST__NO_ASAN
PyObject *
pyhost__hub_wait_fds_meth(pyhost__hub_t *self, PyObject *args)
{
    double timeout;
    PyObject *pairs;
    if (!PyArg_ParseTuple(args, "OO&:wait_fds", &pairs,
                          pyhost__timeout_converter, &timeout)) {
        return NULL;
    }
    /* A tuple copy: converting an item (its __index__) cannot then change
     * the sequence under the loop. */
    PyObject *seq = PySequence_Tuple(pairs);
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(seq);
    PyObject *result = NULL, *key = NULL, *first_exc = NULL;
    pyhost__io_t **ios = PyMem_Calloc(count ? count : 1, sizeof(*ios));
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
        PyObject *pair = PyTuple_GET_ITEM(seq, started);
        if (!PyTuple_Check(pair)) {
            /* PyArg_ParseTuple would raise SystemError for it. */
            PyErr_SetString(PyExc_TypeError,
                            "wait_fds needs (fd, events) tuples");
            break;
        }
        if (!PyArg_ParseTuple(pair, "ii", &fd, &events)) {
            break;
        }
        pyhost__io_t *io = sockops_io_start(self, PYHOST__OP_POLL, fd, NULL, 0,
                                            0, (uint32_t)events);
        if (io == NULL) {
            break;
        }
        Py_SETREF(io->key, Py_NewRef(key));
        ios[started] = io;
    }
    if (started == count) {
        /* One timed park for all: any completion on key wakes us. */
        int any = 0;
        for (Py_ssize_t i = 0; i < count; i++) {
            any |= ios[i]->done;
        }
        if (!any && count > 0) {
            PyObject *value;
            int64_t deadline = pyhost__timeout_deadline(timeout);
            int r = pyhost__hub_park(self, key, deadline, &value);
            if (r < 0) {
                first_exc = pyhost__err_take();
            }
            else if (r == PYHOST__PARK_WOKEN) {
                Py_DECREF(value);
            }
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
        PyObject *r = pyhost__hub_io_wait(self, ios[i], PYHOST__NO_DEADLINE);
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
                sockops_io_free(ios[i]);
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

/* stashed(fd) -> int: bytes kept for fd's next receive. */
PyObject *
pyhost__hub_stashed_meth(pyhost__hub_t *self, PyObject *arg)
{
    int fd = pyhost__long_as_int(arg);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromSize_t(sockops_stashed(self, fd));
}

/* close_fd(fd): cancel every op pending on fd and wait for their
 * completions (their tasklets get OSError(EBADF)), so that the caller's
 * close() then sends a FIN, not an RST, and no orphaned recv swallows the
 * peer's data; then drop fd's stash (the fd number will be reused). */
PyObject *
pyhost__hub_close_fd_meth(pyhost__hub_t *self, PyObject *arg)
{
    int fd = pyhost__long_as_int(arg);
    if (fd == -1 && PyErr_Occurred()) {
        return NULL;
    }
    int pending = 0;
    for (pyhost__op_t *op = pyhost__optab_fd_first(&self->tab, fd); op != NULL;
         op = op->fd_next) {
        pyhost__io_t *io = pyhost__io_of(op);
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
        for (pyhost__op_t *op = pyhost__optab_fd_first(&self->tab, fd);
             op != NULL; op = op->fd_next) {
            pending |= op != &self->wake_io->op;
        }
        if (!pending) {
            break;
        }
        pyhost__op_t *done[PYHOST__HUB_BATCH];
        int n = self->backend->ops->wait(self->backend, spins ? 1000000 : 0,
                                         done, PYHOST__HUB_BATCH);
        pyhost__hub_dispatch(self, done, n);
    }
    self->backend->ops->forget_fd(self->backend, fd);
    pyhost__hub_stash_drop(self, fd);
    if (fd >= 0 && fd < self->stash_cap) {
        /* A receive that completed before this close but has not resumed
         * yet must not stash for the fd's next owner. */
        self->stash[fd].gen++;
    }
    Py_RETURN_NONE;
}
