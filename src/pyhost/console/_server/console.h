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

#include "strbuf.h"

#define CONSOLE_TOKEN_MAX 128     /* bytes of an access or CSRF token */
#define CONSOLE_MAX_ARGS 16       /* query arguments per request */
#define CONSOLE_ARG_KEY_MAX 64
#define CONSOLE_ARG_VALUE_MAX 512
#define CONSOLE_BODY_MAX 1024     /* POST bodies carry only the CSRF token */
#define CONSOLE_QUEUE_MAX 16      /* Python requests waiting for the worker */
#define CONSOLE_STALLS 64         /* stall history ring */
#define CONSOLE_PAGE_MAX (8u << 20) /* largest body a page may return */
#define CONSOLE_COOKIE "pyhost_console"

/* One request, from libmicrohttpd's first callback to its completion
 * callback.  refs counts the holders: the connection (dropped in the
 * completion callback) and the queue/worker while the job is pending.
 * next, refs, state, suspended, got_gil, conn, response and status are
 * protected by the server's lock.  The request fields (is_post, path, the
 * arguments, the body) are written by libmicrohttpd's thread before the job
 * is queued and only read after that. */
typedef enum {
    JOB_NEW = 0,    /* not queued (a C page, or a POST still reading) */
    JOB_QUEUED,     /* waiting for the worker */
    JOB_RUNNING,    /* the worker took it and is waiting for / holding GIL */
    JOB_ANSWERED,   /* response set; the connection was resumed */
} console_job_state;

typedef struct console_job {
    struct console_job *next;  /* queue link */
    int refs;
    console_job_state state;
    int suspended;             /* counted in server->suspended */
    int got_gil;               /* the worker holds the GIL for it */
    struct MHD_Connection *conn;
    int64_t deadline_ns;       /* monotonic */
    int is_post;
    char path[512];
    int nargs;
    char keys[CONSOLE_MAX_ARGS][CONSOLE_ARG_KEY_MAX];
    char values[CONSOLE_MAX_ARGS][CONSOLE_ARG_VALUE_MAX];
    int args_bad;              /* too many / too long / NUL in a value */
    char body[CONSOLE_BODY_MAX + 1];
    size_t body_len;
    int body_too_big;
    struct MHD_Response *response; /* owned until queued */
    unsigned int status;
} console_job;

typedef struct {
    int64_t when_wall_ns;  /* CLOCK_REALTIME at the start of the wait */
    int64_t wait_ns;
    int for_page;          /* 1: a page waited; 0: the idle probe */
} console_stall;

typedef struct console_server {
    /* Set by start() before the daemon and the threads start, read-only
     * while they run (daemon is cleared by stop() after they ended). */
    struct MHD_Daemon *daemon;
    int listen_fd;
    uint16_t port;
    char token[CONSOLE_TOKEN_MAX + 1];
    size_t token_len;
    char csrf[CONSOLE_TOKEN_MAX + 1];
    size_t csrf_len;
    char host[256];            /* the bound host as given (allowed Host) */
    int64_t deadline_ns;
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
    console_job *head, *tail;
    int queued;
    console_job *running;
    int suspended;
    int64_t gil_wait_since_ns;  /* monotonic; 0 when no GIL request waits */
    int gil_wait_for_page;
    int64_t last_wait_ns;
    int64_t max_wait_ns;
    uint64_t gil_requests;
    console_stall stalls[CONSOLE_STALLS];
    uint64_t nstalls;           /* total ever; ring index = nstalls % N */
    uint64_t served_c, served_py, answered_503, rejected_4xx, queue_full;
    int64_t next_sample_ns;
} console_server;

/* Clocks, in nanoseconds. */
int64_t pyhost__console_mono_ns(void);
int64_t pyhost__console_wall_ns(void);

/* httpd.c: start/stop the daemon (no GIL needed); 0 or -errno. */
int pyhost__console_httpd_start(console_server *srv, const char *host,
                                int port, int max_connections);
void pyhost__console_httpd_stop(console_server *srv);
/* Build a response with the console's security headers; NULL when out of
 * memory.  The body is copied. */
struct MHD_Response *pyhost__console_response(const char *ctype,
                                              const char *body, size_t n);
void pyhost__console_job_unref(console_server *srv, console_job *job);

/* worker.c: the GIL worker and the watchdog. */
int pyhost__console_threads_start(console_server *srv);
/* Answer every pending job with 503 and join both threads.  Call without
 * the GIL (the worker may be waiting for it). */
void pyhost__console_threads_stop(console_server *srv);
/* Queue a suspended job for the worker and take a reference: 1.  When the
 * queue is full or the console is stopping, answer the job 503 instead: 0,
 * and the caller resumes the connection.  Called without srv->lock, from
 * libmicrohttpd's thread. */
int pyhost__console_enqueue(console_server *srv, console_job *job);

/* nogil_pages.c: pages answered on libmicrohttpd's thread.  Return the
 * response's status and fill body/ctype, or 0 if path is not one of them. */
unsigned int pyhost__console_nogil_page(console_server *srv, const char *path,
                                        pyhost_sb_t *body,
                                        const char **ctype);
/* The navigation bar and page chrome shared with the Python pages. */
void pyhost__console_page_head(pyhost_sb_t *sb, const char *title);
void pyhost__console_page_foot(pyhost_sb_t *sb);
extern const char pyhost__console_css[];

#endif /* PYHOST_CONSOLE_H */
