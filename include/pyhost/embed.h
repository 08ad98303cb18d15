/* SPDX-License-Identifier: MIT
 *
 * embed.h: the public C API of libpyhost, which starts CPython with a
 * sys.path the host defines completely.
 *
 * Nothing on the machine takes part in the start: no PYTHON* variable, no
 * site.py, sitecustomize, usercustomize or .pth file, no <exe>._pth or
 * pyvenv.cfg found by CPython's own path search, no python3 looked up on
 * PATH.  sys.path is exactly the list the host gives (and nothing else), the
 * stdlib is checked before CPython is asked to start, and every failure
 * comes back as a status code plus a message; the library never exits the
 * process and prints only when the host sets print_errors.
 *
 * The header does not include Python.h: a host that only starts Python and
 * runs code does not need the CPython API.  Typical use:
 *
 *     pyhost_config_t cfg;
 *     pyhost_config_init(&cfg);
 *     cfg.path_file = "game._pth";
 *     pyhost_t *h = pyhost_new();
 *     if (pyhost_start(h, &cfg) != PYHOST_OK)
 *         fprintf(stderr, "%s\n", pyhost_message(h));
 *     else
 *         pyhost_run_module(h, "game.main");
 *     int status = pyhost_finish(h);
 *     pyhost_free(h);
 */
#ifndef PYHOST_EMBED_H
#define PYHOST_EMBED_H

#include <stddef.h>

#include "pyhost/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PYHOST_API __attribute__((visibility("default")))
#else
#define PYHOST_API
#endif

/* Status codes: every function that can fail returns one.  The message that
 * goes with the last failure is pyhost_message(); the exit status python3
 * would use for it is pyhost_exit_code(). */
enum {
    PYHOST_OK = 0,
    PYHOST_EINVAL = -1,     /* a bad config value or argument */
    PYHOST_EPATHFILE = -2,  /* the path file is missing or malformed */
    PYHOST_ENOSTDLIB = -3,  /* no configured entry holds 'encodings' */
    PYHOST_EINIT = -4,      /* CPython refused to start */
    PYHOST_ESTATE = -5,     /* called before start, or after finish */
    PYHOST_ENOMEM = -6,     /* out of memory */
    PYHOST_EOPEN = -7,      /* the script cannot be opened (exit code 2) */
    PYHOST_EEXCEPTION = -8, /* the code raised an exception (exit code 1) */
    PYHOST_ESYSEXIT = -9,   /* the code raised SystemExit (see exit code) */
    PYHOST_EINTERRUPT = -10 /* an uncaught KeyboardInterrupt (Ctrl-C) */
};

/* The largest message pyhost_message() returns, terminator included;
 * longer ones are cut and end with "...". */
#define PYHOST_MESSAGE_MAX 8192

/* What the host wants.  Fill it with pyhost_config_init(), then set the
 * fields.  Strings are borrowed: pyhost_start() copies what it keeps. */
typedef struct pyhost_config {
    /* sys.path entries, in order: absolute, or relative to the directory
     * of the real (symlinks resolved) executable of the process.  Each
     * must exist. */
    const char *const *paths;
    size_t path_count;
    /* Optional ._pth file: one entry per line relative to the file's
     * folder, '#' comments, blank lines ignored, "import site" turns site
     * on.  Its entries come after `paths`. */
    const char *path_file;
    /* Optional zipped stdlib, put first on sys.path. */
    const char *stdlib_zip;
    /* sys.prefix.  NULL: the path file's folder, else the executable's. */
    const char *home;
    /* Run the site module (site-packages, .pth files, sitecustomize).
     * 0 by default. */
    int site;
    /* sys.argv (copied as given); argc 0 gives sys.argv == ['']. */
    int argc;
    const char *const *argv;
    /* Absolute.  Default: the real path of the running executable. */
    const char *program_name;
    /* sys.executable, what multiprocessing relaunches; absolute.  Default:
     * the real path of the running executable. */
    const char *executable;
    /* Let Python install its SIGINT handler (KeyboardInterrupt) and ignore
     * SIGPIPE/SIGXFSZ, as python3 does.  0 by default: the host owns its
     * signals. */
    int install_signal_handlers;
    /* 0 (default): remove the variables listed by pyhost_scrubbed_names()
     * from the process environment before Python starts. */
    int keep_environment;
    /* Write .pyc files into __pycache__ folders.  0 by default. */
    int write_bytecode;
    /* Unbuffered stdout and stderr (python3 -u).  0 by default. */
    int unbuffered_stdio;
    /* Print uncaught exceptions (sys.excepthook) and SystemExit messages
     * to sys.stderr the way python3 does.  0 by default: they only go to
     * pyhost_message(). */
    int print_errors;
    /* No banner at the interactive prompt. */
    int quiet;
} pyhost_config_t;

typedef struct pyhost pyhost_t;

/* One imported module, as pyhost_audit() reports it. */
typedef struct pyhost_module_info {
    const char *name;
    const char *file; /* NULL for built-in, frozen and file-less modules */
    const char *kind; /* "built-in", "frozen", "file", "namespace", "none" */
    int inside;       /* 1 if file lies under a configured root, or no file */
} pyhost_module_info_t;

/* Called once per module, sorted by name; a non-zero return stops. */
typedef int (*pyhost_audit_fn)(const pyhost_module_info_t *module,
                               void *context);

/* Set every field to its default. */
PYHOST_API void pyhost_config_init(pyhost_config_t *config);

/* Return a new handle, or NULL when out of memory. */
PYHOST_API pyhost_t *pyhost_new(void);

/* Finish Python if it still runs, then release the handle. */
PYHOST_API void pyhost_free(pyhost_t *host);

/* Check the configuration and the stdlib, scrub the environment, start
 * CPython.  Only one host can be started per process.
 *
 * The GIL: on success the calling thread does not hold it, so Python
 * threads keep running while the host does its own work.  The functions
 * below take it themselves and may be called from any thread, one thread
 * at a time (the message and exit code belong to the host); code that uses
 * the CPython API directly wraps it in PyGILState_Ensure() and
 * PyGILState_Release().  pyhost_finish() is called from the thread that
 * called pyhost_start().
 *
 * The environment scrub calls unsetenv(): start Python before the host's
 * other threads read the environment. */
PYHOST_API int pyhost_start(pyhost_t *host, const pyhost_config_t *config);

/* Run a script as __main__ (like `python3 FILE`, except that the
 * script's folder is not added to sys.path, and that a folder or a zip
 * application is refused with PYHOST_EOPEN). */
PYHOST_API int pyhost_run_file(pyhost_t *host, const char *path);

/* Run a module as __main__ (like `python3 -m NAME`). */
PYHOST_API int pyhost_run_module(pyhost_t *host, const char *name);

/* Execute statements in __main__ (like `python3 -c CODE`). */
PYHOST_API int pyhost_run_string(pyhost_t *host, const char *code);

/* Evaluate one expression in a fresh namespace and return str() of its
 * value in *result (UTF-8, free with pyhost_free_string()). */
PYHOST_API int pyhost_eval_string(pyhost_t *host, const char *expression,
                                  char **result);

/* The interactive prompt when stdin is a terminal; otherwise run stdin as
 * a script, as python3 does. */
PYHOST_API int pyhost_run_repl(pyhost_t *host);

/* Report every module in sys.modules (see pyhost_module_info_t; name and
 * file are the bytes the file system uses).  The callback runs with the
 * GIL held.  On success *outside (if not NULL) is the number of modules
 * that came from outside the configured roots, all of them, even when the
 * callback stopped early. */
PYHOST_API int pyhost_audit(pyhost_t *host, pyhost_audit_fn callback,
                            void *context, size_t *outside);

/* Finalize Python.  Returns the exit status python3 would end with: that
 * of the last run, or 120 if finalization failed. */
PYHOST_API int pyhost_finish(pyhost_t *host);

/* The message for the last failure, "" if none.  Borrowed from host. */
PYHOST_API const char *pyhost_message(const pyhost_t *host);

/* The exit status python3 would use after the last run. */
PYHOST_API int pyhost_exit_code(const pyhost_t *host);

/* sys.path as configured, NULL-terminated, valid while host lives. */
PYHOST_API const char *const *pyhost_paths(const pyhost_t *host);

PYHOST_API void pyhost_free_string(char *string);

/* The names pyhost_start() removes from the environment (NULL-ended). */
PYHOST_API const char *const *pyhost_scrubbed_names(void);

/* The stdlib and lib-dynload folders of the Python libpyhost was built
 * against (NULL-terminated), and that Python's prefix. */
PYHOST_API const char *const *pyhost_default_paths(void);
PYHOST_API const char *pyhost_default_home(void);

/* Files of the running process: libpyhost and libpython (for bundles).
 * NULL if they cannot be found (static builds). */
PYHOST_API const char *pyhost_library_file(void);
PYHOST_API const char *pyhost_libpython_file(void);

/* "3.11" etc.: the Python version libpyhost was built against. */
PYHOST_API const char *pyhost_python_version(void);

#ifdef __cplusplus
}
#endif

#endif /* PYHOST_EMBED_H */
