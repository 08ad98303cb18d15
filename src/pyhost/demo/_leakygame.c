/* SPDX-License-Identifier: MIT
 *
 * _leakygame: the demo game server's "native engine", with two reference
 * leaks of the kinds C code really has, so that a newcomer can watch them
 * appear on the console's Leaks and Memory pages while clients play.
 *
 *   encode_event(kind, name, text) -> bytes
 *       Builds the wire form of a chat or move event.  It forgets to
 *       release the temporary list of fields it built, so every event
 *       leaves one orphaned list (nobody refers to it): the kind of leak
 *       the orphan scan finds.  (A list, because the collector stops
 *       tracking a tuple of strings, and then no gc-based scan sees it.)
 *
 *   remember_position(history, x, y) -> None
 *       Appends (x, y) to a player's history list, and takes one extra
 *       reference to the list each call: the list is still referenced
 *       normally, so only the external-reference scan sees it, with an
 *       excess that grows by one per move.
 *
 * Both leaks are deliberate and bounded by the demo's traffic.  Nothing
 * else in pyhost uses this module.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Return a new reference to b"<kind> <name> <text>\n", or NULL with an
 * exception set.  Leaks the list of fields on purpose (see above). */
static PyObject *
leakygame_encode_event(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *kind, *name, *text;
    if (!PyArg_ParseTuple(args, "UUU:encode_event", &kind, &name, &text)) {
        return NULL;
    }
    PyObject *fields = PyList_New(3);
    if (fields == NULL) {
        return NULL;
    }
    PyList_SET_ITEM(fields, 0, Py_NewRef(kind));
    PyList_SET_ITEM(fields, 1, Py_NewRef(name));
    PyList_SET_ITEM(fields, 2, Py_NewRef(text));
    PyObject *line = PyUnicode_FromFormat("%U %U %U\n", kind, name, text);
    if (line == NULL) {
        Py_DECREF(fields);
        return NULL;
    }
    PyObject *wire = PyUnicode_AsUTF8String(line);
    Py_DECREF(line);
    /* The deliberate bug: `fields` is never released. */
    return wire;
}

/* Append (x, y) to `history` (a list) and return None.  Takes one extra
 * reference to `history` on purpose (see above). */
static PyObject *
leakygame_remember_position(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *history, *x, *y;
    if (!PyArg_ParseTuple(args, "O!OO:remember_position", &PyList_Type,
                          &history, &x, &y)) {
        return NULL;
    }
    PyObject *point = PyTuple_Pack(2, x, y);
    if (point == NULL) {
        return NULL;
    }
    int rc = PyList_Append(history, point);
    Py_DECREF(point);
    if (rc < 0) {
        return NULL;
    }
    /* The deliberate bug: a reference nobody will ever release. */
    Py_INCREF(history);
    Py_RETURN_NONE;
}

static PyMethodDef leakygame_methods[] = {
    {"encode_event", leakygame_encode_event, METH_VARARGS,
     "encode_event(kind, name, text) -> bytes\n\n"
     "Wire form of an event.  Leaks one list per call (on purpose)."},
    {"remember_position", leakygame_remember_position, METH_VARARGS,
     "remember_position(history, x, y)\n\n"
     "Append (x, y) to history.  Leaks one reference to history per call "
     "(on purpose)."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot leakygame_slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef leakygame_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pyhost.demo._leakygame",
    .m_doc = "The demo game server's native engine, leaky on purpose.",
    .m_size = 0,
    .m_methods = leakygame_methods,
    .m_slots = leakygame_slots,
};

PyMODINIT_FUNC
PyInit__leakygame(void)
{
    return PyModuleDef_Init(&leakygame_module);
}
