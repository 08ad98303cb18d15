// SPDX-License-Identifier: MIT
//
// echo_client: the load generator every echo server is measured with.  One
// thread, epoll, a closed loop per connection: send one message, read back
// exactly as many bytes, repeat.  It warms up, then counts round trips over
// a fixed window and, when given the server's pid, reads the server's CPU
// time (utime + stime from /proc/PID/stat) at both ends of that window, so
// the CPU cost per round trip covers exactly the measured traffic.
//
// Usage: echo_client PORT CONNS SIZE SECONDS [SERVER_PID]
// Prints one line: "rt=N secs=S cpu_us=U" (cpu_us is -1 without a pid).
// Exits 1 with a message on stderr on any socket error, so a broken server
// never looks like a slow one.

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// One connection's place in its round trip: bytes of the current message
// already sent and already echoed back.
typedef struct {
    int fd;
    size_t sent;
    size_t received;
    int want_out; // registered for EPOLLOUT (a send was short)
} client_conn_t;

static double
client_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// Return the CPU time (user + system) of process PID in microseconds, or -1
// when it cannot be read.
static long long
client_cpu_us(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return -1;
    }
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    // The command name may hold spaces: fields resume after the last ')'.
    char *p = strrchr(buf, ')');
    if (p == NULL) {
        return -1;
    }
    unsigned long long utime = 0, stime = 0;
    // Fields after ')': 3 state ... 14 utime, 15 stime.
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
               &utime, &stime) != 2) {
        return -1;
    }
    long hz = sysconf(_SC_CLK_TCK);
    return (long long)((utime + stime) * 1000000ULL / (unsigned long long)hz);
}

static void
client_die(const char *what)
{
    fprintf(stderr, "echo_client: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int
client_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        client_die("socket");
    }
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        client_die("connect");
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

// Send what is left of the current message; register for EPOLLOUT when the
// socket buffer is full.  Returns 0, or exits on error.
static void
client_push(int ep, client_conn_t *c, const char *msg, size_t size)
{
    while (c->sent < size) {
        ssize_t n = send(c->fd, msg + c->sent, size - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) {
                break;
            }
            client_die("send");
        }
        c->sent += (size_t)n;
    }
    int want_out = c->sent < size;
    if (want_out != c->want_out) {
        struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0),
                                 .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
            client_die("epoll_ctl");
        }
        c->want_out = want_out;
    }
}

int
main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr,
                "usage: echo_client PORT CONNS SIZE SECONDS [SERVER_PID]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    int nconns = atoi(argv[2]);
    size_t size = (size_t)atol(argv[3]);
    double seconds = atof(argv[4]);
    long pid = argc > 5 ? atol(argv[5]) : 0;
    if (port <= 0 || nconns <= 0 || size == 0 || seconds <= 0) {
        fprintf(stderr, "echo_client: bad arguments\n");
        return 2;
    }
    // Warm-up: a fifth of the window, at least 0.2 s (JITs, caches, the
    // server's first accepts and allocations stay out of the numbers).
    double warmup = seconds / 5 > 0.2 ? seconds / 5 : 0.2;

    char *msg = malloc(size);
    char *buf = malloc(size);
    client_conn_t *conns = calloc((size_t)nconns, sizeof(*conns));
    struct epoll_event *events = calloc((size_t)nconns, sizeof(*events));
    if (!msg || !buf || !conns || !events) {
        client_die("malloc");
    }
    memset(msg, 'x', size);
    int ep = epoll_create1(0);
    if (ep < 0) {
        client_die("epoll_create1");
    }
    for (int i = 0; i < nconns; i++) {
        conns[i].fd = client_connect(port);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) < 0) {
            client_die("epoll_ctl");
        }
    }
    for (int i = 0; i < nconns; i++) {
        client_push(ep, &conns[i], msg, size);
    }

    double start = client_now();
    double measure_from = start + warmup;
    double stop = measure_from + seconds;
    int measuring = 0;
    long long rt = 0, cpu0 = -1;
    double t0 = 0, t = start;
    while (t < stop) {
        int n = epoll_wait(ep, events, nconns, 100);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            client_die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            client_conn_t *c = events[i].data.ptr;
            if (events[i].events & EPOLLOUT) {
                client_push(ep, c, msg, size);
            }
            if (!(events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
                continue;
            }
            for (;;) {
                ssize_t r = recv(c->fd, buf, size - c->received, 0);
                if (r < 0) {
                    if (errno == EAGAIN) {
                        break;
                    }
                    client_die("recv");
                }
                if (r == 0) {
                    errno = ECONNRESET;
                    client_die("server closed the connection");
                }
                c->received += (size_t)r;
                if (c->received == size) {
                    rt++;
                    c->sent = c->received = 0;
                    client_push(ep, c, msg, size);
                }
            }
        }
        t = client_now();
        if (!measuring && t >= measure_from) {
            measuring = 1;
            rt = 0;
            t0 = t;
            cpu0 = pid > 0 ? client_cpu_us(pid) : -1;
        }
    }
    long long cpu1 = pid > 0 ? client_cpu_us(pid) : -1;
    double elapsed = t - t0;
    printf("rt=%lld secs=%.6f cpu_us=%lld\n", rt, elapsed,
           (cpu0 >= 0 && cpu1 >= 0) ? cpu1 - cpu0 : -1LL);
    for (int i = 0; i < nconns; i++) {
        close(conns[i].fd);
    }
    close(ep);
    free(msg);
    free(buf);
    free(conns);
    free(events);
    return 0;
}
