// SPDX-License-Identifier: MIT
//
// echo_server: the ceiling the Python servers are compared with.  One
// thread, level-triggered epoll, non-blocking sockets: read up to 64 KiB,
// write it all back; what the socket does not take is kept and flushed on
// EPOLLOUT before the connection is read again (the same back-pressure the
// Python servers get from sendall or drain).
//
// Usage: echo_server [PORT]   (0 or none: any free port)
// Prints "port=N" on stdout once it listens, then serves until killed.

#ifndef _GNU_SOURCE
#define _GNU_SOURCE // accept4
#endif
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
#include <unistd.h>

#define SERVER_BUFSIZE 65536

// A connection and the bytes it still owes its peer.
typedef struct {
    int fd;
    char *pending; // owned; NULL when everything was written
    size_t pending_len;
    size_t pending_off;
} server_conn_t;

static void
server_die(const char *what)
{
    fprintf(stderr, "echo_server: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void
server_close(server_conn_t *c)
{
    close(c->fd); // also removes it from the epoll set
    free(c->pending);
    free(c);
}

// Write the pending bytes.  Returns 1 when all were written, 0 when the
// socket is full, -1 when the connection failed.
static int
server_flush(server_conn_t *c)
{
    while (c->pending_off < c->pending_len) {
        ssize_t n = send(c->fd, c->pending + c->pending_off,
                         c->pending_len - c->pending_off, MSG_NOSIGNAL);
        if (n < 0) {
            return errno == EAGAIN ? 0 : -1;
        }
        c->pending_off += (size_t)n;
    }
    free(c->pending);
    c->pending = NULL;
    c->pending_len = c->pending_off = 0;
    return 1;
}

static void
server_watch(int ep, server_conn_t *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        server_die("epoll_ctl");
    }
}

// Echo what is readable.  Returns -1 when the connection is done.
static int
server_echo(int ep, server_conn_t *c, char *buf)
{
    ssize_t n = recv(c->fd, buf, SERVER_BUFSIZE, 0);
    if (n <= 0) {
        return (n < 0 && errno == EAGAIN) ? 0 : -1;
    }
    ssize_t w = send(c->fd, buf, (size_t)n, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN) {
            return -1;
        }
        w = 0;
    }
    if (w < n) {
        c->pending_len = (size_t)(n - w);
        c->pending = malloc(c->pending_len);
        if (c->pending == NULL) {
            server_die("malloc");
        }
        memcpy(c->pending, buf + w, c->pending_len);
        c->pending_off = 0;
        server_watch(ep, c, EPOLLOUT);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 0;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (lfd < 0) {
        server_die("socket");
    }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t salen = sizeof(sa);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(lfd, 1024) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
        server_die("bind/listen");
    }
    printf("port=%d\n", ntohs(sa.sin_port));
    fflush(stdout);

    int ep = epoll_create1(0);
    if (ep < 0) {
        server_die("epoll_create1");
    }
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
        server_die("epoll_ctl");
    }
    char *buf = malloc(SERVER_BUFSIZE);
    struct epoll_event events[256];
    if (buf == NULL) {
        server_die("malloc");
    }
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            server_die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            server_conn_t *c = events[i].data.ptr;
            if (c == NULL) {
                int fd;
                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
                               sizeof(one));
                    server_conn_t *nc = calloc(1, sizeof(*nc));
                    if (nc == NULL) {
                        server_die("calloc");
                    }
                    nc->fd = fd;
                    struct epoll_event ev = {.events = EPOLLIN,
                                             .data.ptr = nc};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        server_die("epoll_ctl");
                    }
                }
                continue;
            }
            int rc;
            if (c->pending != NULL) {
                rc = server_flush(c);
                if (rc == 1) {
                    server_watch(ep, c, EPOLLIN);
                }
            }
            else {
                rc = server_echo(ep, c, buf);
            }
            if (rc < 0) {
                server_close(c);
            }
        }
    }
}
