/* SPDX-License-Identifier: MIT
 *
 * main.c: the pyhost launcher, python3's command line on top of libpyhost
 * alone.  sys.path comes from one place: --paths FILE, else pyhost._pth
 * beside the real executable, else the built-in default (the stdlib and
 * lib-dynload of the Python pyhost was built against, no site-packages).
 * Then `pyhost FILE`, `-m MODULE`, `-c CODE`, `-` or the prompt, plus
 * --audit, --console and the `bundle` command (bundle.c).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher.h"
#include "pyhost/embed.h"

/* Exit status when --audit finds a module from outside the roots (and the
 * program itself succeeded). */
#define LAUNCHER_AUDIT_FAILED 3

static const char launcher_usage[] =
    "usage: pyhost [option...] [-c CODE | -m MODULE | FILE | -] [ARG...]\n"
    "       pyhost bundle DIR [--app PATH]\n"
    "\n"
    "sys.path is exactly the entries of the path file: --paths FILE, else\n"
    "pyhost._pth beside the executable, else the stdlib and lib-dynload of\n"
    "the Python pyhost was built against.  No environment variable, site,\n"
    ".pth or sitecustomize file takes part.\n"
    "\n"
    "  --paths FILE          the path file (._pth format)\n"
    "  --audit               after the run, list every imported module and\n"
    "                        where it came from; exit 3 if one came from\n"
    "                        outside the configured roots\n"
    "  --console [HOST:]PORT start pyhost.console before the program\n"
    "  -q                    no banner at the prompt\n"
    "  -u                    unbuffered stdout and stderr\n"
    "  -I -E -s -S -B -P     accepted for python3 compatibility (always on)\n"
    "  -h, --help            this text\n"
    "  -V, --version         versions\n";

typedef struct launcher_args {
    const char *paths;
    const char *console;
    int audit;
    int quiet;
    int unbuffered;
    const char *code;
    const char *module;
    const char *file; /* "-" for stdin */
    int rest;         /* index of the first argument for sys.argv[1:] */
} launcher_args_t;

static int
launcher_usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "pyhost: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n%s", launcher_usage);
    return 2;
}

/* Parse python3-style arguments.  Returns -1 to go on, else an exit
 * status (after --help, --version or a usage error). */
static int
launcher_parse(int argc, char **argv, launcher_args_t *args)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            break;
        }
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--paths") == 0 || strcmp(a, "--console") == 0) {
            if (i + 1 >= argc) {
                return launcher_usage_error("%s needs a value", a);
            }
            *(a[2] == 'p' ? &args->paths : &args->console) = argv[++i];
            continue;
        }
        if (strncmp(a, "--paths=", 8) == 0) {
            args->paths = a + 8;
            continue;
        }
        if (strncmp(a, "--console=", 10) == 0) {
            args->console = a + 10;
            continue;
        }
        if (strcmp(a, "--audit") == 0) {
            args->audit = 1;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(launcher_usage, stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            printf("pyhost %s (Python %s)\n", PYHOST_VERSION_STRING,
                   pyhost_python_version());
            return 0;
        }
        if (a[1] == '-') {
            return launcher_usage_error("unknown option %s", a);
        }
        /* A cluster of one-letter flags, maybe ending in -c or -m. */
        for (const char *p = a + 1; *p; p++) {
            if (*p == 'c' || *p == 'm') {
                const char *value =
                    p[1] ? p + 1 : (i + 1 < argc ? argv[++i] : NULL);
                if (value == NULL) {
                    return launcher_usage_error(
                        *p == 'c' ? "-c needs the code to run%s"
                                  : "-m needs a module name%s",
                        "");
                }
                *(*p == 'c' ? &args->code : &args->module) = value;
                args->rest = i + 1;
                return -1;
            }
            if (*p == 'q') {
                args->quiet = 1;
            }
            else if (*p == 'u') {
                args->unbuffered = 1;
            }
            else if (strchr("IEsSBP", *p) == NULL) {
                char bad[3] = {'-', *p, '\0'};
                return launcher_usage_error("unknown option %s", bad);
            }
        }
    }
    if (i < argc) {
        args->file = argv[i];
        i++;
    }
    args->rest = i;
    return -1;
}

/* Choose where sys.path comes from (see the top of this file). */
static void
launcher_choose_paths(const launcher_args_t *args, pyhost_config_t *cfg,
                      char *buf, size_t size)
{
    struct stat st;
    if (args->paths != NULL) {
        cfg->path_file = args->paths;
        return;
    }
    char *exe = realpath("/proc/self/exe", NULL);
    if (exe != NULL) {
        char *slash = strrchr(exe, '/');
        *slash = '\0';
        snprintf(buf, size, "%s/pyhost._pth", exe);
        free(exe);
        if (lstat(buf, &st) == 0) {
            cfg->path_file = buf;
            return;
        }
    }
    const char *const *defaults = pyhost_default_paths();
    size_t n = 0;
    while (defaults[n] != NULL) {
        n++;
    }
    cfg->paths = defaults;
    cfg->path_count = n;
    cfg->home = pyhost_default_home();
}

static int
launcher_print_module(const pyhost_module_info_t *m, void *context)
{
    (void)context;
    const char *where = m->file ? m->file : m->kind;
    fprintf(stderr, "pyhost audit: %-7s %-40s %s\n",
            m->inside ? "inside" : "OUTSIDE", m->name, where);
    return 0;
}

/* Print the audit; returns the number of modules from outside, or -1. */
static long
launcher_audit(pyhost_t *host)
{
    size_t outside = 0;
    if (pyhost_audit(host, launcher_print_module, NULL, &outside) !=
        PYHOST_OK) {
        fprintf(stderr, "pyhost: --audit: %s\n", pyhost_message(host));
        return -1;
    }
    const char *const *paths = pyhost_paths(host);
    fprintf(stderr, "pyhost audit: roots:");
    for (size_t i = 0; paths[i] != NULL; i++) {
        fprintf(stderr, " %s", paths[i]);
    }
    fprintf(stderr, "\npyhost audit: %zu module%s from outside the roots\n",
            outside, outside == 1 ? "" : "s");
    return (long)outside;
}

/* Start pyhost.console through libpyhost and print its URL. */
static int
launcher_console(pyhost_t *host, const char *spec)
{
    char hostname[256] = "127.0.0.1";
    char expr[512];
    const char *colon = strrchr(spec, ':');
    const char *port_text = colon ? colon + 1 : spec;
    char *end;
    if (colon != NULL) {
        const char *h = spec;
        size_t n = (size_t)(colon - spec);
        if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
            h++, n -= 2; /* [::1]:8080 */
        }
        if (n == 0 || n >= sizeof(hostname) ||
            strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789.-:") < n) {
            fprintf(stderr, "pyhost: --console '%s': bad host name\n", spec);
            return 2;
        }
        memcpy(hostname, h, n);
        hostname[n] = '\0';
    }
    errno = 0;
    long port = strtol(port_text, &end, 10);
    if (port_text[0] == '\0' || *end != '\0' || errno || port < 0 ||
        port > 65535) {
        fprintf(stderr,
                "pyhost: --console '%s': expected [HOST:]PORT with PORT "
                "0-65535\n",
                spec);
        return 2;
    }
    snprintf(expr, sizeof(expr),
             "__import__('pyhost.console', fromlist=['start'])"
             ".start(host='%s', port=%ld)",
             hostname, port);
    char *url = NULL;
    if (pyhost_eval_string(host, expr, &url) != PYHOST_OK) {
        fprintf(stderr, "pyhost: --console: cannot start pyhost.console: %s\n",
                pyhost_message(host));
        return 1;
    }
    fprintf(stderr, "pyhost console: %s\n", url);
    pyhost_free_string(url);
    return 0;
}

/* Run what the arguments ask for; returns libpyhost's status. */
static int
launcher_run(pyhost_t *host, const launcher_args_t *args)
{
    if (args->code != NULL) {
        return pyhost_run_string(host, args->code);
    }
    if (args->module != NULL) {
        return pyhost_run_module(host, args->module);
    }
    if (args->file != NULL && strcmp(args->file, "-") != 0) {
        return pyhost_run_file(host, args->file);
    }
    return pyhost_run_repl(host);
}

int
main(int argc, char **argv)
{
    launcher_args_t args = {0};
    char pth[PATH_MAX + 16];
    if (argc >= 2 && strcmp(argv[1], "bundle") == 0) {
        return pyhost__launcher_bundle(argc - 1, argv + 1);
    }
    int status = launcher_parse(argc, argv, &args);
    if (status >= 0) {
        return status;
    }
    /* sys.argv: python3's shape ('-c' / '-m' / the file / ''). */
    int py_argc = 1 + (argc - args.rest);
    const char **py_argv = calloc((size_t)py_argc + 1, sizeof(char *));
    if (py_argv == NULL) {
        fputs("pyhost: out of memory\n", stderr);
        return 1;
    }
    py_argv[0] = args.code     ? "-c"
                 : args.module ? "-m"
                 : args.file   ? args.file
                               : "";
    for (int i = args.rest; i < argc; i++) {
        py_argv[1 + i - args.rest] = argv[i];
    }

    pyhost_config_t cfg;
    pyhost_config_init(&cfg);
    launcher_choose_paths(&args, &cfg, pth, sizeof(pth));
    cfg.argc = py_argc;
    cfg.argv = py_argv;
    cfg.install_signal_handlers = 1;
    cfg.print_errors = 1;
    cfg.quiet = args.quiet;
    cfg.unbuffered_stdio = args.unbuffered;

    pyhost_t *host = pyhost_new();
    if (host == NULL) {
        fputs("pyhost: out of memory\n", stderr);
        free(py_argv);
        return 1;
    }
    int rc = pyhost_start(host, &cfg);
    if (rc != PYHOST_OK) {
        fprintf(stderr, "pyhost: %s\n", pyhost_message(host));
        status = pyhost_exit_code(host);
        goto done;
    }
    if (args.console != NULL &&
        (status = launcher_console(host, args.console)) != 0) {
        pyhost_finish(host);
        goto done;
    }
    rc = launcher_run(host, &args);
    /* Python printed exceptions and SystemExit (print_errors); anything
     * else (no such script, out of memory) is said here. */
    if (rc != PYHOST_OK && rc != PYHOST_EEXCEPTION && rc != PYHOST_ESYSEXIT &&
        rc != PYHOST_EINTERRUPT) {
        fprintf(stderr, "pyhost: %s\n", pyhost_message(host));
    }
    long outside = args.audit ? launcher_audit(host) : 0;
    status = pyhost_finish(host);
    if (status == 0 && outside != 0) {
        status = outside < 0 ? 1 : LAUNCHER_AUDIT_FAILED;
    }
    if (rc == PYHOST_EINTERRUPT) {
        /* python3 ends an interrupted program by dying of SIGINT, so the
         * shell sees the signal, not a plain status. */
        pyhost_free(host);
        free(py_argv);
        fflush(NULL);
        signal(SIGINT, SIG_DFL);
        raise(SIGINT);
        return 128 + SIGINT;
    }
done:
    pyhost_free(host);
    free(py_argv);
    return status;
}
