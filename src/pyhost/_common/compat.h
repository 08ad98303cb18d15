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
pyhost_is_immortal(PyObject *obj)
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

#endif /* PYHOST_COMPAT_H */
