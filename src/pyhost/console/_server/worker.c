/* SPDX-License-Identifier: MIT
 *
 * worker.c: the two threads behind the console's Python pages.
 *
 * The GIL worker is the only console thread that ever takes the GIL.  It
 * runs queued page requests one at a time through the Python handler, calls
 * the memory sampler on its timer, and, when idle, probes the GIL every
 * probe interval.  Every GIL request is timed: the last wait, the longest,
 * and each wait over the stall threshold go into a ring the responsiveness
 * page shows ("the server froze" becomes "the GIL was unavailable for 2.9 s
 * at 12:03:04").
 *
 * The watchdog never takes the GIL.  It answers 503 to every request past
 * its deadline, queued or running, so a Python page cannot hang however
 * long the interpreter is busy; the worker later finds the job answered and
 * drops it.
 */
#include "console.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Wait on cv until the monotonic time `until` (ns), with srv->lock held. */
static void
worker_wait_until(pyhost__console_server_t *srv, pthread_cond_t *cv,
                  int64_t until)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(until / 1000000000);
    ts.tv_nsec = (long)(until % 1000000000);
    pthread_cond_timedwait(cv, &srv->lock, &ts);
}

/* Under srv->lock: give job its response, once.  Returns 1 if the caller
 * must resume the connection (after unlocking), 0 if the job was already
 * answered (resp is then destroyed). */
static int
worker_answer_locked(pyhost__console_server_t *srv, pyhost__console_job_t *job,
                     unsigned int status, struct MHD_Response *resp)
{
    (void)srv;
    if (job->state == PYHOST__JOB_ANSWERED || job->conn == NULL) {
        if (resp != NULL) {
            MHD_destroy_response(resp);
        }
        return 0;
    }
    job->response = resp;
    job->status = status;
    job->state = PYHOST__JOB_ANSWERED;
    return 1;
}

static struct MHD_Response *
worker_text(const char *msg)
{
    return pyhost__console_response("text/plain; charset=utf-8", msg,
                                    strlen(msg));
}

static int
worker_answer_503_locked(pyhost__console_server_t *srv,
                         pyhost__console_job_t *job, const char *msg)
{
    if (job->state == PYHOST__JOB_ANSWERED) {
        return 0;
    }
    srv->answered_503++;
    return worker_answer_locked(srv, job, MHD_HTTP_SERVICE_UNAVAILABLE,
                                worker_text(msg));
}

/* The 503 for a page that waited past its deadline without the GIL. */
static void
worker_busy_msg(char *msg, size_t size, double secs)
{
    snprintf(msg, size,
             "503 interpreter busy: the GIL was not available for %.1f s "
             "(the application holds it).  Pages that need no GIL still "
             "answer: /process, /responsiveness\n",
             secs);
}

int
pyhost__console_enqueue(pyhost__console_server_t *srv,
                        pyhost__console_job_t *job)
{
    pthread_mutex_lock(&srv->lock);
    job->suspended = 1;
    srv->suspended++;
    if (srv->stopping || srv->queued >= PYHOST__CONSOLE_QUEUE_MAX) {
        /* Admission control, checked in the same critical section as the
         * insertion so that stop() cannot slip in between and leave a
         * suspended connection nobody answers (libmicrohttpd aborts when
         * it stops with one). */
        const char *msg = "503 console stopping\n";
        if (!srv->stopping) {
            srv->queue_full++;
            msg = "503 console busy: too many requests are waiting for the "
                  "interpreter; try again shortly\n";
        }
        worker_answer_locked(srv, job, MHD_HTTP_SERVICE_UNAVAILABLE,
                             worker_text(msg));
        pthread_mutex_unlock(&srv->lock);
        return 0;
    }
    job->refs++;
    job->state = PYHOST__JOB_QUEUED;
    job->next = NULL;
    if (srv->tail) {
        srv->tail->next = job;
    }
    else {
        srv->head = job;
    }
    srv->tail = job;
    srv->queued++;
    pthread_cond_signal(&srv->work_cv);
    pthread_cond_signal(&srv->watch_cv);
    pthread_mutex_unlock(&srv->lock);
    return 1;
}

/* Under srv->lock: take the first queued job (the queue's reference moves
 * to the caller), or NULL. */
static pyhost__console_job_t *
worker_pop_locked(pyhost__console_server_t *srv)
{
    pyhost__console_job_t *job = srv->head;
    if (job != NULL) {
        srv->head = job->next;
        if (srv->head == NULL) {
            srv->tail = NULL;
        }
        job->next = NULL;
        srv->queued--;
    }
    return job;
}

/* Take the GIL, timing the wait.  Called without the GIL or srv->lock. */
static PyGILState_STATE
worker_take_gil(pyhost__console_server_t *srv, int for_page)
{
    int64_t t0 = pyhost__monotonic_ns();
    pthread_mutex_lock(&srv->lock);
    srv->gil_wait_since_ns = t0;
    srv->gil_wait_for_page = for_page;
    pthread_mutex_unlock(&srv->lock);

    PyGILState_STATE st = PyGILState_Ensure();

    int64_t wait = pyhost__monotonic_ns() - t0;
    pthread_mutex_lock(&srv->lock);
    srv->gil_wait_since_ns = 0;
    srv->last_wait_ns = wait;
    if (wait > srv->max_wait_ns) {
        srv->max_wait_ns = wait;
    }
    srv->gil_requests++;
    if (wait >= srv->stall_threshold_ns) {
        pyhost__console_stall_t *s =
            &srv->stalls[srv->nstalls % PYHOST__CONSOLE_STALLS];
        s->when_wall_ns = pyhost__wall_ns() - wait;
        s->wait_ns = wait;
        s->for_page = for_page;
        srv->nstalls++;
    }
    pthread_mutex_unlock(&srv->lock);
    return st;
}

/* With the GIL: build the response to a handler's result.  The result is
 * (status, content type, body bytes[, location[, title]]).  With a title
 * the body is the inside of an HTML page, and the page shell (shell.c)
 * goes around it here, in C, exactly as around the no-GIL pages.  Returns
 * the response, or NULL with an exception set (or, out of memory in
 * libmicrohttpd, without one); sets *status. */
static struct MHD_Response *
worker_page_response(PyObject *result, unsigned int *status)
{
    struct MHD_Response *resp = NULL;
    pyhost__strbuf_t page;
    const char *ctype, *body, *location = NULL, *title = NULL;
    Py_ssize_t body_len;
    int code;

    pyhost__strbuf_init(&page, PYHOST__CONSOLE_PAGE_MAX + 64 * 1024);
    if (!PyTuple_Check(result) ||
        !PyArg_ParseTuple(result,
                          "isy#|zz;page handler result: want "
                          "(status, content type, body bytes[, "
                          "location[, title]])",
                          &code, &ctype, &body, &body_len, &location,
                          &title)) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_TypeError,
                         "page handler result must be a tuple, not %.100s",
                         Py_TYPE(result)->tp_name);
        }
        goto error;
    }
    if (code < 100 || code > 599 ||
        (size_t)body_len > PYHOST__CONSOLE_PAGE_MAX) {
        PyErr_SetString(PyExc_ValueError, "page handler: bad status or "
                                          "body too large");
        goto error;
    }
    if (title != NULL) {
        pyhost__console_page_head(&page, title);
        pyhost__strbuf_add(&page, body, (size_t)body_len);
        pyhost__console_page_foot(&page);
        if (pyhost__strbuf_failed(&page)) {
            PyErr_NoMemory();
            goto error;
        }
        body = page.data;
        body_len = (Py_ssize_t)page.len;
    }
    resp = pyhost__console_response(ctype, body, (size_t)body_len);
    if (resp != NULL && location != NULL &&
        MHD_add_response_header(resp, "Location", location) != MHD_YES) {
        MHD_destroy_response(resp);
        resp = NULL;
    }
    *status = (unsigned int)code;
    pyhost__strbuf_free(&page);
    return resp;

error:
    pyhost__strbuf_free(&page);
    return NULL;
}

/* With the GIL: call the handler for job and build its response.  Returns
 * the response (or NULL when out of memory) and sets *status. */
static struct MHD_Response *
worker_call_handler(pyhost__console_server_t *srv, pyhost__console_job_t *job,
                    unsigned int *status)
{
    struct MHD_Response *resp = NULL;
    PyObject *args = NULL, *result = NULL;

    *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    args = PyDict_New();
    if (args == NULL) {
        goto error;
    }
    for (int i = 0; i < job->nargs; i++) {
        PyObject *v = PyUnicode_DecodeUTF8(
            job->values[i], (Py_ssize_t)strlen(job->values[i]), "replace");
        if (v == NULL) {
            goto error;
        }
        int rc = PyDict_SetItemString(args, job->keys[i], v);
        Py_DECREF(v);
        if (rc < 0) {
            goto error;
        }
    }
    result = PyObject_CallFunction(
        srv->handler, "ssO", job->is_post ? "POST" : "GET", job->path, args);
    if (result == NULL) {
        goto error;
    }
    resp = worker_page_response(result, status);
    if (resp == NULL && PyErr_Occurred()) {
        goto error;
    }
    Py_DECREF(args);
    Py_DECREF(result);
    return resp;

error:
    /* The handler catches its own errors; reaching here means it broke its
     * contract.  Log it the way Python logs errors nobody can catch. */
    PyErr_WriteUnraisable(srv->handler);
    Py_XDECREF(args);
    Py_XDECREF(result);
    *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    return worker_text("500 console page failed; see the process's "
                       "stderr\n");
}

/* Run one job from start to answer.  Called without the GIL or the lock;
 * the caller holds a reference to job. */
static void
worker_run_job(pyhost__console_server_t *srv, pyhost__console_job_t *job)
{
    PyGILState_STATE st = worker_take_gil(srv, 1);
    pthread_mutex_lock(&srv->lock);
    int still_wanted = job->state == PYHOST__JOB_RUNNING && !srv->stopping;
    job->got_gil = 1;
    pthread_mutex_unlock(&srv->lock);

    struct MHD_Response *resp = NULL;
    unsigned int status = 0;
    if (still_wanted) {
        resp = worker_call_handler(srv, job, &status);
    }
    PyGILState_Release(st);
    if (!still_wanted) {
        return; /* the watchdog answered while we waited */
    }

    pthread_mutex_lock(&srv->lock);
    struct MHD_Connection *conn = job->conn;
    int resume = worker_answer_locked(srv, job, status, resp);
    srv->served_py += resume;
    pthread_mutex_unlock(&srv->lock);
    if (resume) {
        MHD_resume_connection(conn);
    }
}

/* Idle work: probe the GIL, and call the sampler when it is due. */
static void
worker_idle_call(pyhost__console_server_t *srv, int sample)
{
    PyGILState_STATE st = worker_take_gil(srv, 0);
    if (sample && srv->sampler != NULL) {
        pthread_mutex_lock(&srv->lock);
        int stopping = srv->stopping;
        pthread_mutex_unlock(&srv->lock);
        if (!stopping) {
            PyObject *r = PyObject_CallNoArgs(srv->sampler);
            if (r == NULL) {
                PyErr_WriteUnraisable(srv->sampler);
            }
            Py_XDECREF(r);
        }
    }
    PyGILState_Release(st);
}

static void *
worker_main(void *arg)
{
    pyhost__console_server_t *srv = arg;
    /* Keep one thread state for the thread's whole life: the nested
     * PyGILState_Ensure/Release pairs below then only switch the GIL
     * instead of creating and destroying a thread state each time.  This
     * first request is timed like the others: if the application holds
     * the GIL when the console starts, the wait shows as a stall. */
    PyGILState_STATE outer = worker_take_gil(srv, 0);
    PyThreadState *ts = PyEval_SaveThread();
    int64_t next_probe = pyhost__monotonic_ns();

    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping) {
        pyhost__console_job_t *job = worker_pop_locked(srv);
        if (job != NULL) {
            if (job->state == PYHOST__JOB_QUEUED) {
                job->state = PYHOST__JOB_RUNNING;
                srv->running = job;
                pthread_mutex_unlock(&srv->lock);
                worker_run_job(srv, job);
                pthread_mutex_lock(&srv->lock);
                srv->running = NULL;
            }
            pyhost__console_job_unref(srv, job);
            continue;
        }
        int64_t now = pyhost__monotonic_ns();
        int sample_due =
            srv->sample_interval_ns > 0 && now >= srv->next_sample_ns;
        if (sample_due || now >= next_probe) {
            if (sample_due) {
                srv->next_sample_ns = now + srv->sample_interval_ns;
            }
            pthread_mutex_unlock(&srv->lock);
            worker_idle_call(srv, sample_due);
            pthread_mutex_lock(&srv->lock);
            next_probe = pyhost__monotonic_ns() + srv->probe_interval_ns;
            continue;
        }
        int64_t until = next_probe;
        if (srv->sample_interval_ns > 0 && srv->next_sample_ns < until) {
            until = srv->next_sample_ns;
        }
        worker_wait_until(srv, &srv->work_cv, until);
    }
    pthread_mutex_unlock(&srv->lock);

    PyEval_RestoreThread(ts);
    PyGILState_Release(outer);
    return NULL;
}

/* Under srv->lock: answer every queued job whose deadline passed (all of
 * them when `all`), collecting the connections to resume into conns.
 * Returns how many were collected. */
static int
worker_expire_locked(pyhost__console_server_t *srv, int64_t now, int all,
                     struct MHD_Connection **conns, int max)
{
    int n = 0;
    char msg[256];
    double secs = (double)srv->page_timeout_ns / 1e9;
    pyhost__console_job_t **pp = &srv->head;
    while (*pp != NULL) {
        pyhost__console_job_t *job = *pp;
        if (!all && job->deadline_ns > now) {
            pp = &job->next;
            continue;
        }
        *pp = job->next;
        if (srv->tail == job) {
            srv->tail = NULL;
            for (pyhost__console_job_t *j = srv->head; j; j = j->next) {
                srv->tail = j;
            }
        }
        srv->queued--;
        if (all) {
            snprintf(msg, sizeof(msg), "503 console stopping\n");
        }
        else {
            worker_busy_msg(msg, sizeof(msg), secs);
        }
        struct MHD_Connection *conn = job->conn;
        if (worker_answer_503_locked(srv, job, msg) && n < max) {
            conns[n++] = conn;
        }
        pyhost__console_job_unref(srv, job);
    }
    pyhost__console_job_t *job = srv->running;
    if (job != NULL && job->state == PYHOST__JOB_RUNNING &&
        (all || job->deadline_ns <= now)) {
        if (all) {
            snprintf(msg, sizeof(msg), "503 console stopping\n");
        }
        else if (job->got_gil) {
            snprintf(msg, sizeof(msg),
                     "503 page too slow: still computing after %.1f s; "
                     "try a smaller page\n",
                     secs);
        }
        else {
            worker_busy_msg(msg, sizeof(msg), secs);
        }
        struct MHD_Connection *conn = job->conn;
        if (worker_answer_503_locked(srv, job, msg) && n < max) {
            conns[n++] = conn;
        }
    }
    return n;
}

static void *
worker_watchdog_main(void *arg)
{
    pyhost__console_server_t *srv = arg;
    struct MHD_Connection *conns[PYHOST__CONSOLE_QUEUE_MAX + 1];

    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping) {
        int64_t now = pyhost__monotonic_ns();
        int n = worker_expire_locked(srv, now, 0, conns,
                                     PYHOST__CONSOLE_QUEUE_MAX + 1);
        if (n > 0) {
            pthread_mutex_unlock(&srv->lock);
            for (int i = 0; i < n; i++) {
                MHD_resume_connection(conns[i]);
            }
            pthread_mutex_lock(&srv->lock);
            continue;
        }
        /* Sleep until the earliest deadline, or 1 s when nothing waits
         * (enqueue signals us anyway). */
        int64_t until = now + 1000000000;
        for (pyhost__console_job_t *j = srv->head; j; j = j->next) {
            if (j->deadline_ns < until) {
                until = j->deadline_ns;
            }
        }
        if (srv->running && srv->running->state == PYHOST__JOB_RUNNING &&
            srv->running->deadline_ns < until) {
            until = srv->running->deadline_ns;
        }
        worker_wait_until(srv, &srv->watch_cv, until);
    }
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

int
pyhost__console_threads_start(pyhost__console_server_t *srv)
{
    int rc = pthread_create(&srv->watchdog, NULL, worker_watchdog_main, srv);
    if (rc != 0) {
        return -rc;
    }
    rc = pthread_create(&srv->worker, NULL, worker_main, srv);
    if (rc != 0) {
        pthread_mutex_lock(&srv->lock);
        srv->stopping = 1;
        pthread_cond_broadcast(&srv->watch_cv);
        pthread_mutex_unlock(&srv->lock);
        pthread_join(srv->watchdog, NULL);
        return -rc;
    }
    srv->threads_started = 1;
    return 0;
}

void
pyhost__console_threads_stop(pyhost__console_server_t *srv)
{
    struct MHD_Connection *conns[PYHOST__CONSOLE_QUEUE_MAX + 1];
    pthread_mutex_lock(&srv->lock);
    srv->stopping = 1;
    int n =
        worker_expire_locked(srv, 0, 1, conns, PYHOST__CONSOLE_QUEUE_MAX + 1);
    pthread_cond_broadcast(&srv->work_cv);
    pthread_cond_broadcast(&srv->watch_cv);
    pthread_mutex_unlock(&srv->lock);
    for (int i = 0; i < n; i++) {
        MHD_resume_connection(conns[i]);
    }
    if (srv->threads_started) {
        pthread_join(srv->worker, NULL);
        pthread_join(srv->watchdog, NULL);
        srv->threads_started = 0;
    }
}
