/* SPDX-License-Identifier: MIT
 *
 * embedmodule.c: _pyhost_embed, the built-in module libpyhost registers
 * (inittab) before Python starts, so that code running under it can see
 * what the host configured; and the audit of sys.modules that both the
 * module and pyhost_audit() use.  ImportError on `import _pyhost_embed`
 * means "not running under libpyhost".
 *
 *   config() -> dict: path (sys.path as configured), path_file (or None),
 *               site, roots (what counts as inside), executable,
 *               program_name, home, scrubbed (variables removed)
 *   audit()  -> sorted list of (module name, file or None, inside roots)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "internal.h"

/* The started host.  Plain C data, set before Py_InitializeFromConfig and
 * cleared after Py_FinalizeEx; read with the GIL held. */
static pyhost_t *embedmodule_started;
static int embedmodule_registered;

int
pyhost__inside(const pyhost_t *host, const char *path)
{
    char *real = realpath(path, NULL);
    const char *p = real ? real : path; /* zip members do not resolve */
    int inside = 0;
    for (size_t i = 0; i < host->roots.count && !inside; i++) {
        const char *root = host->roots.items[i];
        size_t n = strlen(root);
        inside = strncmp(p, root, n) == 0 &&
                 (p[n] == '\0' || p[n] == '/' || (n == 1 && root[0] == '/'));
    }
    free(real);
    return inside;
}

/* Return a new list of str from a string list. */
static PyObject *
embedmodule_strings(const pyhost__strlist_t *list)
{
    PyObject *result = PyList_New((Py_ssize_t)list->count);
    if (result == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < list->count; i++) {
        PyObject *s = PyUnicode_DecodeFSDefault(list->items[i]);
        if (s == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        PyList_SET_ITEM(result, (Py_ssize_t)i, s);
    }
    return result;
}

static PyObject *
embedmodule_str_or_none(const char *s)
{
    return s ? PyUnicode_DecodeFSDefault(s) : Py_NewRef(Py_None);
}

static pyhost_t *
embedmodule_host(void)
{
    if (embedmodule_started == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "_pyhost_embed: libpyhost is not running this "
                        "interpreter");
    }
    return embedmodule_started;
}

/* Set dict[key] = value and release value (a new reference or NULL with
 * an exception set).  Returns 0 or -1. */
static int
embedmodule_put(PyObject *dict, const char *key, PyObject *value)
{
    if (value == NULL) {
        return -1;
    }
    int rc = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return rc;
}

/* Return a new dict describing the configuration.  The || chain makes
 * each value only after the previous one was stored, so no API runs with
 * an exception pending. */
static PyObject *
embedmodule_config(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    pyhost_t *host = embedmodule_host();
    if (host == NULL) {
        return NULL;
    }
    PyObject *d = PyDict_New();
    if (d == NULL ||
        embedmodule_put(d, "path", embedmodule_strings(&host->paths)) < 0 ||
        embedmodule_put(d, "path_file",
                        embedmodule_str_or_none(host->path_file)) < 0 ||
        embedmodule_put(d, "site", PyBool_FromLong(host->site)) < 0 ||
        embedmodule_put(d, "roots", embedmodule_strings(&host->roots)) < 0 ||
        embedmodule_put(d, "executable",
                        embedmodule_str_or_none(host->executable)) < 0 ||
        embedmodule_put(d, "program_name",
                        embedmodule_str_or_none(host->program_name)) < 0 ||
        embedmodule_put(d, "home", embedmodule_str_or_none(host->home)) < 0 ||
        embedmodule_put(d, "scrubbed", embedmodule_strings(&host->scrubbed)) <
            0) {
        Py_XDECREF(d);
        return NULL;
    }
    return d;
}

/* 1 if the file or folder named by str lies under a root, 0 if not, -1
 * with an exception set.  The name is encoded as the file system sees it
 * (surrogateescape), so undecodable bytes are judged, not skipped. */
static int
embedmodule_inside(pyhost_t *host, PyObject *str)
{
    PyObject *bytes = PyUnicode_EncodeFSDefault(str);
    if (bytes == NULL) {
        return -1;
    }
    int inside = pyhost__inside(host, PyBytes_AS_STRING(bytes));
    Py_DECREF(bytes);
    return inside;
}

/* Where module came from: sets *kind and returns a new reference to the
 * file (str) or None; NULL on error.  For a namespace package, *inside is
 * whether every one of its folders is inside. */
static PyObject *
embedmodule_origin(pyhost_t *host, PyObject *module, const char **kind,
                   int *inside)
{
    PyObject *spec = NULL, *origin = NULL, *locations = NULL, *file = NULL;
    *kind = "none";
    *inside = 1;
    spec = PyObject_GetAttrString(module, "__spec__");
    if (spec == NULL) {
        PyErr_Clear();
    }
    if (spec != NULL && spec != Py_None) {
        origin = PyObject_GetAttrString(spec, "origin");
        if (origin == NULL) {
            PyErr_Clear();
        }
        else if (PyUnicode_Check(origin)) {
            if (PyUnicode_CompareWithASCIIString(origin, "built-in") == 0) {
                *kind = "built-in";
                goto done;
            }
            if (PyUnicode_CompareWithASCIIString(origin, "frozen") == 0) {
                *kind = "frozen";
                goto done;
            }
            if (PyUnicode_CompareWithASCIIString(origin, "namespace") != 0) {
                *kind = "file";
                file = Py_NewRef(origin);
                goto done;
            }
        }
        locations = PyObject_GetAttrString(spec, "submodule_search_locations");
        if (locations == NULL) {
            PyErr_Clear();
        }
        else if (locations != Py_None) {
            PyObject *list = PySequence_List(locations);
            if (list == NULL) {
                goto error;
            }
            *kind = "namespace";
            for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
                PyObject *item = PyList_GET_ITEM(list, i);
                /* A folder that is not a str cannot be judged: outside. */
                int in =
                    PyUnicode_Check(item) ? embedmodule_inside(host, item) : 0;
                if (in < 0) {
                    Py_DECREF(list);
                    goto error;
                }
                if (file == NULL && PyUnicode_Check(item)) {
                    file = Py_NewRef(item);
                }
                *inside = *inside && in;
            }
            Py_DECREF(list);
            goto done;
        }
    }
    file = PyObject_GetAttrString(module, "__file__");
    if (file == NULL || !PyUnicode_Check(file)) {
        PyErr_Clear();
        Py_CLEAR(file);
    }
    else {
        *kind = "file";
    }
done:
    if (file != NULL && strcmp(*kind, "file") == 0 &&
        (*inside = embedmodule_inside(host, file)) < 0) {
        goto error;
    }
    Py_XDECREF(spec);
    Py_XDECREF(origin);
    Py_XDECREF(locations);
    return file ? file : Py_NewRef(Py_None);
error:
    Py_XDECREF(spec);
    Py_XDECREF(origin);
    Py_XDECREF(locations);
    Py_XDECREF(file);
    return NULL;
}

/* Return a new sorted list of (name, file or None, inside, kind). */
static PyObject *
embedmodule_collect(pyhost_t *host)
{
    PyObject *modules = PySys_GetObject("modules"); /* borrowed */
    PyObject *items = NULL, *result = NULL;
    if (modules == NULL || !PyDict_Check(modules)) {
        PyErr_SetString(PyExc_RuntimeError, "sys.modules is not a dict");
        return NULL;
    }
    /* A copy: looking at a module may import (lazy modules). */
    items = PyDict_Items(modules);
    result = PyList_New(0);
    if (items == NULL || result == NULL) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *pair = PyList_GET_ITEM(items, i);
        PyObject *name = PyTuple_GET_ITEM(pair, 0);
        PyObject *module = PyTuple_GET_ITEM(pair, 1);
        const char *kind;
        int inside;
        if (!PyUnicode_Check(name) || module == Py_None) {
            continue;
        }
        PyObject *file = embedmodule_origin(host, module, &kind, &inside);
        if (file == NULL) {
            goto error;
        }
        PyObject *entry =
            Py_BuildValue("(OONs)", name, file, PyBool_FromLong(inside), kind);
        Py_DECREF(file);
        if (entry == NULL || PyList_Append(result, entry) < 0) {
            Py_XDECREF(entry);
            goto error;
        }
        Py_DECREF(entry);
    }
    if (PyList_Sort(result) < 0) {
        goto error;
    }
    Py_DECREF(items);
    return result;
error:
    Py_XDECREF(items);
    Py_XDECREF(result);
    return NULL;
}

/* Return a new list of (name, file or None, inside) tuples. */
static PyObject *
embedmodule_audit(PyObject *module, PyObject *Py_UNUSED(ignored))
{
    (void)module;
    pyhost_t *host = embedmodule_host();
    if (host == NULL) {
        return NULL;
    }
    PyObject *full = embedmodule_collect(host);
    if (full == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(full); i++) {
        PyObject *short_entry =
            PyTuple_GetSlice(PyList_GET_ITEM(full, i), 0, 3);
        if (short_entry == NULL) {
            Py_DECREF(full);
            return NULL;
        }
        PyList_SetItem(full, i, short_entry); /* steals */
    }
    return full;
}

/* Turn the pending exception into the host's message; returns the code. */
static int
embedmodule_fail(pyhost_t *host)
{
    PyObject *exc = pyhost__err_take();
    PyObject *text = exc ? PyObject_Str(exc) : NULL;
    const char *s = text ? PyUnicode_AsUTF8(text) : NULL;
    int rc = pyhost__fail(host, PYHOST_EEXCEPTION, "audit failed: %s",
                          s ? s : "unknown error");
    PyErr_Clear();
    Py_XDECREF(text);
    Py_XDECREF(exc);
    return rc;
}

int
pyhost_audit(pyhost_t *host, pyhost_audit_fn callback, void *context,
             size_t *outside)
{
    if (host == NULL || callback == NULL) {
        return host ? pyhost__fail(host, PYHOST_EINVAL, "callback is NULL")
                    : PYHOST_EINVAL;
    }
    if (host->state != PYHOST__STARTED) {
        return pyhost__fail(host, PYHOST_ESTATE, "Python is not running");
    }
    int rc = PYHOST_OK;
    size_t count = 0;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *list = embedmodule_collect(host);
    if (list == NULL) {
        rc = embedmodule_fail(host);
        goto done;
    }
    /* After the callback stops, the count goes on: *outside is the total
     * whatever the callback saw. */
    int stop = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *entry = PyList_GET_ITEM(list, i);
        PyObject *file = PyTuple_GET_ITEM(entry, 1);
        int inside = PyTuple_GET_ITEM(entry, 2) == Py_True;
        count += !inside;
        if (stop) {
            continue;
        }
        /* Names and files as bytes (surrogateescape): a module name
         * that is not valid UTF-8 must not become a NULL name. */
        PyObject *name_bytes =
            PyUnicode_EncodeFSDefault(PyTuple_GET_ITEM(entry, 0));
        PyObject *file_bytes =
            file == Py_None ? NULL : PyUnicode_EncodeFSDefault(file);
        if (name_bytes == NULL || (file != Py_None && file_bytes == NULL)) {
            Py_XDECREF(name_bytes);
            Py_XDECREF(file_bytes);
            Py_DECREF(list);
            rc = embedmodule_fail(host);
            goto done;
        }
        pyhost_module_info_t info = {
            .name = PyBytes_AS_STRING(name_bytes),
            .file = file_bytes ? PyBytes_AS_STRING(file_bytes) : NULL,
            .kind = PyUnicode_AsUTF8(PyTuple_GET_ITEM(entry, 3)), /* ASCII */
            .inside = inside,
        };
        stop = callback(&info, context);
        Py_DECREF(name_bytes);
        Py_XDECREF(file_bytes);
    }
    Py_DECREF(list);
done:
    PyGILState_Release(gil);
    if (outside != NULL) {
        *outside = count;
    }
    return rc;
}

static PyMethodDef embedmodule_methods[] = {
    {"config", embedmodule_config, METH_NOARGS,
     "config()\n--\n\nWhat libpyhost configured: a dict with path, "
     "path_file, site, roots, executable, program_name, home, scrubbed."},
    {"audit", embedmodule_audit, METH_NOARGS,
     "audit()\n--\n\nEvery module in sys.modules as (name, file or None, "
     "inside the configured roots), sorted by name."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot embedmodule_slots[] = {
    {0, NULL},
};

static struct PyModuleDef embedmodule_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_pyhost_embed",
    .m_doc = "What libpyhost configured for this interpreter.",
    .m_size = 0,
    .m_methods = embedmodule_methods,
    .m_slots = embedmodule_slots,
};

static PyObject *
embedmodule_init(void)
{
    return PyModuleDef_Init(&embedmodule_def);
}

int
pyhost__register_module(pyhost_t *host)
{
    /* The inittab can only grow, and only before Python starts. */
    if (!embedmodule_registered) {
        if (PyImport_AppendInittab("_pyhost_embed", embedmodule_init) < 0) {
            return pyhost__fail(host, PYHOST_EINIT,
                                "cannot register _pyhost_embed");
        }
        embedmodule_registered = 1;
    }
    embedmodule_started = host;
    return PYHOST_OK;
}

void
pyhost__unregister_module(void)
{
    embedmodule_started = NULL;
}
