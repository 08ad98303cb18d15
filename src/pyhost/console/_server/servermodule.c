/* SPDX-License-Identifier: MIT
 *
 * servermodule.c: the module glue of pyhost.console._server.  start() makes
 * the secrets, starts libmicrohttpd (httpd.c) and the GIL worker and watchdog
 * (worker.c); stop() answers what is pending, joins the threads and stops
 * the daemon.  The pages themselves are in nogil_pages.c (C, no GIL) and in
 * pyhost/console/pages/ (Python, run by the worker); every HTML page gets
 * its shell from shell.c.  pyhost.console is the
 * public API; this module is private.
 */
#include "console.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

typedef struct {
    pyhost__console_server_t
        *srv; /* owned; NULL when stopped.  Protected by GIL */
} console_state_t;

static inline console_state_t *
get_console_state(PyObject *module)
{
    return (console_state_t *)PyModule_GetState(module);
}

/* Fill out with 2*nbytes hex digits from the OS's secure generator. */
static int
console_random_hex(char *out, size_t nbytes)
{
    unsigned char raw[64];
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = getrandom(raw + got, nbytes - got, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            PyErr_SetFromErrno(PyExc_OSError);
            return -1;
        }
        got += (size_t)n;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * nbytes] = '\0';
    return 0;
}

/* A user-chosen token must be long enough to resist guessing and URL- and
 * cookie-safe as it stands. */
static int
console_token_ok(const char *t, size_t n)
{
    if (n < 16 || n > PYHOST__CONSOLE_TOKEN_MAX) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (!(('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') ||
              ('0' <= c && c <= '9') || c == '-' || c == '_')) {
            return 0;
        }
    }
    return 1;
}

static int
console_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
    return rc;
}

/* Free a server whose threads and daemon are stopped.  Needs the GIL (it
 * drops the handler references). */
static void
console_server_free(pyhost__console_server_t *srv)
{
    Py_CLEAR(srv->handler);
    Py_CLEAR(srv->sampler);
    pthread_cond_destroy(&srv->work_cv);
    pthread_cond_destroy(&srv->watch_cv);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

/* Stop everything; called with the GIL, which is released while the
 * threads finish (the worker may be waiting for it). */
static void
console_server_stop(pyhost__console_server_t *srv)
{
    Py_BEGIN_ALLOW_THREADS
    pyhost__console_threads_stop(srv);
    pyhost__console_httpd_stop(srv);
    Py_END_ALLOW_THREADS
    console_server_free(srv);
}

static int64_t
console_seconds_ns(double s)
{
    return (int64_t)(s * 1e9);
}

PyDoc_STRVAR(console_start_doc,
"start(handler, sampler, *, host, port, token, deadline, sample_interval,\n"
"      stall_threshold, probe_interval, max_connections)\n"
"--\n\n"
"Start the server; return (port, token, csrf_token).  Private: use\n"
"pyhost.console.start().");

static PyObject *
console_start(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"handler",
                             "sampler",
                             "host",
                             "port",
                             "token",
                             "deadline",
                             "sample_interval",
                             "stall_threshold",
                             "probe_interval",
                             "max_connections",
                             NULL};
    console_state_t *st = get_console_state(module);
    PyObject *handler, *sampler;
    const char *host = "127.0.0.1", *token = NULL;
    Py_ssize_t token_len = 0;
    int port = 0, max_conn = 64;
    double deadline = 1.0, sample_interval = 10.0, stall = 0.1, probe = 0.1;

    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "OO|$siz#ddddi:start", kwlist, &handler, &sampler,
            &host, &port, &token, &token_len, &deadline, &sample_interval,
            &stall, &probe, &max_conn)) {
        return NULL;
    }
    if (st->srv != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the console is already running");
        return NULL;
    }
    if (!PyCallable_Check(handler) ||
        (sampler != Py_None && !PyCallable_Check(sampler))) {
        PyErr_SetString(PyExc_TypeError, "handler and sampler must be "
                                         "callable");
        return NULL;
    }
    if (port < 0 || port > 65535) {
        PyErr_Format(PyExc_ValueError, "port must be 0..65535, not %d", port);
        return NULL;
    }
    /* Upper bounds too: each becomes an int64 of nanoseconds, and a double
     * out of that range (inf, 1e300) has no defined conversion. */
    if (!(deadline > 0 && deadline <= 60) ||
        !(sample_interval >= 0 && sample_interval <= 86400) ||
        !(stall > 0 && stall <= 3600) || !(probe >= 0.005 && probe <= 10) ||
        max_conn < 1 || max_conn > 1024) {
        PyErr_SetString(PyExc_ValueError,
                        "bad limit: need 0 < deadline <= 60, 0 <= "
                        "sample_interval <= 86400, 0 < stall_threshold <= "
                        "3600, 0.005 <= probe_interval <= 10, 1 <= "
                        "max_connections <= 1024");
        return NULL;
    }
    if (token != NULL && !console_token_ok(token, (size_t)token_len)) {
        PyErr_SetString(PyExc_ValueError,
                        "token must be 16 to 128 characters from "
                        "A-Z a-z 0-9 - _");
        return NULL;
    }
    if (strlen(host) >= sizeof(((pyhost__console_server_t *)0)->host)) {
        PyErr_SetString(PyExc_ValueError, "host too long");
        return NULL;
    }

    pyhost__console_server_t *srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        return PyErr_NoMemory();
    }
    if (pthread_mutex_init(&srv->lock, NULL) != 0 ||
        console_cond_init(&srv->work_cv) != 0 ||
        console_cond_init(&srv->watch_cv) != 0) {
        free(srv);
        return PyErr_NoMemory();
    }
    srv->listen_fd = -1;
    srv->handler = Py_NewRef(handler);
    srv->sampler = sampler == Py_None ? NULL : Py_NewRef(sampler);
    strcpy(srv->host, host);
    srv->page_timeout_ns = console_seconds_ns(deadline);
    srv->sample_interval_ns = console_seconds_ns(sample_interval);
    srv->stall_threshold_ns = console_seconds_ns(stall);
    srv->probe_interval_ns = console_seconds_ns(probe);
    srv->started_mono_ns = pyhost__monotonic_ns();
    srv->started_wall_ns = pyhost__wall_ns();
    srv->next_sample_ns = srv->started_mono_ns;
    if (token != NULL) {
        memcpy(srv->token, token, (size_t)token_len);
        srv->token[token_len] = '\0';
    }
    else if (console_random_hex(srv->token, 24) < 0) {
        goto error;
    }
    srv->token_len = strlen(srv->token);
    if (console_random_hex(srv->csrf, 24) < 0) {
        goto error;
    }
    srv->csrf_len = strlen(srv->csrf);

    int rc = pyhost__console_httpd_start(srv, host, port, max_conn);
    if (rc == -EINVAL) {
        PyErr_Format(PyExc_ValueError,
                     "host must be a numeric IPv4/IPv6 address or "
                     "'localhost', not '%s'",
                     host);
        goto error;
    }
    if (rc < 0) {
        errno = -rc;
        PyErr_Format(PyExc_OSError, "cannot listen on %s:%d: %s", host, port,
                     strerror(-rc));
        goto error;
    }
    rc = pyhost__console_threads_start(srv);
    if (rc < 0) {
        Py_BEGIN_ALLOW_THREADS
        pyhost__console_httpd_stop(srv);
        Py_END_ALLOW_THREADS
        errno = -rc;
        PyErr_SetFromErrno(PyExc_OSError);
        goto error;
    }
    st->srv = srv;
    return Py_BuildValue("iss", (int)srv->port, srv->token, srv->csrf);

error:
    console_server_free(srv);
    return NULL;
}

/* Is the caller the console's GIL worker (running a page, a repr, or a
 * callback a page triggered)?  Such a caller must not stop the console: it
 * would wait for itself and then free the server under its own feet. */
static int
console_on_worker(pyhost__console_server_t *srv)
{
    return srv != NULL && srv->threads_started &&
           pthread_equal(pthread_self(), srv->worker);
}

static int
console_check_not_worker(pyhost__console_server_t *srv)
{
    if (console_on_worker(srv)) {
        PyErr_SetString(PyExc_RuntimeError,
                        "the console cannot be stopped from its own thread "
                        "(a repr or a callback run by one of its pages)");
        return -1;
    }
    return 0;
}

PyDoc_STRVAR(console_stop_doc,
"stop()\n--\n\nStop the server if it runs; wait for its threads.\n"
"RuntimeError on the console's own thread.");

static PyObject *
console_stop(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    console_state_t *st = get_console_state(module);
    pyhost__console_server_t *srv = st->srv;
    if (console_check_not_worker(srv) < 0) {
        return NULL;
    }
    if (srv != NULL) {
        st->srv = NULL;
        console_server_stop(srv);
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(console_check_not_worker_doc,
"_check_not_worker()\n--\n\n"
"RuntimeError when called on the console's own thread (pyhost.console\n"
"checks this before it takes its lock).");

static PyObject *
console_check_not_worker_py(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    if (console_check_not_worker(get_console_state(module)->srv) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(console_after_fork_doc,
"_after_fork_child()\n--\n\n"
"In a forked child: close the inherited listening socket and forget the\n"
"parent's server (its threads do not exist here).");

static PyObject *
console_after_fork_child(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    console_state_t *st = get_console_state(module);
    if (st->srv != NULL) {
        if (st->srv->listen_fd >= 0) {
            close(st->srv->listen_fd);
        }
        /* The struct is deliberately leaked: its mutex may be held by a
         * thread that does not exist in the child. */
        st->srv = NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(console_status_doc,
"status() -> dict or None\n--\n\n"
"The server's port and counters, or None when stopped.");

static PyObject *
console_status(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    pyhost__console_server_t *srv = get_console_state(module)->srv;
    if (srv == NULL) {
        Py_RETURN_NONE;
    }
    pthread_mutex_lock(&srv->lock);
    double last = (double)srv->last_wait_ns / 1e6;
    double max = (double)srv->max_wait_ns / 1e6;
    unsigned long long stalls = srv->nstalls, py = srv->served_py;
    unsigned long long c = srv->served_c, e503 = srv->answered_503;
    pthread_mutex_unlock(&srv->lock);
    return Py_BuildValue(
        "{s:i,s:s,s:d,s:d,s:K,s:K,s:K,s:K,s:d,s:d}", "port", (int)srv->port,
        "host", srv->host, "last_gil_wait_ms", last, "max_gil_wait_ms", max,
        "stalls", stalls, "served_python", py, "served_c", c, "answered_503",
        e503, "deadline_s", (double)srv->page_timeout_ns / 1e9,
        "sample_interval_s", (double)srv->sample_interval_ns / 1e9);
}

PyDoc_STRVAR(console_hold_gil_doc,
"_hold_gil(seconds)\n--\n\n"
"Test helper: spin for `seconds` in C while holding the GIL, the way a\n"
"busy C extension does, so tests can check what answers meanwhile.");

static PyObject *
console_hold_gil(PyObject *module, PyObject *arg)
{
    (void)module;
    /* What Argument Clinic generates for one float argument. */
    double seconds = PyFloat_AsDouble(arg);
    if (seconds == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    if (!(seconds >= 0 && seconds <= 60)) {
        PyErr_SetString(PyExc_ValueError, "seconds must be 0..60");
        return NULL;
    }
    int64_t deadline = pyhost__deadline_ns(seconds);
    while (pyhost__deadline_left_ns(deadline) > 0) {
        usleep(1000); /* sleeping without releasing the GIL */
    }
    Py_RETURN_NONE;
}

static PyMethodDef console_methods[] = {
    {"start", (PyCFunction)(void (*)(void))console_start,
     METH_VARARGS | METH_KEYWORDS, console_start_doc},
    {"stop", console_stop, METH_NOARGS, console_stop_doc},
    {"status", console_status, METH_NOARGS, console_status_doc},
    {"_hold_gil", console_hold_gil, METH_O, console_hold_gil_doc},
    {"_check_not_worker", console_check_not_worker_py, METH_NOARGS,
     console_check_not_worker_doc},
    {"_after_fork_child", console_after_fork_child, METH_NOARGS,
     console_after_fork_doc},
    {NULL, NULL, 0, NULL},
};

static int
console_exec(PyObject *module)
{
    /* The worker thread takes the GIL with PyGILState_*, which always
     * means the main interpreter.  The slot below refuses isolated
     * subinterpreters; legacy ones (Py_NewInterpreter) pass it, so check
     * here on every version. */
    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        PyErr_SetString(
            PyExc_ImportError,
            "pyhost.console._server runs in the main interpreter only "
            "(its worker thread uses PyGILState_*)");
        return -1;
    }
    get_console_state(module)->srv = NULL;
    if (PyModule_AddStringConstant(module, "CSS", pyhost__console_css) < 0) {
        return -1;
    }
    return 0;
}

static int
console_traverse(PyObject *module, visitproc visit, void *arg)
{
    pyhost__console_server_t *srv = get_console_state(module)->srv;
    if (srv != NULL) {
        Py_VISIT(srv->handler);
        Py_VISIT(srv->sampler);
    }
    return 0;
}

static void
console_free(void *module)
{
    /* A safety net: pyhost.console stops the server at exit already. */
    console_state_t *st = get_console_state((PyObject *)module);
    if (st != NULL && st->srv != NULL) {
        pyhost__console_server_t *srv = st->srv;
        st->srv = NULL;
        console_server_stop(srv);
    }
}

static PyModuleDef_Slot console_slots[] = {
    {Py_mod_exec, console_exec},
#if PY_VERSION_HEX >= 0x030C0000
    /* The worker thread uses PyGILState_*, which knows one interpreter. */
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef console_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pyhost.console._server",
    .m_doc = "The live console's HTTP server (private; see pyhost.console).",
    .m_size = sizeof(console_state_t),
    .m_methods = console_methods,
    .m_slots = console_slots,
    .m_traverse = console_traverse,
    .m_free = console_free,
};

PyMODINIT_FUNC
PyInit__server(void)
{
    return PyModuleDef_Init(&console_module);
}
