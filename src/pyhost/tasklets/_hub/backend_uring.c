/* SPDX-License-Identifier: MIT
 *
 * backend_uring.c: the completion backend on io_uring (liburing 2.3).
 * Ops are queued as SQEs and go to the kernel with the next wait, in one
 * io_uring_enter; completions are matched to ops through their
 * generation-tagged user_data, so a late CQE for a finished op is dropped.
 *
 * Cancelling submits IORING_OP_ASYNC_CANCEL for the op's user_data.  The
 * cancel's own CQE (user_data 0) is ignored: measured on this kernel, the
 * target may still complete with data after a cancel, and its own CQE is
 * the only thing that ends it (see docs/hub.md, "Design").
 */
#include "hub.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>

#define URING_ENTRIES 256
#define URING_MAX_RW ((size_t)0x7ffff000) /* INT_MAX rounded down to pages */

typedef struct {
    pyhost__backend_t base;
    struct io_uring ring;
} uring_backend_t;

/* Return a free SQE, flushing the queue to the kernel when it is full. */
static struct io_uring_sqe *
uring_sqe(uring_backend_t *be)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&be->ring);
    if (sqe == NULL) {
        (void)io_uring_submit(&be->ring);
        sqe = io_uring_get_sqe(&be->ring);
    }
    return sqe;
}

static int
uring_submit(pyhost__backend_t *base, pyhost__op_t *op)
{
    uring_backend_t *be = (uring_backend_t *)base;
    struct io_uring_sqe *sqe = uring_sqe(be);
    if (sqe == NULL) {
        return -EBUSY;
    }
    /* An SQE's length is 32 bits: a 4 GiB buffer would wrap to 0 (and the
     * recv complete at once with 0, which reads as EOF).  The kernel moves
     * at most this much per call anyway (MAX_RW_COUNT), like recv(2). */
    size_t len = op->len < URING_MAX_RW ? op->len : URING_MAX_RW;
    switch (op->kind) {
    case PYHOST__OP_RECV:
        io_uring_prep_recv(sqe, op->fd, op->buf, len, op->msg_flags);
        break;
    case PYHOST__OP_SEND:
        io_uring_prep_send(sqe, op->fd, op->buf, len, op->msg_flags);
        break;
    default:
        io_uring_prep_poll_add(sqe, op->fd, op->events);
        break;
    }
    io_uring_sqe_set_data64(sqe, op->user_data);
    return 0;
}

static int
uring_cancel(pyhost__backend_t *base, pyhost__op_t *op)
{
    uring_backend_t *be = (uring_backend_t *)base;
    struct io_uring_sqe *sqe = uring_sqe(be);
    if (sqe == NULL) {
        return -EBUSY;
    }
    io_uring_prep_cancel64(sqe, op->user_data, 0);
    io_uring_sqe_set_data64(sqe, 0);
    return 0;
}

/* Submit what is queued and block in io_uring_enter until a CQE or the
 * timeout.  The submit asks for events too: with DEFER_TASKRUN, the
 * completions that arrived since the last enter (data for a pending recv)
 * become CQEs only in an enter with GETEVENTS.  After a plain submit in
 * which a recv completed inline, we would return that one CQE alone and
 * leave the others for another loop turn and another enter (measured:
 * about 4x more enters per round trip at 100 connections).  liburing
 * 2.3's wait helpers retry when a signal interrupts the wait; we must
 * return -EINTR instead so that Python's handlers run. */
static int
uring_enter_wait(uring_backend_t *be, int64_t timeout_ns)
{
    int err = io_uring_submit_and_get_events(&be->ring);
    if (err < 0 && err != -EBUSY && err != -EAGAIN) {
        return err;
    }
    if (io_uring_cq_ready(&be->ring) > 0) {
        return 0;
    }
    struct __kernel_timespec ts = {
        .tv_sec = timeout_ns / 1000000000,
        .tv_nsec = timeout_ns % 1000000000,
    };
    struct io_uring_getevents_arg arg = {
        .ts = timeout_ns >= 0 ? (uint64_t)(uintptr_t)&ts : 0,
    };
    int ret = io_uring_enter2(be->ring.ring_fd, 0, 1,
                              IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
                              (sigset_t *)&arg, sizeof(arg));
    return ret < 0 ? ret : 0;
}

static int
uring_wait(pyhost__backend_t *base, int64_t timeout_ns, pyhost__op_t **out,
           int max)
{
    uring_backend_t *be = (uring_backend_t *)base;
    struct io_uring_cqe *cqe;
    int err;
    if (io_uring_cq_ready(&be->ring) > 0 || timeout_ns == 0) {
        err = io_uring_submit_and_get_events(&be->ring);
    }
    else {
        err = uring_enter_wait(be, timeout_ns);
    }
    if (err < 0 && err != -ETIME && err != -EBUSY) {
        if (io_uring_cq_ready(&be->ring) == 0) {
            return err;
        }
    }
    int n = 0;
    unsigned seen = 0;
    unsigned head;
    io_uring_for_each_cqe(&be->ring, head, cqe)
    {
        if (n == max) {
            break;
        }
        seen++;
        if (cqe->user_data == 0) {
            continue; /* the CQE of a cancel request */
        }
        pyhost__op_t *op = pyhost__optab_lookup(base->tab, cqe->user_data);
        if (op == NULL || op->completed) {
            continue; /* stale: the op is gone */
        }
        op->res = cqe->res;
        op->completed = 1;
        out[n++] = op;
    }
    io_uring_cq_advance(&be->ring, seen);
    return n;
}

static void
uring_forget_fd(pyhost__backend_t *base, int fd)
{
    (void)base;
    (void)fd;
}

static void
uring_destroy(pyhost__backend_t *base)
{
    uring_backend_t *be = (uring_backend_t *)base;
    io_uring_queue_exit(&be->ring);
    free(be);
}

static const pyhost__backend_ops_t uring_ops = {
    .name = "uring",
    .submit = uring_submit,
    .cancel = uring_cancel,
    .wait = uring_wait,
    .forget_fd = uring_forget_fd,
    .destroy = uring_destroy,
};

/* Set up a ring owned by the calling thread, trying the flags that suit a
 * ring-per-thread loop first (completion work runs only when we enter the
 * kernel), then older kernels' defaults.  Return 0 or -errno. */
int
pyhost__uring_create(pyhost__optab_t *tab, pyhost__backend_t **out)
{
    static const unsigned flag_sets[] = {
        IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
        IORING_SETUP_COOP_TASKRUN,
        0,
    };
    uring_backend_t *be = calloc(1, sizeof(*be));
    if (be == NULL) {
        return -ENOMEM;
    }
    int err = -EINVAL;
    for (size_t i = 0; i < sizeof(flag_sets) / sizeof(flag_sets[0]); i++) {
        struct io_uring_params p = {.flags = flag_sets[i]};
        err = io_uring_queue_init_params(URING_ENTRIES, &be->ring, &p);
        if (err != -EINVAL) {
            break;
        }
    }
    if (err < 0) {
        free(be);
        return err;
    }
    if (!(be->ring.features & IORING_FEAT_EXT_ARG)) {
        io_uring_queue_exit(&be->ring); /* before 5.11: use epoll */
        free(be);
        return -ENOSYS;
    }
    be->base.ops = &uring_ops;
    be->base.tab = tab;
    *out = &be->base;
    return 0;
}
