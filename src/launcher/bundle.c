/* SPDX-License-Identifier: MIT
 *
 * bundle.c: `pyhost bundle DIR [--app PATH]`.  The C side finds what only
 * the running process knows (its executable, the libpyhost and libpython
 * it loaded, the stdlib it was built against), then starts Python through
 * libpyhost on that stdlib and runs bundle.py, embedded at build time,
 * which lays the folder out.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_py.h"
#include "launcher.h"
#include "pyhost/embed.h"

static const char bundle_usage[] = "usage: pyhost bundle DIR [--app PATH]\n";

int
pyhost__launcher_bundle(int argc, char **argv)
{
    const char *dir = NULL, *app = "";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--app") == 0 && i + 1 < argc) {
            app = argv[++i];
        }
        else if (strcmp(argv[i], "-h") == 0 ||
                 strcmp(argv[i], "--help") == 0) {
            fputs(bundle_usage, stdout);
            return 0;
        }
        else if (argv[i][0] != '-' && dir == NULL) {
            dir = argv[i];
        }
        else {
            fprintf(stderr, "pyhost bundle: unexpected argument '%s'\n%s",
                    argv[i], bundle_usage);
            return 2;
        }
    }
    if (dir == NULL) {
        fprintf(stderr, "pyhost bundle: no destination folder\n%s",
                bundle_usage);
        return 2;
    }
    char *exe = realpath("/proc/self/exe", NULL);
    const char *lib = pyhost_library_file();
    const char *libpython = pyhost_libpython_file();
    if (exe == NULL || libpython == NULL) {
        fprintf(stderr, "pyhost bundle: cannot find %s of this process\n",
                exe == NULL ? "the executable" : "libpython");
        free(exe);
        return 1;
    }
    const char *const *defaults = pyhost_default_paths();
    const char *bargv[] = {
        "bundle",
        dir,
        app,
        exe,
        lib ? lib : exe,
        libpython,
        defaults[0],
        defaults[1],
        pyhost_python_version(),
    };
    pyhost_config_t cfg;
    pyhost_config_init(&cfg);
    cfg.paths = defaults;
    cfg.path_count = 2;
    cfg.home = pyhost_default_home();
    cfg.argc = (int)(sizeof(bargv) / sizeof(bargv[0]));
    cfg.argv = bargv;
    cfg.print_errors = 1;
    cfg.install_signal_handlers = 1;
    pyhost_t *host = pyhost_new();
    int status = 1;
    if (host == NULL) {
        fputs("pyhost bundle: out of memory\n", stderr);
    }
    else if (pyhost_start(host, &cfg) != PYHOST_OK) {
        fprintf(stderr, "pyhost bundle: %s\n", pyhost_message(host));
    }
    else {
        pyhost_run_string(host, bundle_py_source);
        status = pyhost_finish(host);
    }
    pyhost_free(host);
    free(exe);
    return status;
}
