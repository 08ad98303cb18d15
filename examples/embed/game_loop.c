/* SPDX-License-Identifier: MIT
 *
 * game_loop.c: a small game loop that embeds Python through libpyhost and
 * calls a Python function each frame.
 *
 * sys.path is the stdlib of the Python libpyhost was built against plus
 * the entries of game._pth, the path file beside this executable (here it
 * names the game/ folder).  Nothing from the environment or the machine's
 * site-packages takes part.  Build (see docs/embed.md):
 *
 *   cc game_loop.c -I<site-packages>/pyhost/include $(python3-config
 *      --includes) <site-packages>/pyhost/libpyhost.so
 *      -Wl,-rpath,<site-packages>/pyhost -o game_loop
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pyhost/embed.h"

#define FRAMES 5

/* The folder of this executable + "/game._pth", so the game starts the
 * same from any working directory. */
static int
game_path_file(char *buf, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) {
        return -1;
    }
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    return snprintf(buf, size, "%s/game._pth", exe) < (int)size ? 0 : -1;
}

/* Call logic.frame(number, dt) for each frame; the host's own work would
 * go between the calls.  Returns 0, or -1 with the Python error printed. */
static int
game_run_frames(void)
{
    int rc = -1;
    PyObject *logic = PyImport_ImportModule("logic");
    PyObject *frame = logic ? PyObject_GetAttrString(logic, "frame") : NULL;
    if (frame == NULL) {
        goto error;
    }
    for (int n = 1; n <= FRAMES; n++) {
        PyObject *state = PyObject_CallFunction(frame, "id", n, 1.0 / 60.0);
        if (state == NULL) {
            goto error;
        }
        const char *text = PyUnicode_AsUTF8(state);
        if (text == NULL) {
            Py_DECREF(state);
            goto error;
        }
        printf("frame %d: %s\n", n, text);
        /* C stdio and Python's sys.stdout buffer separately. */
        fflush(stdout);
        Py_DECREF(state);
    }
    rc = 0;
error:
    if (rc != 0) {
        PyErr_Print();
    }
    Py_XDECREF(frame);
    Py_XDECREF(logic);
    return rc;
}

int
main(void)
{
    char pth[PATH_MAX + 16];
    pyhost_config_t cfg;
    const char *const *stdlib = pyhost_default_paths();
    size_t n = 0;
    while (stdlib[n] != NULL) {
        n++;
    }
    if (game_path_file(pth, sizeof(pth)) != 0) {
        fputs("game: cannot find my own folder\n", stderr);
        return 1;
    }
    pyhost_config_init(&cfg);
    cfg.paths = stdlib;
    cfg.path_count = n;
    cfg.path_file = pth;

    pyhost_t *host = pyhost_new();
    if (host == NULL || pyhost_start(host, &cfg) != PYHOST_OK) {
        fprintf(stderr, "game: %s\n", pyhost_message(host));
        pyhost_free(host);
        return 1;
    }
    /* libpyhost hands the GIL back after the start: take it for the
     * direct CPython calls, as any thread of the host would. */
    PyGILState_STATE gil = PyGILState_Ensure();
    int rc = game_run_frames();
    PyGILState_Release(gil);
    if (pyhost_run_string(host, "import logic; logic.report()") != PYHOST_OK) {
        fprintf(stderr, "game: %s\n", pyhost_message(host));
        rc = -1;
    }
    int status = pyhost_finish(host);
    pyhost_free(host);
    return rc != 0 ? 1 : status;
}
