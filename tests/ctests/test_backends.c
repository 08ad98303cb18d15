/* SPDX-License-Identifier: MIT
 *
 * test_backends.c: both hub backends deliver the same completions: a recv
 * that waits then gets data, a cancelled recv that leaves the data in the
 * socket, a poll on a reset socket (readiness, not an error), and a stale
 * user_data being ignored.  Exits T_EXIT_SKIP for io_uring when the ring
 * cannot be set up here (seccomp, sysctl); epoll must always pass.  Each
 * step prints the backend and its name first, so a failed CHECK reads
 * under the step it belongs to.
 */
#include "helpers.h"
#include "hub.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Wait until op completes (at most ~1 s); return 0 when it did. */
static int
wait_for(pyhost__backend_t *be, pyhost__op_t *op)
{
    pyhost__op_t *done[8];
    for (int i = 0; i < 100 && !op->completed; i++) {
        int n = be->ops->wait(be, 10000000, done, 8);
        for (int k = 0; k < n; k++) {
            pyhost__optab_remove(be->tab, done[k]);
        }
    }
    return op->completed ? 0 : -1;
}

static int
run(const char *name, pyhost__optab_t *tab, pyhost__backend_t *be)
{
    int sv[2];
    char buf[16];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);

    printf("[%s] 1. recv waits, then gets the data sent later\n", name);
    pyhost__op_t op = {
        .kind = PYHOST__OP_RECV, .fd = sv[0], .buf = buf, .len = sizeof(buf)};
    CHECK(pyhost__optab_add(tab, &op) == 0);
    uint64_t first_ud = op.user_data;
    CHECK(be->ops->submit(be, &op) == 0);
    pyhost__op_t *done[8];
    CHECK(be->ops->wait(be, 20000000, done, 8) == 0);
    CHECK(write(sv[1], "hello", 5) == 5);
    CHECK(wait_for(be, &op) == 0);
    CHECK(op.res == 5 && memcmp(buf, "hello", 5) == 0);
    /* The slot is reused with a new generation: the old id is stale. */
    CHECK(pyhost__optab_lookup(tab, first_ud) == NULL);

    printf("[%s] 2. a cancelled recv ends with -ECANCELED, consuming "
           "nothing\n",
           name);
    pyhost__op_t op2 = {
        .kind = PYHOST__OP_RECV, .fd = sv[0], .buf = buf, .len = sizeof(buf)};
    CHECK(pyhost__optab_add(tab, &op2) == 0);
    CHECK(op2.user_data != first_ud);
    CHECK(be->ops->submit(be, &op2) == 0);
    CHECK(be->ops->wait(be, 0, done, 8) == 0);
    CHECK(be->ops->cancel(be, &op2) == 0);
    CHECK(wait_for(be, &op2) == 0);
    CHECK(op2.res == -ECANCELED || op2.res == -EINTR);
    CHECK(write(sv[1], "x", 1) == 1);
    CHECK(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT) == 1 && buf[0] == 'x');

    printf("[%s] 3. poll on a socket whose peer vanished: readiness\n", name);
    pyhost__op_t op3 = {
        .kind = PYHOST__OP_POLL, .fd = sv[0], .events = POLLIN | POLLOUT};
    close(sv[1]);
    CHECK(pyhost__optab_add(tab, &op3) == 0);
    CHECK(be->ops->submit(be, &op3) == 0);
    CHECK(wait_for(be, &op3) == 0);
    CHECK(op3.res > 0 && (op3.res & POLLIN));
    be->ops->forget_fd(be, sv[0]);
    close(sv[0]);
    CHECK(tab->live == 0);
    printf("ok: %s\n", name);
    return T_EXIT_PASS;
}

int
main(void)
{
    pyhost__optab_t tab;
    pyhost__backend_t *be;
    int status = 0;

    /* Line-buffered: each step's line comes before a failed CHECK's. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    pyhost__optab_init(&tab);
    if (pyhost__epoll_create(&tab, &be) != 0) {
        fprintf(stderr, "epoll_create failed\n");
        return T_EXIT_FAIL;
    }
    status |= run("epoll", &tab, be);
    be->ops->destroy(be);
    pyhost__optab_fini(&tab);
    if (status != T_EXIT_PASS) {
        return T_EXIT_FAIL;
    }

    pyhost__optab_init(&tab);
    int err = pyhost__uring_create(&tab, &be);
    if (err < 0) {
        printf("skip: io_uring unavailable (%s)\n", strerror(-err));
        pyhost__optab_fini(&tab);
        return T_EXIT_SKIP;
    }
    status |= run("uring", &tab, be);
    be->ops->destroy(be);
    pyhost__optab_fini(&tab);
    return status != T_EXIT_PASS ? T_EXIT_FAIL : T_EXIT_PASS;
}
