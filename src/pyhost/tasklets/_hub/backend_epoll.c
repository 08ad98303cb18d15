/* SPDX-License-Identifier: MIT
 *
 * backend_epoll.c: the readiness backend, used where io_uring is not
 * allowed (Docker's default seccomp profile, kernel.io_uring_disabled) or
 * when asked for.  It offers the same completion interface as the io_uring
 * backend: an op waits for readiness of its fd (level-triggered epoll), then
 * this file performs the recv/send itself, without the GIL, and reports the
 * result as the op's completion.  Cancelling is clean here: nothing was
 * consumed, so the op simply completes with -ECANCELED.
 *
 * Interest is dropped lazily: an fd stays registered after its ops end and
 * is trimmed (EPOLL_CTL_MOD/DEL) only when an event comes that nobody
 * waits for, which saves two syscalls per wait in a request/response loop.
 */
#include "hub.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define EPOLL_BATCH 256

typedef struct {
    uint32_t mask; /* events registered in the kernel */
    unsigned in_kernel : 1;
} epoll_fdstate_t;

typedef struct {
    pyhost__backend_t base;
    int epfd;
    epoll_fdstate_t *fds; /* indexed by fd */
    int fd_cap;
    pyhost__op_t *early; /* ops completed outside epoll_wait (cancel, ...) */
    pyhost__op_t *early_tail;
} epoll_backend_t;

/* Return the epoll events op waits for. */
static uint32_t
epoll_interest(const pyhost__op_t *op)
{
    switch (op->kind) {
    case PYHOST__OP_RECV:
        return EPOLLIN;
    case PYHOST__OP_SEND:
        return EPOLLOUT;
    default:
        return op->events & (EPOLLIN | EPOLLPRI | EPOLLOUT | EPOLLRDHUP);
    }
}

static void
epoll_push_early(epoll_backend_t *be, pyhost__op_t *op, int32_t res)
{
    op->res = res;
    op->completed = 1;
    op->be_next = NULL;
    if (be->early_tail != NULL) {
        be->early_tail->be_next = op;
    }
    else {
        be->early = op;
    }
    be->early_tail = op;
}

static epoll_fdstate_t *
epoll_state(epoll_backend_t *be, int fd)
{
    if (fd >= be->fd_cap) {
        int ncap = be->fd_cap ? be->fd_cap : 64;
        while (ncap <= fd) {
            ncap *= 2;
        }
        epoll_fdstate_t *fds = realloc(be->fds, ncap * sizeof(*fds));
        if (fds == NULL) {
            return NULL;
        }
        memset(fds + be->fd_cap, 0, (ncap - be->fd_cap) * sizeof(*fds));
        be->fds = fds;
        be->fd_cap = ncap;
    }
    return &be->fds[fd];
}

/* Make the kernel's registration of fd equal mask (0: unregister).
 * Return 0 or -errno. */
static int
epoll_set_mask(epoll_backend_t *be, int fd, epoll_fdstate_t *st, uint32_t mask)
{
    struct epoll_event ev = {.events = mask, .data.fd = fd};
    if (mask == 0) {
        if (st->in_kernel) {
            (void)epoll_ctl(be->epfd, EPOLL_CTL_DEL, fd, NULL);
        }
        st->in_kernel = 0;
        st->mask = 0;
        return 0;
    }
    int op = st->in_kernel ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(be->epfd, op, fd, &ev) < 0) {
        /* The fd may have been closed and reused behind our back. */
        if (errno == ENOENT) {
            op = EPOLL_CTL_ADD;
        }
        else if (errno == EEXIST) {
            op = EPOLL_CTL_MOD;
        }
        else {
            return -errno;
        }
        if (epoll_ctl(be->epfd, op, fd, &ev) < 0) {
            return -errno;
        }
    }
    st->in_kernel = 1;
    st->mask = mask;
    return 0;
}

/* Try to finish op given the readiness revents.  Return 1 when it
 * completed (res set), 0 when it must keep waiting. */
static int
epoll_try_complete(pyhost__op_t *op, uint32_t revents)
{
    uint32_t trouble = EPOLLERR | EPOLLHUP;
    ssize_t n;
    switch (op->kind) {
    case PYHOST__OP_POLL: {
        uint32_t got = revents & (op->events | trouble | POLLNVAL);
        if (got == 0) {
            return 0;
        }
        op->res = (int32_t)got;
        break;
    }
    case PYHOST__OP_RECV:
        if (!(revents & (EPOLLIN | trouble))) {
            return 0;
        }
        do {
            n = recv(op->fd, op->buf, op->len, op->msg_flags | MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        op->res = n < 0 ? -errno : (int32_t)n;
        break;
    default:
        if (!(revents & (EPOLLOUT | trouble))) {
            return 0;
        }
        do {
            n = send(op->fd, op->buf, op->len, op->msg_flags | MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        op->res = n < 0 ? -errno : (int32_t)n;
        break;
    }
    op->completed = 1;
    return 1;
}

static int
epoll_submit(pyhost__backend_t *base, pyhost__op_t *op)
{
    epoll_backend_t *be = (epoll_backend_t *)base;
    epoll_fdstate_t *st = epoll_state(be, op->fd);
    if (st == NULL) {
        return -ENOMEM;
    }
    uint32_t want = st->mask | epoll_interest(op);
    /* When the fd had no other op waiting, re-check the registration: the
     * fd may have been closed and its number reused without forget_fd
     * (os.close, a socket finalizer), and MOD then fails with ENOENT. */
    int others = 0;
    for (pyhost__op_t *o = pyhost__optab_fd_first(base->tab, op->fd);
         o != NULL && !others; o = o->fd_next) {
        others = o != op && !o->completed;
    }
    if (others && st->in_kernel && want == st->mask) {
        return 0;
    }
    int err = epoll_set_mask(be, op->fd, st, want);
    if (err == -EPERM) {
        /* A regular file or directory: always ready, as for poll(2). */
        if (!epoll_try_complete(op, POLLIN | POLLOUT)) {
            op->res = 0;
        }
        epoll_push_early(be, op, op->res);
        return 0;
    }
    return err;
}

static int
epoll_cancel(pyhost__backend_t *base, pyhost__op_t *op)
{
    epoll_backend_t *be = (epoll_backend_t *)base;
    if (!op->completed) {
        epoll_push_early(be, op, -ECANCELED);
    }
    return 0;
}

static int
epoll_wait_ops(pyhost__backend_t *base, int64_t timeout_ns, pyhost__op_t **out,
               int max)
{
    epoll_backend_t *be = (epoll_backend_t *)base;
    struct epoll_event evs[EPOLL_BATCH];
    int n = 0;
    while (be->early != NULL && n < max) {
        pyhost__op_t *op = be->early;
        be->early = op->be_next;
        op->be_next = NULL;
        out[n++] = op;
    }
    if (be->early == NULL) {
        be->early_tail = NULL;
    }
    if (n == max) {
        return n;
    }
    int ms;
    if (n > 0 || timeout_ns == 0) {
        ms = 0;
    }
    else if (timeout_ns < 0) {
        ms = -1;
    }
    else {
        int64_t m = (timeout_ns + 999999) / 1000000;
        ms = m > 86400000 ? 86400000 : (int)m;
    }
    int batch = max - n < EPOLL_BATCH ? max - n : EPOLL_BATCH;
    int got = epoll_wait(be->epfd, evs, batch, ms);
    if (got < 0) {
        return n > 0 ? n : -errno;
    }
    for (int i = 0; i < got; i++) {
        int fd = evs[i].data.fd;
        uint32_t revents = evs[i].events;
        if (fd >= be->fd_cap) {
            continue;
        }
        uint32_t still_wanted = 0;
        uint32_t consumed = 0;
        pyhost__op_t *op = pyhost__optab_fd_first(base->tab, fd);
        for (; op != NULL; op = op->fd_next) {
            if (op->completed) {
                continue;
            }
            if (n < max && epoll_try_complete(op, revents)) {
                out[n++] = op;
                consumed |= epoll_interest(op);
            }
            else {
                still_wanted |= epoll_interest(op);
            }
        }
        /* Trim interest only when an event came that nobody waits for. */
        epoll_fdstate_t *st = &be->fds[fd];
        if ((revents & ~(still_wanted | consumed)) && still_wanted == 0) {
            (void)epoll_set_mask(be, fd, st, 0);
        }
        else if ((revents & ~(still_wanted | consumed)) &&
                 still_wanted != st->mask) {
            (void)epoll_set_mask(be, fd, st, still_wanted);
        }
    }
    return n;
}

static void
epoll_forget_fd(pyhost__backend_t *base, int fd)
{
    epoll_backend_t *be = (epoll_backend_t *)base;
    if (fd >= 0 && fd < be->fd_cap) {
        (void)epoll_set_mask(be, fd, &be->fds[fd], 0);
    }
}

static void
epoll_destroy(pyhost__backend_t *base)
{
    epoll_backend_t *be = (epoll_backend_t *)base;
    close(be->epfd);
    free(be->fds);
    free(be);
}

static const pyhost__backend_ops_t epoll_ops = {
    .name = "epoll",
    .submit = epoll_submit,
    .cancel = epoll_cancel,
    .wait = epoll_wait_ops,
    .forget_fd = epoll_forget_fd,
    .destroy = epoll_destroy,
};

int
pyhost__epoll_create(pyhost__optab_t *tab, pyhost__backend_t **out)
{
    epoll_backend_t *be = calloc(1, sizeof(*be));
    if (be == NULL) {
        return -ENOMEM;
    }
    be->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (be->epfd < 0) {
        int err = -errno;
        free(be);
        return err;
    }
    be->base.ops = &epoll_ops;
    be->base.tab = tab;
    *out = &be->base;
    return 0;
}
