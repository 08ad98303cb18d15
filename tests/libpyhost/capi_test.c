/* SPDX-License-Identifier: MIT
 *
 * capi_test.c: drives libpyhost's C API the way an embedding program
 * does, one scenario per process (CPython starts once per process).  It
 * prints what it saw as "key: value" lines; test_c_api.py checks
 * them.  usage: capi_test SCENARIO [ARG]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pyhost/embed.h"

static const char *
capi_rc(int rc)
{
    static const char *const names[] = {
        "OK",     "EINVAL", "EPATHFILE",  "ENOSTDLIB", "EINIT",     "ESTATE",
        "ENOMEM", "EOPEN",  "EEXCEPTION", "ESYSEXIT",  "EINTERRUPT"};
    return (rc <= 0 && rc >= -10) ? names[-rc] : "?";
}

static void
capi_report(const char *what, pyhost_t *h, int rc)
{
    printf("%s: %s exit=%d\n", what, capi_rc(rc), pyhost_exit_code(h));
    printf("%s message: %s\n", what, pyhost_message(h));
}

static void
capi_defaults(pyhost_config_t *cfg)
{
    const char *const *paths = pyhost_default_paths();
    pyhost_config_init(cfg);
    cfg->paths = paths;
    cfg->path_count = 2;
}

static void
capi_eval(pyhost_t *h, const char *expr)
{
    char *out = NULL;
    int rc = pyhost_eval_string(h, expr, &out);
    printf("eval %s: %s %s\n", expr, capi_rc(rc),
           out ? out : pyhost_message(h));
    pyhost_free_string(out);
}

static int
capi_count(const pyhost_module_info_t *m, void *context)
{
    (*(size_t *)context)++;
    if (!m->inside) {
        printf("outside: %s %s\n", m->name, m->file ? m->file : "-");
    }
    return 0;
}

/* Stop the audit at the first module. */
static int
capi_stop(const pyhost_module_info_t *m, void *context)
{
    (void)m;
    (*(size_t *)context)++;
    return 1;
}

/* Wait up to 5 s for *flag (or for the file path when flag is NULL),
 * without calling Python.  Returns 1 if it came. */
static int
capi_wait(volatile int *flag, const char *path)
{
    struct stat st;
    struct timespec tick = {0, 10 * 1000 * 1000};
    for (int i = 0; i < 500; i++) {
        if (flag ? *flag : stat(path, &st) == 0) {
            return 1;
        }
        nanosleep(&tick, NULL);
    }
    return 0;
}

static volatile int capi_thread_done;
static int capi_thread_rc;

/* A thread Python did not create calls into the started host. */
static void *
capi_thread(void *host)
{
    capi_thread_rc = pyhost_run_string(host, "y = 'from a C thread'");
    capi_thread_done = 1;
    return NULL;
}

int
main(int argc, char **argv)
{
    const char *scenario = argc > 1 ? argv[1] : "";
    const char *arg = argc > 2 ? argv[2] : "";
    pyhost_config_t cfg;
    pyhost_t *h = pyhost_new();
    int rc;
    if (h == NULL) {
        return 1;
    }
    capi_defaults(&cfg);
    if (strcmp(scenario, "not-started") == 0) {
        capi_report("run", h, pyhost_run_string(h, "pass"));
        capi_report("audit", h, pyhost_audit(h, capi_count, NULL, NULL));
        printf("finish: %d\n", pyhost_finish(h));
    }
    else if (strcmp(scenario, "no-paths") == 0) {
        pyhost_config_init(&cfg);
        capi_report("start", h, pyhost_start(h, &cfg));
    }
    else if (strcmp(scenario, "bad-config") == 0) {
        cfg.paths = NULL;
        capi_report("start", h, pyhost_start(h, &cfg));
        capi_defaults(&cfg);
        cfg.argc = 2;
        capi_report("start-argv", h, pyhost_start(h, &cfg));
        capi_report("start-null", h, pyhost_start(h, NULL));
        capi_defaults(&cfg);
        cfg.executable = "python3";
        capi_report("start-relative-exe", h, pyhost_start(h, &cfg));
        capi_defaults(&cfg);
        cfg.program_name = "";
        capi_report("start-empty-name", h, pyhost_start(h, &cfg));
    }
    else if (strcmp(scenario, "no-stdlib") == 0) {
        const char *paths[] = {arg};
        cfg.paths = paths;
        cfg.path_count = 1;
        capi_report("start", h, pyhost_start(h, &cfg));
    }
    else if (strcmp(scenario, "zip") == 0) {
        cfg.stdlib_zip = arg;
        cfg.path_count = 0;
        rc = pyhost_start(h, &cfg);
        capi_report("start", h, rc);
        if (rc == PYHOST_OK) {
            capi_eval(h, "__import__('sys').path");
        }
    }
    else if (strcmp(scenario, "run") == 0) {
        /* print_errors is off: nothing may reach stderr. */
        const char *args[] = {"prog", "one", "two"};
        cfg.argc = 3;
        cfg.argv = args;
        cfg.executable = "/opt/game/bin/server";
        rc = pyhost_start(h, &cfg);
        capi_report("start", h, rc);
        capi_report("exception", h,
                    pyhost_run_string(h, "def f():\n    1/0\nf()\n"));
        capi_report("sysexit", h, pyhost_run_string(h, "raise SystemExit(7)"));
        capi_report("sysexit-str", h,
                    pyhost_run_string(h, "raise SystemExit('bye')"));
        capi_report("missing", h, pyhost_run_file(h, "/nonexistent/x.py"));
        capi_report("module", h, pyhost_run_module(h, "no_such_module_x"));
        capi_report("ok", h, pyhost_run_string(h, "x = 40"));
        capi_eval(h, "__import__('__main__').x + 2");
        capi_eval(h, "__import__('sys').argv");
        capi_eval(h, "__import__('sys').executable");
        capi_eval(h, "__import__('sys').flags.no_site");
        capi_eval(h, "undefined_name");
        capi_eval(h, "__import__('_pyhost_embed').config()['site']");
        printf("finish: %d\n", pyhost_finish(h));
        capi_report("after", h, pyhost_run_string(h, "pass"));
        pyhost_t *again = pyhost_new();
        capi_report("restart", again, pyhost_start(again, &cfg));
        pyhost_free(again);
    }
    else if (strcmp(scenario, "environment") == 0) {
        setenv("OPENSSL_CONF", "/tmp/evil.cnf", 1);
        setenv("_PYTHON_SYSCONFIGDATA_NAME", "evil", 1);
        setenv("PYHOST_UNRELATED", "kept", 1);
        cfg.keep_environment = strcmp(arg, "keep") == 0;
        capi_report("start", h, pyhost_start(h, &cfg));
        printf("OPENSSL_CONF: %s\n", getenv("OPENSSL_CONF") ? "set" : "unset");
        capi_eval(h, "sorted(k for k in __import__('os').environ "
                     "if k in ('OPENSSL_CONF', '_PYTHON_SYSCONFIGDATA_NAME', "
                     "'PYHOST_UNRELATED'))");
        capi_eval(h, "__import__('_pyhost_embed').config()['scrubbed']");
    }
    else if (strcmp(scenario, "paths") == 0) {
        /* A capi_test._pth planted beside this executable must not count:
         * CPython would obey it if libpyhost did not set home. */
        capi_report("start", h, pyhost_start(h, &cfg));
        capi_eval(h, "__import__('sys').path");
    }
    else if (strcmp(scenario, "audit") == 0) {
        size_t seen = 0, outside = 99;
        capi_report("start", h, pyhost_start(h, &cfg));
        pyhost_run_string(h, "import json");
        capi_report("audit", h, pyhost_audit(h, capi_count, &seen, &outside));
        printf("seen>20: %d outside: %zu\n", seen > 20, outside);
        char code[4096];
        snprintf(code, sizeof(code),
                 "import sys; sys.path.append(%s); import outsider", arg);
        capi_report("import", h, pyhost_run_string(h, code));
        capi_report("audit2", h, pyhost_audit(h, capi_count, &seen, &outside));
        printf("outside: %zu\n", outside);
        size_t calls = 0, counted = 99;
        rc = pyhost_audit(h, capi_stop, &calls, &counted);
        capi_report("stopped", h, rc);
        printf("stopped after %zu call(s), outside: %zu\n", calls, counted);
    }
    else if (strcmp(scenario, "threads") == 0) {
        /* After the start the host does its own work (here: waits) while
         * holding no GIL, so a Python thread runs and a C thread calls in.
         * A host that kept the GIL would starve both (timeout below). */
        char code[4096];
        pthread_t tid;
        capi_report("start", h, pyhost_start(h, &cfg));
        snprintf(code, sizeof(code),
                 "import threading, time\n"
                 "def work():\n"
                 "    time.sleep(0.05)\n"
                 "    open(%s, 'w').close()\n"
                 "threading.Thread(target=work).start()\n",
                 arg);
        capi_report("spawn", h, pyhost_run_string(h, code));
        printf("python thread ran: %d\n", capi_wait(NULL, argv[3]));
        if (pthread_create(&tid, NULL, capi_thread, h) != 0) {
            return 1;
        }
        printf("c thread ran: %d\n", capi_wait(&capi_thread_done, NULL));
        fflush(stdout);
        if (!capi_thread_done) {
            _exit(3); /* deadlocked: pyhost_finish would hang */
        }
        pthread_join(tid, NULL);
        capi_report("c thread", h, capi_thread_rc);
        capi_eval(h, "__import__('__main__').y");
    }
    else if (strcmp(scenario, "file") == 0) {
        capi_report("start", h, pyhost_start(h, &cfg));
        capi_report("file", h, pyhost_run_file(h, arg));
    }
    else if (strcmp(scenario, "refused") == 0) {
        /* A refused run is a failed run: no stale exit code 0. */
        capi_report("start", h, pyhost_start(h, &cfg));
        capi_report("ok", h, pyhost_run_string(h, "pass"));
        capi_report("null-file", h, pyhost_run_file(h, NULL));
        capi_report("ok", h, pyhost_run_string(h, "pass"));
        capi_report("empty-module", h, pyhost_run_module(h, ""));
        capi_report("ok", h, pyhost_run_string(h, "pass"));
        capi_report("null-code", h, pyhost_run_string(h, NULL));
        printf("finish: %d\n", pyhost_finish(h));
    }
    else {
        fprintf(stderr, "capi_test: unknown scenario '%s'\n", scenario);
        pyhost_free(h);
        return 2;
    }
    pyhost_free(h);
    return 0;
}
