/* SPDX-License-Identifier: MIT
 *
 * embed.c: libpyhost's life cycle: turn a pyhost_config_t into an isolated
 * PyConfig with every field that CPython would otherwise guess set
 * explicitly, start, run code the way python3 does, finish.
 *
 * Why each PyConfig field is set (measured on 3.11, see docs/embed.md):
 *   site_import = 0       the isolated config leaves it at 1, so Debian's
 *                         sitecustomize and every site .pth would run;
 *   home                  without it getpath obeys <exe>._pth (replacing
 *                         our paths), pyvenv.cfg and a planted lib/python3.X
 *                         in any ancestor of the executable;
 *   program_name,         without them getpath searches PATH for python3
 *   executable            and obeys a python3._pth beside it;
 *   module_search_paths   the list, with _set = 1 so getpath keeps it;
 *   utf8_mode = 1         LANG/LC_* cannot change how paths decode.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"
#include "internal.h"

#define EMBED_STR2(x) #x
#define EMBED_STR(x) EMBED_STR2(x)

/* Set when a host started Python in this process: CPython cannot be
 * started twice reliably (extension modules keep global state).  Only
 * touched by pyhost_start(), which runs before any Python thread. */
static int embed_process_started;

void
pyhost_config_init(pyhost_config_t *config)
{
    memset(config, 0, sizeof(*config));
}

pyhost_t *
pyhost_new(void)
{
    return calloc(1, sizeof(pyhost_t));
}

const char *
pyhost_message(const pyhost_t *host)
{
    return host ? host->message : "no host (pyhost_new() failed)";
}

int
pyhost_exit_code(const pyhost_t *host)
{
    return host ? host->exit_code : 1;
}

const char *const *
pyhost_paths(const pyhost_t *host)
{
    static const char *const none[] = {NULL};
    if (host == NULL || host->paths.items == NULL) {
        return none;
    }
    return (const char *const *)host->paths.items;
}

void
pyhost_free_string(char *string)
{
    free(string);
}

const char *const *
pyhost_default_paths(void)
{
    static const char *const paths[] = {PYHOST_BUILD_STDLIB,
                                        PYHOST_BUILD_DYNLOAD, NULL};
    return paths;
}

const char *
pyhost_default_home(void)
{
    return PYHOST_BUILD_PREFIX;
}

const char *
pyhost_python_version(void)
{
    return EMBED_STR(PY_MAJOR_VERSION) "." EMBED_STR(PY_MINOR_VERSION);
}

/* The file the dynamic loader loaded address from, as a real path. */
static const char *
embed_file_of(const void *address, char *buf, size_t size)
{
    Dl_info info;
    if (dladdr(address, &info) == 0 || info.dli_fname == NULL) {
        return NULL;
    }
    /* Keep the name the loader used (libpython3.X.so.1.0, the DT_NEEDED
     * name a copy must carry); only make it absolute. */
    if (info.dli_fname[0] == '/') {
        snprintf(buf, size, "%s", info.dli_fname);
        return buf;
    }
    char *real = realpath(info.dli_fname, NULL);
    if (real == NULL) {
        return NULL;
    }
    snprintf(buf, size, "%s", real);
    free(real);
    return buf;
}

const char *
pyhost_library_file(void)
{
    static char buf[PATH_MAX];
    return embed_file_of((const void *)(size_t)&pyhost_start, buf,
                         sizeof(buf));
}

const char *
pyhost_libpython_file(void)
{
    static char buf[PATH_MAX];
    return embed_file_of((const void *)(size_t)&Py_InitializeFromConfig, buf,
                         sizeof(buf));
}

/* Release what embed_copy_config() copied (the scrubbed names stay: they
 * describe the process, not one config). */
static void
embed_clear(pyhost_t *host)
{
    pyhost__strlist_clear(&host->paths);
    pyhost__strlist_clear(&host->roots);
    pyhost__strlist_clear(&host->argv);
    free(host->path_file);
    free(host->home);
    free(host->executable);
    free(host->program_name);
    host->path_file = host->home = host->executable = NULL;
    host->program_name = NULL;
}

/* PYHOST_OK if value is NULL (the default) or an absolute path. */
static int
embed_check_absolute(pyhost_t *host, const char *value, const char *name)
{
    if (value != NULL && value[0] != '/') {
        return pyhost__fail(host, PYHOST_EINVAL,
                            "%s '%s' is not an absolute path", name, value);
    }
    return PYHOST_OK;
}

/* Copy what the host keeps from config: every entry resolved, the
 * defaults for the executable and home filled in. */
static int
embed_copy_config(pyhost_t *host, const pyhost_config_t *config)
{
    char what[64];
    int rc, site = config->site;
    char *exe_dir;
    /* A start that failed may be retried with another config. */
    embed_clear(host);
    exe_dir = pyhost__exe_dir();
    if (exe_dir == NULL) {
        return pyhost__fail(host, PYHOST_EINIT,
                            "cannot find the running executable "
                            "(/proc/self/exe): %s",
                            strerror(errno));
    }
    if (config->stdlib_zip != NULL &&
        (rc = pyhost__add_path(host, config->stdlib_zip, exe_dir,
                               "stdlib_zip")) != PYHOST_OK) {
        goto fail;
    }
    if (config->path_count > 0 && config->paths == NULL) {
        rc = pyhost__fail(host, PYHOST_EINVAL,
                          "path_count is %zu but paths is NULL",
                          config->path_count);
        goto fail;
    }
    for (size_t i = 0; i < config->path_count; i++) {
        if (config->paths[i] == NULL) {
            rc = pyhost__fail(host, PYHOST_EINVAL, "paths[%zu] is NULL", i);
            goto fail;
        }
        snprintf(what, sizeof(what), "paths[%zu]", i);
        rc = pyhost__add_path(host, config->paths[i], exe_dir, what);
        if (rc != PYHOST_OK) {
            goto fail;
        }
    }
    if (config->path_file != NULL) {
        rc = pyhost__pathfile_read(host, config->path_file, &site);
        if (rc != PYHOST_OK) {
            goto fail;
        }
    }
    if (host->paths.count == 0) {
        rc = pyhost__fail(host, PYHOST_EINVAL,
                          "no sys.path entry configured: set paths, "
                          "path_file or stdlib_zip");
        goto fail;
    }
    for (size_t i = 0; i < host->paths.count; i++) {
        if (pyhost__strlist_append(&host->roots, host->paths.items[i])) {
            goto nomem;
        }
    }
    if (config->argc < 0 || (config->argc > 0 && config->argv == NULL)) {
        rc = pyhost__fail(host, PYHOST_EINVAL, "argc is %d but argv is %s",
                          config->argc, config->argv ? "set" : "NULL");
        goto fail;
    }
    for (int i = 0; i < config->argc; i++) {
        const char *arg = config->argv[i] ? config->argv[i] : "";
        if (pyhost__strlist_append(&host->argv, arg) != PYHOST_OK) {
            goto nomem;
        }
    }
    /* Relative names would make getpath search PATH again, and make
     * multiprocessing relaunch whatever the current folder holds. */
    if ((rc = embed_check_absolute(host, config->executable, "executable")) !=
            PYHOST_OK ||
        (rc = embed_check_absolute(host, config->program_name,
                                   "program_name")) != PYHOST_OK) {
        goto fail;
    }
    host->executable =
        config->executable ? strdup(config->executable) : pyhost__self_exe();
    if (config->program_name != NULL || host->executable != NULL) {
        host->program_name = strdup(config->program_name ? config->program_name
                                                         : host->executable);
    }
    if (config->home != NULL) {
        host->home = strdup(config->home);
    }
    else if (host->path_file != NULL) {
        host->home = strdup(host->path_file);
        if (host->home != NULL) {
            char *slash = strrchr(host->home, '/'); /* a real path */
            slash[slash == host->home] = '\0';
        }
    }
    else {
        host->home = strdup(exe_dir);
    }
    if (host->executable == NULL || host->program_name == NULL ||
        host->home == NULL) {
        goto nomem;
    }
    host->site = site;
    host->print_errors = config->print_errors;
    host->quiet = config->quiet;
    free(exe_dir);
    return PYHOST_OK;
nomem:
    rc = pyhost__fail(host, PYHOST_ENOMEM, "out of memory");
fail:
    free(exe_dir);
    return rc;
}

/* Set a PyConfig string field from bytes (decoded as UTF-8 after the
 * pre-configuration, undecodable bytes kept by surrogateescape). */
static int
embed_set(pyhost_t *host, PyConfig *pc, wchar_t **field, const char *value,
          const char *name)
{
    PyStatus status = PyConfig_SetBytesString(pc, field, value);
    if (PyStatus_Exception(status)) {
        return pyhost__fail(host, PYHOST_EINIT, "cannot set %s: %s", name,
                            status.err_msg ? status.err_msg : "error");
    }
    return PYHOST_OK;
}

static int
embed_init_python(pyhost_t *host, const pyhost_config_t *config)
{
    PyStatus status;
    PyPreConfig pre;
    PyConfig pc;
    int rc;

    PyPreConfig_InitIsolatedConfig(&pre);
    pre.utf8_mode = 1;
    status = Py_PreInitialize(&pre);
    if (PyStatus_Exception(status)) {
        return pyhost__fail(host, PYHOST_EINIT, "CPython pre-init: %s",
                            status.err_msg ? status.err_msg : "error");
    }
    PyConfig_InitIsolatedConfig(&pc);
    pc.isolated = 1;
    pc.use_environment = 0;
    pc.user_site_directory = 0;
    pc.safe_path = 1;
    pc.site_import = host->site;
    pc.write_bytecode = config->write_bytecode;
    pc.buffered_stdio = !config->unbuffered_stdio;
    pc.install_signal_handlers = config->install_signal_handlers;
    pc.pathconfig_warnings = 0;
    pc.parse_argv = 0;
    pc.quiet = config->quiet;
    if ((rc = embed_set(host, &pc, &pc.home, host->home, "home")) ||
        (rc = embed_set(host, &pc, &pc.program_name, host->program_name,
                        "program_name")) ||
        (rc = embed_set(host, &pc, &pc.executable, host->executable,
                        "executable"))) {
        goto done;
    }
    status = PyConfig_SetBytesArgv(&pc, (Py_ssize_t)host->argv.count,
                                   host->argv.items);
    if (PyStatus_Exception(status)) {
        rc = pyhost__fail(host, PYHOST_EINIT, "cannot set argv: %s",
                          status.err_msg ? status.err_msg : "error");
        goto done;
    }
    pc.module_search_paths_set = 1;
    for (size_t i = 0; i < host->paths.count; i++) {
        wchar_t *wide = Py_DecodeLocale(host->paths.items[i], NULL);
        if (wide == NULL) {
            rc = pyhost__fail(host, PYHOST_EINIT, "cannot decode '%s'",
                              host->paths.items[i]);
            goto done;
        }
        status = PyWideStringList_Append(&pc.module_search_paths, wide);
        PyMem_RawFree(wide);
        if (PyStatus_Exception(status)) {
            rc = pyhost__fail(host, PYHOST_ENOMEM, "out of memory");
            goto done;
        }
    }
    status = Py_InitializeFromConfig(&pc);
    if (PyStatus_Exception(status)) {
        rc = pyhost__fail(
            host, PYHOST_EINIT, "CPython refused to start: %s%s%s",
            status.func ? status.func : "", status.func ? ": " : "",
            status.err_msg ? status.err_msg : "error");
        if (PyStatus_IsExit(status)) {
            host->exit_code = status.exitcode;
        }
        goto done;
    }
    rc = PYHOST_OK;
done:
    PyConfig_Clear(&pc);
    return rc;
}

int
pyhost_start(pyhost_t *host, const pyhost_config_t *config)
{
    int rc;
    if (host == NULL) {
        return PYHOST_EINVAL;
    }
    host->exit_code = 1;
    if (config == NULL) {
        return pyhost__fail(host, PYHOST_EINVAL, "config is NULL");
    }
    if (host->state != PYHOST__NEW) {
        return pyhost__fail(host, PYHOST_ESTATE,
                            "this host was already started");
    }
    if (embed_process_started || Py_IsInitialized()) {
        return pyhost__fail(host, PYHOST_ESTATE,
                            "Python already ran in this process; it cannot "
                            "be started twice");
    }
    if ((rc = embed_copy_config(host, config)) != PYHOST_OK ||
        (rc = pyhost__check_stdlib(host)) != PYHOST_OK) {
        return rc;
    }
    if (!config->keep_environment &&
        (rc = pyhost__scrub_environment(host)) != PYHOST_OK) {
        return rc;
    }
    if ((rc = pyhost__register_module(host)) != PYHOST_OK) {
        return rc;
    }
    embed_process_started = 1;
    rc = embed_init_python(host, config);
    if (rc != PYHOST_OK) {
        pyhost__unregister_module();
        return rc;
    }
    /* Py_InitializeFromConfig leaves the GIL held by this thread.  Give it
     * back: otherwise Python threads (the console, the program's own) stop
     * whenever the host does its own work between two calls, and no other
     * thread of the host can call in.  Every entry point takes the GIL with
     * PyGILState_Ensure(), which finds this thread's state again. */
    (void)PyEval_SaveThread();
    host->state = PYHOST__STARTED;
    host->exit_code = 0;
    host->message[0] = '\0';
    return PYHOST_OK;
}

/* str(obj) as bytes for the host's message: UTF-8, with the bytes of an
 * undecodable file name kept (surrogateescape), so that a script whose path
 * is not UTF-8 is still named.  Returns a new reference, or NULL with the
 * error cleared. */
static PyObject *
embed_text(PyObject *obj)
{
    PyObject *text = PyObject_Str(obj);
    PyObject *bytes = text ? PyUnicode_EncodeFSDefault(text) : NULL;
    Py_XDECREF(text);
    if (bytes == NULL) {
        PyErr_Clear();
    }
    return bytes;
}

/* "File "f", line N: " for the innermost frame of exc's traceback (or
 * the SyntaxError's own location), appended to the host's message. */
static void
embed_describe_location(pyhost_t *host, PyObject *exc)
{
    PyObject *file = NULL, *line = NULL;
    if (PyErr_GivenExceptionMatches(exc, PyExc_SyntaxError)) {
        file = PyObject_GetAttrString(exc, "filename");
        line = PyObject_GetAttrString(exc, "lineno");
    }
    else {
        PyObject *tb = PyException_GetTraceback(exc);
        while (tb != NULL && tb != Py_None) {
            PyObject *next = PyObject_GetAttrString(tb, "tb_next");
            if (next == NULL || next == Py_None) {
                Py_XDECREF(next);
                break;
            }
            Py_SETREF(tb, next);
        }
        if (tb != NULL && tb != Py_None) {
            PyObject *frame = PyObject_GetAttrString(tb, "tb_frame");
            PyObject *code =
                frame ? PyObject_GetAttrString(frame, "f_code") : NULL;
            file = code ? PyObject_GetAttrString(code, "co_filename") : NULL;
            line = PyObject_GetAttrString(tb, "tb_lineno");
            Py_XDECREF(frame);
            Py_XDECREF(code);
        }
        Py_XDECREF(tb);
    }
    PyErr_Clear();
    if (file != NULL && PyUnicode_Check(file) && line != NULL &&
        PyLong_Check(line)) {
        PyObject *f = embed_text(file);
        long n = PyLong_AsLong(line);
        if (f != NULL) {
            pyhost__append(host,
                           "File \"%s\", line %ld: ", PyBytes_AS_STRING(f), n);
            Py_DECREF(f);
        }
    }
    PyErr_Clear();
    Py_XDECREF(file);
    Py_XDECREF(line);
}

/* Append "Type: message" for exc. */
static void
embed_describe(pyhost_t *host, PyObject *exc)
{
    PyObject *text = embed_text(exc);
    const char *name = Py_TYPE(exc)->tp_name;
    const char *s = text ? PyBytes_AS_STRING(text) : "";
    if (s[0] != '\0') {
        pyhost__append(host, "%s: %s", name, s);
    }
    else {
        pyhost__append(host, "%s", name);
    }
    Py_XDECREF(text);
}

/* Print exc through sys.excepthook, as python3 does for an uncaught
 * exception; PyErr_Display if the hook is missing or fails. */
static void
embed_print_exception(PyObject *exc)
{
    PyObject *type = (PyObject *)Py_TYPE(exc);
    PyObject *tb = PyException_GetTraceback(exc);
    PyObject *hook = PySys_GetObject("excepthook"); /* borrowed */
    PyObject *res = NULL;
    if (hook != NULL) {
        res = PyObject_CallFunctionObjArgs(hook, type, exc, tb ? tb : Py_None,
                                           NULL);
    }
    if (res == NULL) {
        PyErr_Clear();
        PyErr_Display(type, exc, tb ? tb : Py_None);
    }
    Py_XDECREF(res);
    Py_XDECREF(tb);
}

/* python3's exit status for SystemExit: None gives 0, an int its value
 * (truncated like C's exit()), anything else is printed and gives 1. */
static int
embed_system_exit(pyhost_t *host, PyObject *exc, int print)
{
    PyObject *code = PyObject_GetAttrString(exc, "code");
    if (code == NULL) {
        PyErr_Clear();
        host->exit_code = 1;
    }
    else if (code == Py_None) {
        host->exit_code = 0;
    }
    else if (PyLong_Check(code)) {
        long value = PyLong_AsLong(code);
        if (value == -1 && PyErr_Occurred()) {
            PyErr_Clear(); /* too big: python3 exits with -1 too */
        }
        host->exit_code = (int)value;
    }
    else {
        PyObject *text = embed_text(code);
        pyhost__append(host, "%s",
                       text ? PyBytes_AS_STRING(text)
                            : "(unprintable SystemExit code)");
        Py_XDECREF(text);
        if (print) {
            PyObject *err = PySys_GetObject("stderr"); /* borrowed */
            if (err != NULL && err != Py_None &&
                PyFile_WriteObject(code, err, Py_PRINT_RAW) == 0) {
                PyFile_WriteString("\n", err);
            }
            PyErr_Clear();
        }
        host->exit_code = 1;
    }
    Py_XDECREF(code);
    if (host->message[0] == '\0') {
        pyhost__append(host, "SystemExit(%d)", host->exit_code);
    }
    return PYHOST_ESYSEXIT;
}

/* Flush sys.stdout and sys.stderr, ignoring errors (finalization reports
 * them, with exit status 120, as python3 does). */
static void
embed_flush(void)
{
    static const char *const names[] = {"stderr", "stdout"};
    for (size_t i = 0; i < 2; i++) {
        PyObject *f = PySys_GetObject(names[i]); /* borrowed */
        if (f != NULL && f != Py_None) {
            PyObject *r = PyObject_CallMethod(f, "flush", NULL);
            Py_XDECREF(r);
        }
    }
    PyErr_Clear();
}

/* Turn the result of running code (NULL: an exception is set) into a
 * status, an exit code and a message.  Consumes result.  GIL held. */
static int
embed_outcome(pyhost_t *host, PyObject *result, int print)
{
    host->message[0] = '\0';
    if (result != NULL) {
        Py_DECREF(result);
        host->exit_code = 0;
        embed_flush();
        return PYHOST_OK;
    }
    PyObject *exc = pyhost__err_take();
    int rc;
    if (exc == NULL) {
        host->exit_code = 1;
        return pyhost__fail(host, PYHOST_EEXCEPTION,
                            "the code failed without an exception");
    }
    if (PyErr_GivenExceptionMatches(exc, PyExc_SystemExit)) {
        rc = embed_system_exit(host, exc, print);
    }
    else {
        int interrupt =
            PyErr_GivenExceptionMatches(exc, PyExc_KeyboardInterrupt);
        embed_describe_location(host, exc);
        embed_describe(host, exc);
        if (print) {
            embed_print_exception(exc);
        }
        host->exit_code = interrupt ? 128 + 2 : 1;
        rc = interrupt ? PYHOST_EINTERRUPT : PYHOST_EEXCEPTION;
    }
    Py_DECREF(exc);
    embed_flush();
    return rc;
}

/* Check that Python runs and that the run's argument is usable (ok);
 * otherwise refuse the run, saying why.  A refused run is a failed one: it
 * gets python3's exit code for a usage error, so that the 0 of an earlier
 * run does not survive it. */
static int
embed_check_run(pyhost_t *host, int ok, const char *why)
{
    if (host == NULL) {
        return PYHOST_EINVAL;
    }
    if (host->state != PYHOST__STARTED) {
        host->exit_code = 1;
        return pyhost__fail(host, PYHOST_ESTATE, "Python is not running (%s)",
                            host->state == PYHOST__NEW ? "not started"
                                                       : "finished");
    }
    if (!ok) {
        host->exit_code = 2;
        return pyhost__fail(host, PYHOST_EINVAL, "%s", why);
    }
    return PYHOST_OK;
}

/* Run the open file fp (closed here if closeit) as __main__ under
 * filename.  root (or NULL) joins host->roots first: Python threads read
 * the roots (_pyhost_embed.audit), so they change only under the GIL. */
static int
embed_run_fp(pyhost_t *host, FILE *fp, const char *filename, int closeit,
             const char *root)
{
    PyGILState_STATE gil = PyGILState_Ensure();
    if (root != NULL && !pyhost__strlist_contains(&host->roots, root) &&
        pyhost__strlist_append(&host->roots, root) != PYHOST_OK) {
        if (closeit) {
            fclose(fp);
        }
        PyGILState_Release(gil);
        host->exit_code = 1;
        return pyhost__fail(host, PYHOST_ENOMEM, "out of memory");
    }
    PyObject *result = NULL;
    PyObject *main = PyImport_AddModule("__main__"); /* borrowed */
    PyObject *globals = main ? PyModule_GetDict(main) : NULL;
    PyObject *name = PyUnicode_DecodeFSDefault(filename);
    if (globals != NULL && name != NULL &&
        PyDict_SetItemString(globals, "__file__", name) == 0 &&
        PyDict_SetItemString(globals, "__cached__", Py_None) == 0) {
        result = PyRun_FileExFlags(fp, filename, Py_file_input, globals,
                                   globals, closeit, NULL);
    }
    else if (closeit) {
        fclose(fp);
    }
    Py_XDECREF(name);
    int rc = embed_outcome(host, result, host->print_errors);
    PyGILState_Release(gil);
    return rc;
}

int
pyhost_run_file(pyhost_t *host, const char *path)
{
    struct stat st;
    int rc = embed_check_run(host, path != NULL, "path is NULL");
    if (rc != PYHOST_OK) {
        return rc;
    }
    FILE *fp = fopen(path, "rb");
    int err = errno;
    if (fp != NULL && fstat(fileno(fp), &st) != 0) {
        st.st_mode = 0; /* unknown: neither a folder nor a regular file */
    }
    if (fp != NULL && S_ISDIR(st.st_mode)) {
        fclose(fp);
        fp = NULL;
        err = EISDIR;
    }
    if (fp == NULL) {
        host->exit_code = 2;
        return pyhost__fail(host, PYHOST_EOPEN,
                            "can't open file '%s': [Errno %d] %s", path, err,
                            strerror(err));
    }
    /* python3 runs a zip application by putting it on sys.path: refuse
     * instead of feeding the archive to the compiler.  A zip is known by
     * its end (a .pyz may start with a #! line), and only a regular file
     * is looked at: reading ahead in a pipe (/dev/stdin, <(...)) would
     * eat the start of the script. */
    if (S_ISREG(st.st_mode) && pyhost__zip_has(path, "__main__.py") >= 0) {
        fclose(fp);
        host->exit_code = 2;
        return pyhost__fail(host, PYHOST_EOPEN,
                            "can't run '%s': it is a zip archive; list it "
                            "in the path file and use -m instead",
                            path);
    }
    /* The script itself counts as inside for the audit. */
    char *real = realpath(path, NULL);
    rc = embed_run_fp(host, fp, path, 1, real);
    free(real);
    return rc;
}

int
pyhost_run_module(pyhost_t *host, const char *name)
{
    int rc = embed_check_run(host, name != NULL && name[0] != '\0',
                             "no module name given");
    if (rc != PYHOST_OK) {
        return rc;
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *result = NULL;
    PyObject *runpy = PyImport_ImportModule("runpy");
    if (runpy != NULL) {
        result =
            PyObject_CallMethod(runpy, "_run_module_as_main", "si", name, 1);
        Py_DECREF(runpy);
    }
    rc = embed_outcome(host, result, host->print_errors);
    PyGILState_Release(gil);
    return rc;
}

int
pyhost_run_string(pyhost_t *host, const char *code)
{
    int rc = embed_check_run(host, code != NULL, "code is NULL");
    if (rc != PYHOST_OK) {
        return rc;
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *result = NULL;
    PyObject *main = PyImport_AddModule("__main__"); /* borrowed */
    if (main != NULL) {
        PyObject *globals = PyModule_GetDict(main);
        result =
            PyRun_StringFlags(code, Py_file_input, globals, globals, NULL);
    }
    rc = embed_outcome(host, result, host->print_errors);
    PyGILState_Release(gil);
    return rc;
}

int
pyhost_eval_string(pyhost_t *host, const char *expression, char **result)
{
    int rc = embed_check_run(host, expression != NULL && result != NULL,
                             "expression or result is NULL");
    if (rc != PYHOST_OK) {
        return rc;
    }
    *result = NULL;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *value = NULL, *text = NULL;
    PyObject *ns = PyDict_New();
    if (ns != NULL &&
        PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) == 0) {
        value = PyRun_StringFlags(expression, Py_eval_input, ns, ns, NULL);
    }
    if (value != NULL) {
        text = PyObject_Str(value);
        const char *s = text ? PyUnicode_AsUTF8(text) : NULL;
        if (s != NULL && (*result = strdup(s)) == NULL) {
            PyErr_NoMemory();
        }
        Py_DECREF(value);
        value = *result ? Py_NewRef(Py_None) : NULL;
    }
    Py_XDECREF(text);
    Py_XDECREF(ns);
    rc = embed_outcome(host, value, 0);
    PyGILState_Release(gil);
    return rc;
}

/* The prompt: code.interact() in __main__, with readline when present.
 * Written in Python because the prompt is stdlib code anyway. */
static const char embed_repl_code[] =
    "def _pyhost_repl(main, quiet, where):\n"
    "    import sys\n"
    "    try:\n"
    "        import code\n"
    "    except ImportError as e:\n"
    "        raise SystemExit('pyhost: the interactive prompt needs the '\n"
    "                         'stdlib module code.py: %s' % e)\n"
    "    try:\n"
    "        import readline\n"
    "    except ImportError:\n"
    "        pass\n"
    "    banner = '' if quiet else ('Python %s on %s\\n'\n"
    "        'pyhost: sys.path is fixed (%s); Ctrl-D exits.'\n"
    "        % (sys.version, sys.platform, where))\n"
    "    code.interact(banner=banner, local=main.__dict__, exitmsg='')\n";

int
pyhost_run_repl(pyhost_t *host)
{
    int rc = embed_check_run(host, 1, NULL);
    if (rc != PYHOST_OK) {
        return rc;
    }
    if (!isatty(STDIN_FILENO)) {
        return embed_run_fp(host, stdin, "<stdin>", 0, NULL);
    }
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *result = NULL, *fn = NULL;
    PyObject *ns = PyDict_New();
    PyObject *main = PyImport_AddModule("__main__"); /* borrowed */
    if (ns != NULL && main != NULL &&
        PyDict_SetItemString(ns, "__builtins__", PyEval_GetBuiltins()) == 0) {
        PyObject *r =
            PyRun_StringFlags(embed_repl_code, Py_file_input, ns, ns, NULL);
        Py_XDECREF(r);
        fn = r ? PyDict_GetItemString(ns, "_pyhost_repl") : NULL;
    }
    if (fn != NULL) {
        result = PyObject_CallFunction(fn, "Ois", main, host->quiet,
                                       host->path_file ? host->path_file
                                                       : "built-in default");
    }
    Py_XDECREF(ns);
    rc = embed_outcome(host, result, host->print_errors);
    PyGILState_Release(gil);
    return rc;
}

int
pyhost_finish(pyhost_t *host)
{
    if (host == NULL) {
        return 1;
    }
    if (host->state != PYHOST__STARTED) {
        return host->exit_code;
    }
    /* Py_FinalizeEx needs this thread's state current; after it the GIL
     * state must not be released. */
    (void)PyGILState_Ensure();
    if (Py_FinalizeEx() < 0) {
        host->exit_code = 120;
    }
    pyhost__unregister_module();
    host->state = PYHOST__FINISHED;
    return host->exit_code;
}

void
pyhost_free(pyhost_t *host)
{
    if (host == NULL) {
        return;
    }
    pyhost_finish(host);
    embed_clear(host);
    pyhost__strlist_clear(&host->scrubbed);
    free(host);
}
