/* SPDX-License-Identifier: MIT
 *
 * leakymodule.c: pyhost._testing._leaky, a test-only extension that makes
 * the mistakes pyhost.leaks exists to find, on purpose: a reference that is
 * taken and never released (leak_ref), a container lost with its extra
 * reference (make_orphan), and a type whose tp_traverse visits NULL and
 * visits the same object twice (BadTraverse) once set_bad_traverse(True)
 * arms it.  The collector itself cannot survive such a traverse: tests arm
 * it only while gc is disabled.  release() undoes a leak so a test can
 * clean up after itself.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    PyTypeObject *BadTraverseType; /* strong */
    int bad_traverse_armed;        /* protected by the GIL */
} leaky_state;

static inline leaky_state *
get_leaky_state(PyObject *module)
{
    return (leaky_state *)PyModule_GetState(module);
}

/* ---- BadTraverse -------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *item; /* strong, one reference */
} badtraverse_object;

static PyObject *
badtraverse_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *item;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        PyErr_SetString(PyExc_TypeError, "BadTraverse takes no keywords");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O:BadTraverse", &item)) {
        return NULL;
    }
    badtraverse_object *self = (badtraverse_object *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->item = Py_NewRef(item);
    return (PyObject *)self;
}

/* Once armed, wrong on purpose: visits NULL, then item twice though it
 * owns it once. */
static int
badtraverse_traverse(badtraverse_object *self, visitproc visit, void *arg)
{
    leaky_state *st = PyType_GetModuleState(Py_TYPE(self));
    if (st != NULL && st->bad_traverse_armed) {
        int r = visit(NULL, arg);
        if (r) {
            return r;
        }
        Py_VISIT(self->item);
    }
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->item);
    return 0;
}

static int
badtraverse_clear(badtraverse_object *self)
{
    Py_CLEAR(self->item);
    return 0;
}

static void
badtraverse_dealloc(badtraverse_object *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    (void)badtraverse_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyType_Slot badtraverse_slots[] = {
    {Py_tp_doc, "Holds one object; its tp_traverse is wrong on purpose."},
    {Py_tp_new, badtraverse_new},
    {Py_tp_traverse, badtraverse_traverse},
    {Py_tp_clear, badtraverse_clear},
    {Py_tp_dealloc, badtraverse_dealloc},
    {0, NULL},
};

static PyType_Spec badtraverse_spec = {
    .name = "pyhost._testing._leaky.BadTraverse",
    .basicsize = sizeof(badtraverse_object),
    .flags =
        Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = badtraverse_slots,
};

/* ---- functions ---------------------------------------------------------- */

PyDoc_STRVAR(leaky_leak_ref_doc,
"leak_ref(obj)\n--\n\nTake a reference to obj and never release it.");

static PyObject *
leaky_leak_ref(PyObject *module, PyObject *obj)
{
    (void)module;
    Py_INCREF(obj); /* the bug this module exists for */
    Py_RETURN_NONE;
}

PyDoc_STRVAR(leaky_release_doc,
"release(obj)\n--\n\nRelease one reference taken by leak_ref() or\n"
"make_orphan(); anything else is undefined behaviour.");

static PyObject *
leaky_release(PyObject *module, PyObject *obj)
{
    (void)module;
    Py_DECREF(obj);
    Py_RETURN_NONE;
}

PyDoc_STRVAR(leaky_make_orphan_doc,
"make_orphan(n)\n--\n\nBuild a list of n one-element lists, keep an extra\n"
"reference to it that nothing owns, and return id() of the lost list.");

static PyObject *
leaky_make_orphan(PyObject *module, PyObject *arg)
{
    (void)module;
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (n < 0) {
        PyErr_Format(PyExc_ValueError, "n must be >= 0, not %zd", n);
        return NULL;
    }
    PyObject *outer = PyList_New(n);
    if (outer == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *inner = Py_BuildValue("[n]", i);
        if (inner == NULL) {
            Py_DECREF(outer);
            return NULL;
        }
        PyList_SET_ITEM(outer, i, inner);
    }
    PyObject *id = PyLong_FromVoidPtr(outer);
    if (id == NULL) {
        Py_DECREF(outer);
        return NULL;
    }
    /* The reference from PyList_New is never released: outer is lost. */
    return id;
}

PyDoc_STRVAR(leaky_set_bad_traverse_doc,
"set_bad_traverse(armed)\n--\n\nArm (True) or disarm BadTraverse's wrong\n"
"tp_traverse.  Only with gc disabled: the collector crashes on it.");

static PyObject *
leaky_set_bad_traverse(PyObject *module, PyObject *arg)
{
    int armed = PyObject_IsTrue(arg);
    if (armed < 0) {
        return NULL;
    }
    get_leaky_state(module)->bad_traverse_armed = armed;
    Py_RETURN_NONE;
}

static PyMethodDef leaky_methods[] = {
    {"leak_ref", leaky_leak_ref, METH_O, leaky_leak_ref_doc},
    {"release", leaky_release, METH_O, leaky_release_doc},
    {"make_orphan", leaky_make_orphan, METH_O, leaky_make_orphan_doc},
    {"set_bad_traverse", leaky_set_bad_traverse, METH_O,
     leaky_set_bad_traverse_doc},
    {NULL, NULL, 0, NULL},
};

/* ---- module ------------------------------------------------------------- */

static int
leaky_exec(PyObject *module)
{
    leaky_state *st = get_leaky_state(module);
    st->bad_traverse_armed = 0;
    st->BadTraverseType = (PyTypeObject *)PyType_FromModuleAndSpec(
        module, &badtraverse_spec, NULL);
    if (st->BadTraverseType == NULL) {
        return -1;
    }
    return PyModule_AddObjectRef(module, "BadTraverse",
                                 (PyObject *)st->BadTraverseType);
}

static int
leaky_traverse(PyObject *module, visitproc visit, void *arg)
{
    Py_VISIT(get_leaky_state(module)->BadTraverseType);
    return 0;
}

static int
leaky_clear(PyObject *module)
{
    Py_CLEAR(get_leaky_state(module)->BadTraverseType);
    return 0;
}

static void
leaky_free(void *module)
{
    (void)leaky_clear((PyObject *)module);
}

static PyModuleDef_Slot leaky_slots[] = {
    {Py_mod_exec, leaky_exec},
    {0, NULL},
};

static struct PyModuleDef leaky_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pyhost._testing._leaky",
    .m_doc = "Test-only: leaks references on purpose for pyhost.leaks.",
    .m_size = sizeof(leaky_state),
    .m_methods = leaky_methods,
    .m_slots = leaky_slots,
    .m_traverse = leaky_traverse,
    .m_clear = leaky_clear,
    .m_free = leaky_free,
};

PyMODINIT_FUNC
PyInit__leaky(void)
{
    return PyModuleDef_Init(&leaky_module);
}
