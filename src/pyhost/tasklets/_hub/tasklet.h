/* SPDX-License-Identifier: MIT
 *
 * tasklet.h: the few greenlet operations the hub needs.  tasklet.c is the
 * only file that includes greenlet.h (its API pointer is a per-file static),
 * so every greenlet call goes through these functions.
 */
#ifndef PYHOST_HUB_TASKLET_H
#define PYHOST_HUB_TASKLET_H

#include <Python.h>

/* Import greenlet's C API.  Return 0, or -1 with an exception set. */
int pyhost__greenlet_import(void);
/* Return a new reference to the running greenlet, or NULL with an
 * exception set. */
PyObject *pyhost__greenlet_current(void);
/* Return a new reference to the root (main) greenlet of g's thread. */
PyObject *pyhost__greenlet_root(PyObject *g);
/* Return a new greenlet running run() whose parent is parent. */
PyObject *pyhost__greenlet_new(PyObject *run, PyObject *parent);
/* Switch to g passing args (a tuple, or NULL for none); return what the
 * switch back brings (new reference), or NULL with an exception set. */
PyObject *pyhost__greenlet_switch(PyObject *g, PyObject *args);
/* Raise exc (an exception instance) inside g; returns like switch. */
PyObject *pyhost__greenlet_throw(PyObject *g, PyObject *exc);
/* 1 when g has finished (started and no longer active), else 0. */
int pyhost__greenlet_dead(PyObject *g);
/* 1 when g has started running. */
int pyhost__greenlet_started(PyObject *g);
/* 1 when g is a greenlet. */
int pyhost__greenlet_check(PyObject *obj);
/* Borrowed reference to greenlet.GreenletExit. */
PyObject *pyhost__greenlet_exit_type(void);

#endif /* PYHOST_HUB_TASKLET_H */
