/* SPDX-License-Identifier: MIT
 *
 * console.h: what the console's C files share.  The design (see
 * docs/console.md): libmicrohttpd's one polling thread parses requests and
 * answers the pages that need no GIL itself; a request that needs Python is
 * suspended and queued for ONE GIL worker thread; a watchdog thread answers
 * 503 for any queued or running request past its deadline, so no page hangs
 * while the interpreter is busy.  The worker also probes the GIL when idle,
 * which is how the responsiveness page knows how long the GIL has been
 * unavailable.
 */
#ifndef PYHOST_CONSOLE_H
#define PYHOST_CONSOLE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

#include "clock.h"
#include "strbuf.h"

/* Bytes of an access or CSRF token. */
#define PYHOST__CONSOLE_TOKEN_MAX 128
/* Query arguments per request, and the longest key and value. */
#define PYHOST__CONSOLE_MAX_ARGS 16
#define PYHOST__CONSOLE_ARG_KEY_MAX 64
#define PYHOST__CONSOLE_ARG_VALUE_MAX 512
/* POST bodies carry only the CSRF token. */
#define PYHOST__CONSOLE_BODY_MAX 1024
/* Python requests waiting for the worker. */
#define PYHOST__CONSOLE_QUEUE_MAX 16
/* Entries in the stall history ring. */
#define PYHOST__CONSOLE_STALLS 64
/* The largest body a page may return. */
#define PYHOST__CONSOLE_PAGE_MAX (8u << 20)
#define PYHOST__CONSOLE_COOKIE "pyhost_console"

/* One request, from libmicrohttpd's first callback to its completion
 * callback.  refs counts the holders: the connection (dropped in the
 * completion callback) and the queue/worker while the job is pending.
 * next, refs, state, suspended, got_gil, conn, response and status are
 * protected by the server's lock.  The request fields (is_post, path, the
 * arguments, the body) are written by libmicrohttpd's thread before the job
 * is queued and only read after that. */
typedef enum {
    /* Not queued (a C page, or a POST still reading its body). */
    PYHOST__JOB_NEW = 0,
    /* Waiting for the worker. */
    PYHOST__JOB_QUEUED,
    /* The worker took it and is waiting for, or holding, the GIL. */
    PYHOST__JOB_RUNNING,
    /* Response set; the connection was resumed. */
    PYHOST__JOB_ANSWERED,
} pyhost__console_job_state_t;

typedef struct pyhost__console_job {
    struct pyhost__console_job *next; /* queue link */
    int refs;
    pyhost__console_job_state_t state;
    int suspended; /* counted in server->suspended */
    int got_gil;   /* the worker holds the GIL for it */
    struct MHD_Connection *conn;
    int64_t deadline_ns; /* monotonic */
    int is_post;
    char path[512];
    int nargs;
    char keys[PYHOST__CONSOLE_MAX_ARGS][PYHOST__CONSOLE_ARG_KEY_MAX];
    char values[PYHOST__CONSOLE_MAX_ARGS][PYHOST__CONSOLE_ARG_VALUE_MAX];
    int args_bad; /* too many / too long / NUL in a value */
    char body[PYHOST__CONSOLE_BODY_MAX + 1];
    size_t body_len;
    int body_too_big;
    struct MHD_Response *response; /* owned until queued */
    unsigned int status;
} pyhost__console_job_t;

typedef struct {
    int64_t when_wall_ns; /* CLOCK_REALTIME at the start of the wait */
    int64_t wait_ns;
    int for_page; /* 1: a page waited; 0: the idle probe */
} pyhost__console_stall_t;

typedef struct pyhost__console_server {
    /* Set by start() before the daemon and the threads start, read-only
     * while they run (daemon is cleared by stop() after they ended). */
    struct MHD_Daemon *daemon;
    int listen_fd;
    uint16_t port;
    char token[PYHOST__CONSOLE_TOKEN_MAX + 1];
    size_t token_len;
    char csrf[PYHOST__CONSOLE_TOKEN_MAX + 1];
    size_t csrf_len;
    char host[256];          /* the bound host as given (allowed Host) */
    int64_t page_timeout_ns; /* how long a Python page may take */
    int64_t probe_interval_ns;
    int64_t sample_interval_ns; /* 0: no sampler */
    int64_t stall_threshold_ns;
    int64_t started_mono_ns;
    int64_t started_wall_ns;

    /* Owned strong references, touched only with the GIL held (by the
     * worker, or by start/stop). */
    PyObject *handler;
    PyObject *sampler;

    /* Touched only by start() and stop(), under the GIL. */
    pthread_t worker;
    pthread_t watchdog;
    int threads_started;

    pthread_mutex_t lock;
    /* Everything below is protected by lock. */
    pthread_cond_t work_cv;
    pthread_cond_t watch_cv;
    int stopping;
    pyhost__console_job_t *head, *tail;
    int queued;
    pyhost__console_job_t *running;
    int suspended;
    int64_t gil_wait_since_ns; /* monotonic; 0 when no GIL request waits */
    int gil_wait_for_page;
    int64_t last_wait_ns;
    int64_t max_wait_ns;
    uint64_t gil_requests;
    pyhost__console_stall_t stalls[PYHOST__CONSOLE_STALLS];
    uint64_t nstalls; /* total ever; ring index = nstalls % N */
    uint64_t served_c, served_py, answered_503, rejected_4xx, queue_full;
    int64_t next_sample_ns;
} pyhost__console_server_t;

/* httpd.c: start/stop the daemon (no GIL needed); 0 or -errno. */
int pyhost__console_httpd_start(pyhost__console_server_t *srv,
                                const char *host, int port,
                                int max_connections);
void pyhost__console_httpd_stop(pyhost__console_server_t *srv);
/* Build a response with the console's security headers; NULL when out of
 * memory.  The body is copied. */
struct MHD_Response *pyhost__console_response(const char *ctype,
                                              const char *body, size_t n);
void pyhost__console_job_unref(pyhost__console_server_t *srv,
                               pyhost__console_job_t *job);

/* worker.c: the GIL worker and the watchdog. */
int pyhost__console_threads_start(pyhost__console_server_t *srv);
/* Answer every pending job with 503 and join both threads.  Call without
 * the GIL (the worker may be waiting for it). */
void pyhost__console_threads_stop(pyhost__console_server_t *srv);
/* Queue a suspended job for the worker and take a reference: 1.  When the
 * queue is full or the console is stopping, answer the job 503 instead: 0,
 * and the caller resumes the connection.  Called without srv->lock, from
 * libmicrohttpd's thread. */
int pyhost__console_enqueue(pyhost__console_server_t *srv,
                            pyhost__console_job_t *job);

/* nogil_pages.c: pages answered on libmicrohttpd's thread.  Return the
 * response's status and fill body/ctype, or 0 if path is not one of them. */
unsigned int pyhost__console_nogil_page(pyhost__console_server_t *srv,
                                        const char *path,
                                        pyhost__strbuf_t *body,
                                        const char **ctype);

/* shell.c: the ONE page shell.  Every HTML page, the no-GIL pages here and
 * the Python pages the worker wraps, is page_head(title), its body, then
 * page_foot().  title is escaped.  No GIL needed. */
void pyhost__console_page_head(pyhost__strbuf_t *sb, const char *title);
void pyhost__console_page_foot(pyhost__strbuf_t *sb);
/* The style sheet at /static/console.css. */
extern const char pyhost__console_css[];

#endif /* PYHOST_CONSOLE_H */
