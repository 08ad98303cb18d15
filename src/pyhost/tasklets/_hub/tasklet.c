/* SPDX-License-Identifier: MIT
 *
 * tasklet.c: the only translation unit that uses greenlet's C API.  A
 * tasklet is a greenlet; the hub switches between them with these calls.
 * greenlet.h keeps its API table in a static pointer, which is why it is
 * included here and nowhere else.
 */
#include <Python.h>
#include <greenlet.h>

#include "tasklet.h"

int
pyhost__greenlet_import(void)
{
    if (_PyGreenlet_API != NULL) {
        return 0;
    }
    PyGreenlet_Import();
    if (_PyGreenlet_API == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_ImportError,
                            "cannot import greenlet's C API");
        }
        return -1;
    }
    return 0;
}

PyObject *
pyhost__greenlet_current(void)
{
    return (PyObject *)PyGreenlet_GetCurrent();
}

PyObject *
pyhost__greenlet_root(PyObject *g)
{
    Py_INCREF(g);
    for (;;) {
        PyObject *parent = (PyObject *)PyGreenlet_GetParent((PyGreenlet *)g);
        if (parent == NULL) {
            if (PyErr_Occurred()) {
                Py_DECREF(g);
                return NULL;
            }
            return g;
        }
        Py_DECREF(g);
        g = parent;
    }
}

PyObject *
pyhost__greenlet_new(PyObject *run, PyObject *parent)
{
    return (PyObject *)PyGreenlet_New(run, (PyGreenlet *)parent);
}

PyObject *
pyhost__greenlet_switch(PyObject *g, PyObject *args)
{
    return PyGreenlet_Switch((PyGreenlet *)g, args, NULL);
}

PyObject *
pyhost__greenlet_throw(PyObject *g, PyObject *exc)
{
    PyObject *tb = PyException_GetTraceback(exc);
    PyObject *res =
        PyGreenlet_Throw((PyGreenlet *)g, (PyObject *)Py_TYPE(exc), exc, tb);
    Py_XDECREF(tb);
    return res;
}

int
pyhost__greenlet_dead(PyObject *g)
{
    return PyGreenlet_STARTED((PyGreenlet *)g) &&
           !PyGreenlet_ACTIVE((PyGreenlet *)g);
}

int
pyhost__greenlet_started(PyObject *g)
{
    return PyGreenlet_STARTED((PyGreenlet *)g);
}

int
pyhost__greenlet_check(PyObject *obj)
{
    return PyGreenlet_Check(obj);
}

PyObject *
pyhost__greenlet_exit_type(void)
{
    return PyExc_GreenletExit;
}
