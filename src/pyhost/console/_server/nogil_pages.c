/* SPDX-License-Identifier: MIT
 *
 * nogil_pages.c: the pages answered on libmicrohttpd's thread without the
 * GIL, so they answer in milliseconds whatever the interpreter is doing:
 * the process (from /proc) and the interpreter's responsiveness (from the
 * GIL worker's timings), each as HTML and as JSON under /api/, and the
 * style sheet.  Their HTML forms use the page shell of shell.c, the same
 * one the worker wraps around the Python pages.
 */
#include "console.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NOGIL_MAX_THREADS 256 /* rows on the process page */

/* Read a small /proc file into buf (NUL-terminated); length or -1. */
static ssize_t
nogil_read(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        return -1;
    }
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (ssize_t)n;
}

/* The value in kB of a "Name:   123 kB" line of /proc/self/status. */
static long
nogil_status_kb(const char *status, const char *name)
{
    const char *p = strstr(status, name);
    return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

typedef struct {
    int pid;
    double uptime_s;
    long rss_kb, hwm_kb, vm_kb, threads;
    int fds;
} nogil_proc_t;

static void
nogil_proc_read(nogil_proc_t *pi)
{
    char buf[4096];
    memset(pi, 0, sizeof(*pi));
    pi->pid = (int)getpid();
    pi->uptime_s = -1;
    pi->rss_kb = pi->hwm_kb = pi->vm_kb = pi->threads = -1;
    if (nogil_read("/proc/self/status", buf, sizeof(buf)) > 0) {
        pi->rss_kb = nogil_status_kb(buf, "VmRSS:");
        pi->hwm_kb = nogil_status_kb(buf, "VmHWM:");
        pi->vm_kb = nogil_status_kb(buf, "VmSize:");
        pi->threads = nogil_status_kb(buf, "Threads:");
    }
    /* Field 22 of /proc/self/stat is the start time in clock ticks after
     * boot; fields are counted after the ")" that ends the command name. */
    char up[128];
    if (nogil_read("/proc/self/stat", buf, sizeof(buf)) > 0 &&
        nogil_read("/proc/uptime", up, sizeof(up)) > 0) {
        const char *p = strrchr(buf, ')');
        for (int field = 2; p != NULL && field < 22; field++) {
            p = strchr(p + 1, ' ');
        }
        if (p != NULL) {
            double start = strtod(p + 1, NULL) / (double)sysconf(_SC_CLK_TCK);
            pi->uptime_s = strtod(up, NULL) - start;
        }
    }
    DIR *d = opendir("/proc/self/fd");
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            pi->fds += e->d_name[0] != '.';
        }
        closedir(d);
        pi->fds--; /* the directory stream's own fd */
    }
}

/* Call fn for each OS thread (tid, name), up to NOGIL_MAX_THREADS. */
static void
nogil_each_thread(void (*fn)(void *, const char *, const char *), void *arg)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL) {
        return;
    }
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL && n < NOGIL_MAX_THREADS) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[300], name[64];
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        if (nogil_read(path, name, sizeof(name)) < 0) {
            continue; /* the thread ended meanwhile */
        }
        name[strcspn(name, "\n")] = '\0';
        fn(arg, e->d_name, name);
        n++;
    }
    closedir(d);
}

static void
nogil_thread_html(void *arg, const char *tid, const char *name)
{
    pyhost__strbuf_t *sb = arg;
    pyhost__strbuf_printf(sb, "<tr><td class=\"num\">%s</td><td>", tid);
    pyhost__strbuf_html(sb, name, strlen(name));
    pyhost__strbuf_puts(sb, "</td></tr>\n");
}

static void
nogil_thread_json(void *arg, const char *tid, const char *name)
{
    pyhost__strbuf_t *sb = arg;
    if (sb->len > 0 && sb->data[sb->len - 1] != '[') {
        pyhost__strbuf_puts(sb, ",");
    }
    pyhost__strbuf_printf(sb, "{\"tid\":%s,\"name\":", tid);
    pyhost__strbuf_json(sb, name, strlen(name));
    pyhost__strbuf_puts(sb, "}");
}

/* A snapshot of the responsiveness counters, taken under srv->lock. */
typedef struct {
    int64_t waiting_ns; /* current GIL wait, 0 if none */
    int waiting_for_page;
    int64_t last_wait_ns, max_wait_ns;
    uint64_t requests, nstalls, served_c, served_py, answered_503;
    uint64_t rejected_4xx, queue_full;
    int queued, running;
    pyhost__console_stall_t stalls[PYHOST__CONSOLE_STALLS];
    int nshown;
} nogil_resp_t;

static void
nogil_resp_read(pyhost__console_server_t *srv, nogil_resp_t *r)
{
    int64_t now = pyhost__monotonic_ns();
    pthread_mutex_lock(&srv->lock);
    r->waiting_ns = srv->gil_wait_since_ns ? now - srv->gil_wait_since_ns : 0;
    r->waiting_for_page = srv->gil_wait_for_page;
    r->last_wait_ns = srv->last_wait_ns;
    r->max_wait_ns = srv->max_wait_ns;
    r->requests = srv->gil_requests;
    r->nstalls = srv->nstalls;
    r->served_c = srv->served_c;
    r->served_py = srv->served_py;
    r->answered_503 = srv->answered_503;
    r->rejected_4xx = srv->rejected_4xx;
    r->queue_full = srv->queue_full;
    r->queued = srv->queued;
    r->running = srv->running != NULL;
    r->nshown = srv->nstalls < PYHOST__CONSOLE_STALLS ? (int)srv->nstalls
                                                      : PYHOST__CONSOLE_STALLS;
    /* Newest first. */
    for (int i = 0; i < r->nshown; i++) {
        r->stalls[i] = srv->stalls[(srv->nstalls - 1 - (uint64_t)i) %
                                   PYHOST__CONSOLE_STALLS];
    }
    pthread_mutex_unlock(&srv->lock);
}

static void
nogil_utc(int64_t wall_ns, char *out, size_t size)
{
    time_t t = (time_t)(wall_ns / 1000000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, size - n, ".%03dZ",
             (int)(wall_ns % 1000000000 / 1000000));
}

static double
nogil_ms(int64_t ns)
{
    return (double)ns / 1e6;
}

static void
nogil_process_page(pyhost__console_server_t *srv, pyhost__strbuf_t *sb,
                   int json)
{
    nogil_proc_t pi;
    nogil_proc_read(&pi);
    double console_up =
        (double)(pyhost__monotonic_ns() - srv->started_mono_ns) / 1e9;
    if (json) {
        pyhost__strbuf_printf(
            sb,
            "{\"pid\":%d,\"uptime_s\":%.1f,\"rss_kb\":%ld,\"peak_rss_kb\":"
            "%ld,\"vm_kb\":%ld,\"threads\":%ld,\"open_fds\":%d,"
            "\"console_uptime_s\":%.1f,\"thread_list\":[",
            pi.pid, pi.uptime_s, pi.rss_kb, pi.hwm_kb, pi.vm_kb, pi.threads,
            pi.fds, console_up);
        nogil_each_thread(nogil_thread_json, sb);
        pyhost__strbuf_puts(sb, "]}\n");
        return;
    }
    pyhost__console_page_head(sb, "Process");
    pyhost__strbuf_printf(
        sb,
        "<p class=\"muted\">Read from /proc without the GIL: this page "
        "answers even while the interpreter is busy.</p>\n"
        "<table><tr><th>pid</th><td class=\"num\">%d</td></tr>\n"
        "<tr><th>uptime</th><td class=\"num\">%.1f s</td></tr>\n"
        "<tr><th>RSS</th><td class=\"num\">%ld kB</td></tr>\n"
        "<tr><th>peak RSS</th><td class=\"num\">%ld kB</td></tr>\n"
        "<tr><th>virtual size</th><td class=\"num\">%ld kB</td></tr>\n"
        "<tr><th>OS threads</th><td class=\"num\">%ld</td></tr>\n"
        "<tr><th>open fds</th><td class=\"num\">%d</td></tr>\n"
        "<tr><th>console up</th><td class=\"num\">%.1f s</td></tr>\n"
        "</table>\n<h2>OS threads</h2>\n<table id=\"threads\">"
        "<tr><th>tid</th><th>name</th></tr>\n",
        pi.pid, pi.uptime_s, pi.rss_kb, pi.hwm_kb, pi.vm_kb, pi.threads,
        pi.fds, console_up);
    nogil_each_thread(nogil_thread_html, sb);
    pyhost__strbuf_puts(sb, "</table>\n");
    pyhost__console_page_foot(sb);
}

/* The counters both forms of the responsiveness page show, in order. */
typedef struct {
    const char *key;   /* in the JSON */
    const char *label; /* on the HTML page */
    unsigned long long value;
} nogil_counter_t;

#define NOGIL_COUNTERS 9

static void
nogil_counters(const nogil_resp_t *r, nogil_counter_t out[NOGIL_COUNTERS])
{
    const nogil_counter_t c[NOGIL_COUNTERS] = {
        {"gil_requests", "GIL requests", r->requests},
        {"stalls_total", "stalls", r->nstalls},
        {"queued", "Python pages queued", (unsigned long long)r->queued},
        {"running", "Python pages running", (unsigned long long)r->running},
        {"served_c", "pages served from C", r->served_c},
        {"served_py", "pages served by Python", r->served_py},
        {"answered_503", "503: deadline passed or stopping", r->answered_503},
        {"queue_full", "503: queue full", r->queue_full},
        {"rejected_4xx", "requests refused (4xx)", r->rejected_4xx},
    };
    memcpy(out, c, sizeof(c));
}

static void
nogil_responsiveness_page(pyhost__console_server_t *srv, pyhost__strbuf_t *sb,
                          int json)
{
    nogil_resp_t r;
    nogil_counter_t counters[NOGIL_COUNTERS];
    char when[64];
    nogil_resp_read(srv, &r);
    nogil_counters(&r, counters);
    if (json) {
        pyhost__strbuf_printf(
            sb,
            "{\"gil_waiting_ms\":%.3f,\"gil_waiting_for\":\"%s\","
            "\"last_wait_ms\":%.3f,\"max_wait_ms\":%.3f,"
            "\"stall_threshold_ms\":%.1f,\"deadline_ms\":%.1f,"
            "\"probe_interval_ms\":%.1f",
            nogil_ms(r.waiting_ns),
            r.waiting_ns ? (r.waiting_for_page ? "page" : "probe") : "",
            nogil_ms(r.last_wait_ns), nogil_ms(r.max_wait_ns),
            nogil_ms(srv->stall_threshold_ns), nogil_ms(srv->page_timeout_ns),
            nogil_ms(srv->probe_interval_ns));
        for (int i = 0; i < NOGIL_COUNTERS; i++) {
            pyhost__strbuf_printf(sb, ",\"%s\":%llu", counters[i].key,
                                  counters[i].value);
        }
        pyhost__strbuf_puts(sb, ",\"stalls\":[");
        for (int i = 0; i < r.nshown; i++) {
            nogil_utc(r.stalls[i].when_wall_ns, when, sizeof(when));
            pyhost__strbuf_printf(sb,
                                  "%s{\"at\":\"%s\",\"wait_ms\":%.3f,\"for\":"
                                  "\"%s\"}",
                                  i ? "," : "", when,
                                  nogil_ms(r.stalls[i].wait_ns),
                                  r.stalls[i].for_page ? "page" : "probe");
        }
        pyhost__strbuf_puts(sb, "]}\n");
        return;
    }
    pyhost__console_page_head(sb, "Responsiveness");
    if (r.waiting_ns >= srv->stall_threshold_ns) {
        pyhost__strbuf_printf(
            sb,
            "<p class=\"note bad\" id=\"gil-now\">Interpreter "
            "busy: a GIL request (%s) has waited %.0f ms so "
            "far.</p>\n",
            r.waiting_for_page ? "page" : "probe", nogil_ms(r.waiting_ns));
    }
    else {
        pyhost__strbuf_puts(sb,
                            "<p class=\"ok\" id=\"gil-now\">Interpreter "
                            "responsive: no GIL request is stalled.</p>\n");
    }
    pyhost__strbuf_printf(
        sb,
        "<p class=\"muted\">The console's GIL worker asks for the GIL every "
        "%.0f ms when idle and for every Python page; each wait of %.0f ms "
        "or more is a stall.  Python pages answer 503 after %.0f ms.  This "
        "page needs no GIL.</p>\n"
        "<table><tr><th>last GIL wait</th><td class=\"num\">%.2f ms</td></tr>"
        "\n<tr><th>longest GIL wait</th><td class=\"num\">%.2f ms</td></tr>"
        "\n",
        nogil_ms(srv->probe_interval_ns), nogil_ms(srv->stall_threshold_ns),
        nogil_ms(srv->page_timeout_ns), nogil_ms(r.last_wait_ns),
        nogil_ms(r.max_wait_ns));
    for (int i = 0; i < NOGIL_COUNTERS; i++) {
        pyhost__strbuf_printf(
            sb, "<tr><th>%s</th><td class=\"num\">%llu</td></tr>\n",
            counters[i].label, counters[i].value);
    }
    pyhost__strbuf_puts(sb, "</table>\n<h2>Stalls, newest first</h2>\n"
                            "<table id=\"stalls\"><tr><th>began (UTC)</th>"
                            "<th>GIL wait</th><th>while</th></tr>\n");
    for (int i = 0; i < r.nshown; i++) {
        nogil_utc(r.stalls[i].when_wall_ns, when, sizeof(when));
        pyhost__strbuf_printf(sb,
                              "<tr><td>%s</td><td class=\"num\">%.1f ms</td>"
                              "<td>%s</td></tr>\n",
                              when, nogil_ms(r.stalls[i].wait_ns),
                              r.stalls[i].for_page ? "a page" : "idle probe");
    }
    if (r.nshown == 0) {
        pyhost__strbuf_puts(sb, "<tr><td colspan=\"3\" class=\"muted\">none "
                                "yet</td></tr>\n");
    }
    pyhost__strbuf_puts(sb, "</table>\n");
    pyhost__console_page_foot(sb);
}

unsigned int
pyhost__console_nogil_page(pyhost__console_server_t *srv, const char *path,
                           pyhost__strbuf_t *body, const char **ctype)
{
    static const char html[] = "text/html; charset=utf-8";
    static const char json[] = "application/json";
    if (strcmp(path, "/static/console.css") == 0) {
        *ctype = "text/css; charset=utf-8";
        pyhost__strbuf_puts(body, pyhost__console_css);
        return 200;
    }
    if (strcmp(path, "/process") == 0 || strcmp(path, "/api/process") == 0) {
        int is_json = path[1] == 'a';
        *ctype = is_json ? json : html;
        nogil_process_page(srv, body, is_json);
        return 200;
    }
    if (strcmp(path, "/responsiveness") == 0 ||
        strcmp(path, "/api/responsiveness") == 0) {
        int is_json = path[1] == 'a';
        *ctype = is_json ? json : html;
        nogil_responsiveness_page(srv, body, is_json);
        return 200;
    }
    if (strcmp(path, "/favicon.ico") == 0) {
        *ctype = "text/plain; charset=utf-8";
        pyhost__strbuf_puts(body, "404 no icon\n");
        return 404;
    }
    return 0;
}
