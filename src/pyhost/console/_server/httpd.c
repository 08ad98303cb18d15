/* SPDX-License-Identifier: MIT
 *
 * httpd.c: the libmicrohttpd glue.  Runs on libmicrohttpd's one polling
 * thread and never takes the GIL: every request is checked here (method,
 * path, size, Host allow-list, access token, CSRF token for POST), the pages
 * that need no GIL are answered at once, and a request that needs Python is
 * suspended and queued for the GIL worker (worker.c), which resumes it when
 * its answer (or the watchdog's 503) is ready.
 */
#include "console.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* No scripts run on any page; styles come from /static/console.css and the
 * sparklines are inline SVG elements, which need no style-src. */
static const char httpd_csp[] =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

struct MHD_Response *
pyhost__console_response(const char *ctype, const char *body, size_t n)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        n, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return NULL;
    }
    if (MHD_add_response_header(r, "Content-Type", ctype) != MHD_YES ||
        MHD_add_response_header(r, "Content-Security-Policy", httpd_csp) !=
            MHD_YES ||
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff") !=
            MHD_YES ||
        MHD_add_response_header(r, "X-Frame-Options", "DENY") != MHD_YES ||
        /* same-origin, not no-referrer: with no-referrer browsers send
         * "Origin: null" on our own form POSTs, which the CSRF check
         * refuses. */
        MHD_add_response_header(r, "Referrer-Policy", "same-origin") !=
            MHD_YES ||
        MHD_add_response_header(r, "Cache-Control", "no-store") != MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

/* Queue a response built from body and give up our reference. */
static enum MHD_Result
httpd_send(struct MHD_Connection *conn, unsigned int status, const char *ctype,
           const char *body, size_t n, const char *cookie,
           const char *location)
{
    struct MHD_Response *r = pyhost__console_response(ctype, body, n);
    if (r == NULL) {
        return MHD_NO;
    }
    if ((cookie != NULL &&
         MHD_add_response_header(r, "Set-Cookie", cookie) != MHD_YES) ||
        (location != NULL &&
         MHD_add_response_header(r, "Location", location) != MHD_YES)) {
        MHD_destroy_response(r);
        return MHD_NO;
    }
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* A short plain-text error page: names what was wrong, nothing more (no
 * version banner, no traceback). */
static enum MHD_Result
httpd_error(pyhost__console_server_t *srv, struct MHD_Connection *conn,
            unsigned int status, const char *msg)
{
    pthread_mutex_lock(&srv->lock);
    srv->rejected_4xx += (status >= 400 && status < 500);
    pthread_mutex_unlock(&srv->lock);
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "%u %s\n", status, msg);
    return httpd_send(conn, status, "text/plain; charset=utf-8", buf,
                      (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1,
                      NULL, NULL);
}

/* Compare a secret in time that depends only on the expected length. */
static int
httpd_secret_equal(const char *given, size_t given_len, const char *want,
                   size_t want_len)
{
    unsigned char acc = (unsigned char)(given_len != want_len);
    for (size_t i = 0; i < want_len; i++) {
        unsigned char g = i < given_len ? (unsigned char)given[i] : 0;
        acc |= (unsigned char)(g ^ (unsigned char)want[i]);
    }
    return acc == 0;
}

/* Is name (without port) one of the names this console answers to?  The
 * allow-list is what stops DNS rebinding: a page on evil.example that
 * resolves to 127.0.0.1 still sends Host: evil.example. */
static int
httpd_name_allowed(pyhost__console_server_t *srv, const char *name, size_t n)
{
    static const char *const fixed[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (strlen(fixed[i]) == n && strncasecmp(fixed[i], name, n) == 0) {
            return 1;
        }
    }
    size_t hl = strlen(srv->host);
    if (hl == 0 || strcmp(srv->host, "0.0.0.0") == 0 ||
        strcmp(srv->host, "::") == 0) {
        return 0;
    }
    if (strchr(srv->host, ':') != NULL) { /* IPv6: Host has brackets */
        return n == hl + 2 && name[0] == '[' && name[n - 1] == ']' &&
               strncasecmp(name + 1, srv->host, hl) == 0;
    }
    return hl == n && strncasecmp(srv->host, name, n) == 0;
}

/* Check "name[:port]" (a Host header, or an Origin without its scheme). */
static int
httpd_hostport_allowed(pyhost__console_server_t *srv, const char *hp)
{
    size_t n = strlen(hp);
    const char *colon = NULL;
    const char *bracket = strrchr(hp, ']');
    const char *last = strrchr(hp, ':');
    if (last != NULL && (bracket == NULL || last > bracket)) {
        colon = last;
    }
    size_t name_len = colon ? (size_t)(colon - hp) : n;
    if (colon != NULL) {
        char *end;
        errno = 0;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (colon[1] == '\0' || *end != '\0' || errno != 0 ||
            port != srv->port) {
            return 0;
        }
    }
    else if (srv->port != 80) {
        return 0;
    }
    return httpd_name_allowed(srv, hp, name_len);
}

/* Is every segment of the decoded path free of "." and ".." and of
 * backslashes?  There are no files behind the console, but a path that
 * tries to climb is refused by name rather than answered 404. */
static int
httpd_path_ok(const char *url)
{
    if (url[0] != '/' || strchr(url, '\\') != NULL) {
        return 0;
    }
    const char *seg = url + 1;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if ((len == 1 && seg[0] == '.') ||
            (len == 2 && seg[0] == '.' && seg[1] == '.')) {
            return 0;
        }
        if (end == NULL) {
            return 1;
        }
        seg = end + 1;
    }
}

static enum MHD_Result
httpd_collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                  size_t key_size, const char *value, size_t value_size)
{
    pyhost__console_job_t *job = cls;
    (void)kind;
    if (key_size == 5 && memcmp(key, "token", 5) == 0) {
        return MHD_YES; /* the secret is never handed to Python */
    }
    if (value == NULL) {
        value = "";
        value_size = 0;
    }
    if (job->nargs >= PYHOST__CONSOLE_MAX_ARGS ||
        key_size >= PYHOST__CONSOLE_ARG_KEY_MAX ||
        value_size >= PYHOST__CONSOLE_ARG_VALUE_MAX ||
        memchr(key, '\0', key_size) != NULL ||
        memchr(value, '\0', value_size) != NULL) {
        job->args_bad = 1;
        return MHD_NO;
    }
    memcpy(job->keys[job->nargs], key, key_size);
    job->keys[job->nargs][key_size] = '\0';
    memcpy(job->values[job->nargs], value, value_size);
    job->values[job->nargs][value_size] = '\0';
    job->nargs++;
    return MHD_YES;
}

void
pyhost__console_job_unref(pyhost__console_server_t *srv,
                          pyhost__console_job_t *job)
{
    (void)srv; /* caller holds srv->lock */
    if (--job->refs > 0) {
        return;
    }
    if (job->response != NULL) {
        MHD_destroy_response(job->response);
    }
    free(job);
}

/* Find the access token the client presented, from ?token=, the cookie, or
 * an "Authorization: Bearer" header, in that order.  *from_query says
 * whether it came from the URL (then we set the cookie and redirect). */
static const char *
httpd_presented_token(struct MHD_Connection *conn, int *from_query)
{
    *from_query = 0;
    const char *t =
        MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token");
    if (t != NULL) {
        *from_query = 1;
        return t;
    }
    t = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND,
                                    PYHOST__CONSOLE_COOKIE);
    if (t != NULL) {
        return t;
    }
    t = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    if (t != NULL && strncasecmp(t, "Bearer ", 7) == 0) {
        return t + 7;
    }
    return NULL;
}

/* A POST must come from our own pages: Origin (when sent) names this
 * console, Sec-Fetch-Site (when sent) says same-origin, and the body or the
 * X-CSRF-Token header carries the CSRF token.  Returns NULL when the
 * request passes, else the reason. */
static const char *
httpd_csrf_problem(pyhost__console_server_t *srv, pyhost__console_job_t *job)
{
    const char *origin =
        MHD_lookup_connection_value(job->conn, MHD_HEADER_KIND, "Origin");
    if (origin != NULL) {
        if (strncmp(origin, "http://", 7) != 0 ||
            !httpd_hostport_allowed(srv, origin + 7)) {
            return "cross-origin POST refused";
        }
    }
    const char *site = MHD_lookup_connection_value(job->conn, MHD_HEADER_KIND,
                                                   "Sec-Fetch-Site");
    if (site != NULL && strcmp(site, "same-origin") != 0 &&
        strcmp(site, "none") != 0) {
        return "cross-site POST refused";
    }
    const char *given = MHD_lookup_connection_value(job->conn, MHD_HEADER_KIND,
                                                    "X-CSRF-Token");
    size_t given_len = given ? strlen(given) : 0;
    if (given == NULL) {
        /* The body is a form: look for csrf=VALUE; the token is URL-safe
         * so it needs no decoding. */
        const char *p = job->body;
        while (p != NULL && *p != '\0') {
            if (strncmp(p, "csrf=", 5) == 0) {
                given = p + 5;
                const char *amp = strchr(given, '&');
                given_len = amp ? (size_t)(amp - given) : strlen(given);
                break;
            }
            p = strchr(p, '&');
            p = p ? p + 1 : NULL;
        }
    }
    if (given == NULL) {
        return "missing CSRF token";
    }
    if (!httpd_secret_equal(given, given_len, srv->csrf, srv->csrf_len)) {
        return "wrong CSRF token";
    }
    return NULL;
}

static enum MHD_Result
httpd_dispatch(pyhost__console_server_t *srv, pyhost__console_job_t *job)
{
    struct MHD_Connection *conn = job->conn;
    if (!job->is_post) {
        pyhost__strbuf_t body;
        const char *ctype = NULL;
        pyhost__strbuf_init(&body, PYHOST__CONSOLE_PAGE_MAX);
        unsigned int status =
            pyhost__console_nogil_page(srv, job->path, &body, &ctype);
        if (status != 0) {
            enum MHD_Result ret =
                pyhost__strbuf_failed(&body)
                    ? MHD_NO
                    : httpd_send(conn, status, ctype, body.data, body.len,
                                 NULL, NULL);
            pyhost__strbuf_free(&body);
            pthread_mutex_lock(&srv->lock);
            srv->served_c++;
            pthread_mutex_unlock(&srv->lock);
            return ret;
        }
    }
    /* A Python page.  Suspend first, then queue: the worker may answer and
     * resume the connection before this callback returns, and a resume must
     * never come before its suspend.  When the queue is full or the console
     * is stopping, enqueue answers 503 at once and we resume right away. */
    MHD_suspend_connection(conn);
    job->deadline_ns = pyhost__monotonic_ns() + srv->page_timeout_ns;
    if (!pyhost__console_enqueue(srv, job)) {
        MHD_resume_connection(conn);
    }
    return MHD_YES;
}

static enum MHD_Result
httpd_access(void *cls, struct MHD_Connection *conn, const char *url,
             const char *method, const char *version, const char *upload_data,
             size_t *upload_data_size, void **con_cls)
{
    pyhost__console_server_t *srv = cls;
    pyhost__console_job_t *job = *con_cls;
    (void)version;

    if (job != NULL) {
        pthread_mutex_lock(&srv->lock);
        pyhost__console_job_state_t state = job->state;
        struct MHD_Response *r = NULL;
        if (state == PYHOST__JOB_ANSWERED) {
            /* Resumed by the worker or the watchdog: take its answer. */
            if (job->suspended) {
                job->suspended = 0;
                srv->suspended--;
            }
            r = job->response;
            job->response = NULL;
        }
        pthread_mutex_unlock(&srv->lock);
        if (state == PYHOST__JOB_ANSWERED) {
            if (r == NULL) {
                return MHD_NO;
            }
            enum MHD_Result ret = MHD_queue_response(conn, job->status, r);
            MHD_destroy_response(r);
            return ret;
        }
        if (*upload_data_size != 0) {
            /* More of a POST body: keep what fits, remember if not. */
            size_t n = *upload_data_size;
            if (job->body_len + n > PYHOST__CONSOLE_BODY_MAX) {
                job->body_too_big = 1;
            }
            else {
                memcpy(job->body + job->body_len, upload_data, n);
                job->body_len += n;
                job->body[job->body_len] = '\0';
            }
            *upload_data_size = 0;
            return MHD_YES;
        }
        if (state != PYHOST__JOB_NEW) {
            return MHD_YES; /* a spurious call while queued */
        }
        if (job->body_too_big) {
            return httpd_error(srv, conn, MHD_HTTP_CONTENT_TOO_LARGE,
                               "request body too large");
        }
        const char *why = httpd_csrf_problem(srv, job);
        if (why != NULL) {
            return httpd_error(srv, conn, MHD_HTTP_FORBIDDEN, why);
        }
        return httpd_dispatch(srv, job);
    }

    /* First call: everything but the body is here.  Check it all before
     * allocating anything. */
    int is_post = strcmp(method, "POST") == 0;
    if (!is_post && strcmp(method, "GET") != 0 &&
        strcmp(method, "HEAD") != 0) {
        return httpd_error(srv, conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                           "method not allowed");
    }
    const char *host =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
    if (host == NULL || !httpd_hostport_allowed(srv, host)) {
        return httpd_error(srv, conn, MHD_HTTP_MISDIRECTED_REQUEST,
                           "Host header not allowed (use 127.0.0.1, "
                           "localhost or the configured host and port)");
    }
    int from_query;
    const char *tok = httpd_presented_token(conn, &from_query);
    if (tok == NULL) {
        return httpd_error(srv, conn, MHD_HTTP_UNAUTHORIZED,
                           "access token required: open the URL printed "
                           "when the console started");
    }
    if (!httpd_secret_equal(tok, strlen(tok), srv->token, srv->token_len)) {
        return httpd_error(srv, conn, MHD_HTTP_FORBIDDEN,
                           "wrong access token");
    }
    if (strlen(url) >= sizeof(job->path) || !httpd_path_ok(url)) {
        return httpd_error(srv, conn, MHD_HTTP_BAD_REQUEST,
                           "bad path (too long, or . / .. segments)");
    }
    if (is_post) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "Content-Length");
        if (cl != NULL && strtoull(cl, NULL, 10) > PYHOST__CONSOLE_BODY_MAX) {
            return httpd_error(srv, conn, MHD_HTTP_CONTENT_TOO_LARGE,
                               "request body too large");
        }
    }
    if (from_query && !is_post && strncmp(url, "/api/", 5) != 0) {
        /* Trade the token in the URL for a cookie, and drop it from the
         * address bar (and from history and Referer). */
        char cookie[PYHOST__CONSOLE_TOKEN_MAX + 80];
        snprintf(cookie, sizeof(cookie),
                 PYHOST__CONSOLE_COOKIE
                 "=%s; Path=/; HttpOnly; SameSite=Strict",
                 srv->token);
        /* Only a plain local path goes back into Location: "//host/x"
         * would be a redirect to another site. */
        const char *loc = url[1] == '/' ? "/" : url;
        for (const char *p = loc; *p; p++) {
            if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
                  ('0' <= *p && *p <= '9') || *p == '/' || *p == '_' ||
                  *p == '-' || *p == '.')) {
                loc = "/";
                break;
            }
        }
        static const char msg[] = "signed in; continue to the console\n";
        return httpd_send(conn, MHD_HTTP_SEE_OTHER,
                          "text/plain; charset=utf-8", msg, sizeof(msg) - 1,
                          cookie, loc);
    }

    job = calloc(1, sizeof(*job));
    if (job == NULL) {
        return MHD_NO;
    }
    job->refs = 1; /* the connection's; dropped in httpd_completed */
    job->conn = conn;
    job->is_post = is_post;
    strcpy(job->path, url);
    MHD_get_connection_values_n(conn, MHD_GET_ARGUMENT_KIND, httpd_collect_arg,
                                job);
    *con_cls = job;
    if (job->args_bad) {
        return httpd_error(srv, conn, MHD_HTTP_BAD_REQUEST,
                           "too many or too long query arguments");
    }
    if (is_post) {
        return MHD_YES; /* wait for the body, then check the CSRF token */
    }
    return httpd_dispatch(srv, job);
}

static void
httpd_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                enum MHD_RequestTerminationCode toe)
{
    pyhost__console_server_t *srv = cls;
    pyhost__console_job_t *job = *con_cls;
    (void)conn;
    (void)toe;
    if (job == NULL) {
        return;
    }
    *con_cls = NULL;
    pthread_mutex_lock(&srv->lock);
    if (job->suspended) {
        job->suspended = 0;
        srv->suspended--;
    }
    job->conn = NULL;
    pyhost__console_job_unref(srv, job);
    pthread_mutex_unlock(&srv->lock);
}

/* Parse host into a socket address: numeric IPv4 or IPv6, or "localhost".
 * Names are not resolved (no DNS on the way to a debug port). */
static int
httpd_parse_addr(const char *host, int port, struct sockaddr_storage *ss,
                 int *is_v6)
{
    memset(ss, 0, sizeof(*ss));
    if (strcmp(host, "localhost") == 0) {
        host = "127.0.0.1";
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *is_v6 = 0;
        return 0;
    }
    if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *is_v6 = 1;
        return 0;
    }
    return -EINVAL;
}

int
pyhost__console_httpd_start(pyhost__console_server_t *srv, const char *host,
                            int port, int max_connections)
{
    struct sockaddr_storage ss;
    int is_v6;
    int rc = httpd_parse_addr(host, port, &ss, &is_v6);
    if (rc < 0) {
        return rc;
    }
    unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                         MHD_ALLOW_SUSPEND_RESUME;
    if (is_v6) {
        flags |= MHD_USE_IPv6;
    }
    errno = 0;
    srv->daemon = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, httpd_access, srv,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_NOTIFY_COMPLETED, httpd_completed, srv,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)max_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
        /* Request line + headers must fit in this per-connection pool:
         * larger ones get 414 / 431 from libmicrohttpd itself. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
        MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_END);
    if (srv->daemon == NULL) {
        return errno ? -errno : -EADDRINUSE;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : (uint16_t)port;
    info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_LISTEN_FD);
    srv->listen_fd = info ? info->listen_fd : -1;
    return 0;
}

/* Stop the daemon.  The worker and watchdog are already joined and every
 * job answered; wait (bounded) until libmicrohttpd has taken back each
 * resumed connection, since it must not stop with suspended ones. */
void
pyhost__console_httpd_stop(pyhost__console_server_t *srv)
{
    if (srv->daemon == NULL) {
        return;
    }
    for (int i = 0; i < 400; i++) {
        pthread_mutex_lock(&srv->lock);
        int left = srv->suspended;
        pthread_mutex_unlock(&srv->lock);
        if (left == 0) {
            break;
        }
        usleep(5000);
    }
    MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
}
