/* SPDX-License-Identifier: MIT
 *
 * compat.h: the few places where CPython 3.11, 3.12 and 3.13 differ in ways
 * our C code has to know about, each behind one small inline function, so
 * that no other file tests PY_VERSION_HEX.  Include after Python.h.
 */
#ifndef PYHOST_COMPAT_H
#define PYHOST_COMPAT_H

#include <Python.h>

/* Return 1 if obj is immortal (PEP 683, 3.12+): its reference count never
 * changes, so a missing or extra reference on it can neither be seen nor
 * do harm.  Always 0 on 3.11, where nothing is immortal. */
static inline int
pyhost__is_immortal(PyObject *obj)
{
#if PY_VERSION_HEX >= 0x030E0000
    return PyUnstable_IsImmortal(obj);
#elif PY_VERSION_HEX >= 0x030C0000
    return _Py_IsImmortal(obj);
#else
    (void)obj;
    return 0;
#endif
}

/* Take the raised exception out of the error indicator: a new reference to
 * the (normalized) exception instance with its traceback attached, or NULL
 * if no exception is set.  3.12 deprecated PyErr_Fetch for this. */
static inline PyObject *
pyhost__err_take(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (type == NULL) {
        return NULL;
    }
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && tb != NULL) {
        PyException_SetTraceback(value, tb);
    }
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/* Return 1 if a raw ob_refcnt value is an immortal one, judged from the
 * whole 64-bit value only, so that a count a heap walk has temporarily
 * lowered (even below zero) never looks immortal; CPython's own test looks
 * at the sign of the low 32 bits.  3.12 and 3.13 store UINT32_MAX (3.14 at
 * least 2**31).  3.11 has no immortals, but its statically allocated
 * objects (1-character strings, small ints, ...) start at 999999999 and
 * are never freed: counts that large are treated the same.  Mortal counts
 * never come near either bound. */
static inline int
pyhost__refcnt_is_immortal(Py_ssize_t refcnt)
{
#if PY_VERSION_HEX >= 0x030C0000
    return refcnt >= ((Py_ssize_t)1 << 31) && refcnt < ((Py_ssize_t)1 << 40);
#else
    return refcnt >= ((Py_ssize_t)1 << 28) && refcnt < ((Py_ssize_t)1 << 40);
#endif
}

/* PyMemberDef constants: 3.12 renamed them (Py_T_*, Py_READONLY) and
 * moved them out of structmember.h. */
#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>
#define Py_T_PYSSIZET T_PYSSIZET
#define Py_READONLY READONLY
#endif

/* Raise exc (stealing the reference; NULL clears); the inverse of
 * pyhost__err_take. */
static inline void
pyhost__err_set_raised(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    if (exc == NULL) {
        PyErr_Clear();
        return;
    }
    PyObject *type = (PyObject *)Py_TYPE(exc);
    Py_INCREF(type);
    PyErr_Restore(type, exc, PyException_GetTraceback(exc));
#endif
}

/* PyLong_AsInt (3.13+): -1 with an exception set on error. */
static inline int
pyhost__long_as_int(PyObject *obj)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyLong_AsInt(obj);
#else
    int overflow;
    long v = PyLong_AsLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow || v > INT_MAX || v < INT_MIN) {
        PyErr_SetString(PyExc_OverflowError,
                        "Python int too large to convert to C int");
        return -1;
    }
    return (int)v;
#endif
}

/* Call visit(obj, arg) for every gc-tracked object without building the
 * list gc.get_objects() builds (3.12+: PyUnstable_GC_VisitObjects, which
 * stops when visit returns 0).  Returns 0, or -1 on 3.11, which has no
 * such walk: the caller falls back to gc.get_objects(). */
typedef int (*pyhost__gc_visit_t)(PyObject *obj, void *arg);

static inline int
pyhost__gc_visit_objects(pyhost__gc_visit_t visit, void *arg)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyUnstable_GC_VisitObjects(visit, arg);
    return 0;
#else
    (void)visit;
    (void)arg;
    return -1;
#endif
}

#endif /* PYHOST_COMPAT_H */
