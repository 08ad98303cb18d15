/* SPDX-License-Identifier: MIT
 *
 * graphmodule.c: the glue of pyhost.leaks._graph, the C half of pyhost.leaks.
 * Argument checking, the Finding type and conversion of graph.c's results
 * into Python objects; the walks themselves are in graph.c.
 *
 * A Finding holds a strong reference to the object it reports.  So that
 * holding findings does not change what later scans see, every live Finding
 * is kept on a list in the module state and each scan discounts the
 * reference it holds ("hidden" references): an orphan stays an orphan while
 * a snapshot holds it, and its excess does not grow by one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "compat.h"
#include "graph.h"

typedef struct graph_finding graph_finding_t;

typedef struct {
    PyObject *get_objects;     /* gc.get_objects, strong */
    PyTypeObject *FindingType; /* strong */
    graph_finding_t *findings; /* live findings; protected by the GIL */
    Py_ssize_t nfindings;
} graph_state_t;

static inline graph_state_t *
get_graph_state(PyObject *module)
{
    return (graph_state_t *)PyModule_GetState(module);
}

/* ---- Finding ------------------------------------------------------------ */

struct graph_finding {
    PyObject_HEAD
    PyObject *obj; /* strong; discounted by every scan (see top) */
    Py_ssize_t excess;
    Py_ssize_t kept_count;
    Py_ssize_t kept_bytes;
    int kept_complete;
    graph_state_t *state; /* the module outlives its type's instances */
    graph_finding_t *prev, *next;
};

/* Return a new Finding for f (its obj reference is taken over). */
static PyObject *
graph_finding_new(graph_state_t *st, pyhost__finding_t *f)
{
    graph_finding_t *self = PyObject_GC_New(graph_finding_t, st->FindingType);
    if (self == NULL) {
        return NULL;
    }
    self->obj = f->obj;
    f->obj = NULL;
    self->excess = f->excess;
    self->kept_count = f->kept_count;
    self->kept_bytes = f->kept_bytes;
    self->kept_complete = f->kept_complete;
    self->state = st;
    self->prev = NULL;
    self->next = st->findings;
    if (st->findings != NULL) {
        st->findings->prev = self;
    }
    st->findings = self;
    st->nfindings++;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

static int
graph_finding_traverse(graph_finding_t *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->obj);
    return 0;
}

static int
graph_finding_clear(graph_finding_t *self)
{
    Py_CLEAR(self->obj);
    return 0;
}

static void
graph_finding_dealloc(graph_finding_t *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    graph_state_t *st = self->state;
    if (self->prev != NULL) {
        self->prev->next = self->next;
    }
    else {
        st->findings = self->next;
    }
    if (self->next != NULL) {
        self->next->prev = self->prev;
    }
    st->nfindings--;
    (void)graph_finding_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
graph_finding_get_obj(graph_finding_t *self, void *closure)
{
    (void)closure;
    if (self->obj == NULL) {
        PyErr_SetString(PyExc_ReferenceError,
                        "the finding was cleared by the garbage collector");
        return NULL;
    }
    return Py_NewRef(self->obj);
}

static PyObject *
graph_finding_get_type(graph_finding_t *self, void *closure)
{
    (void)closure;
    if (self->obj == NULL) {
        Py_RETURN_NONE;
    }
    return Py_NewRef((PyObject *)Py_TYPE(self->obj));
}

static PyObject *
graph_finding_get_kept_complete(graph_finding_t *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->kept_complete);
}

static PyObject *
graph_finding_repr(graph_finding_t *self)
{
    if (self->obj == NULL) {
        return PyUnicode_FromString("<Finding (cleared)>");
    }
    return PyUnicode_FromFormat(
        "<Finding %s at %p excess=%zd kept=%s%zd objects/%zd bytes>",
        Py_TYPE(self->obj)->tp_name, (void *)self->obj, self->excess,
        self->kept_complete ? "" : ">=", self->kept_count, self->kept_bytes);
}

static PyMemberDef graph_finding_members[] = {
    {"excess", Py_T_PYSSIZET, offsetof(graph_finding_t, excess), Py_READONLY,
     "References to obj that no gc-tracked object accounts for."},
    {"kept_count", Py_T_PYSSIZET, offsetof(graph_finding_t, kept_count),
     Py_READONLY, "Objects reachable only through obj (obj included)."},
    {"kept_bytes", Py_T_PYSSIZET, offsetof(graph_finding_t, kept_bytes),
     Py_READONLY, "Their estimated shallow sizes, summed."},
    {NULL},
};

static PyGetSetDef graph_finding_getset[] = {
    {"obj", (getter)graph_finding_get_obj, NULL, "The object found.", NULL},
    {"type", (getter)graph_finding_get_type, NULL, "type(obj).", NULL},
    {"kept_complete", (getter)graph_finding_get_kept_complete, NULL,
     "False if kept_* is a lower bound (the walk hit its limit).", NULL},
    {NULL},
};

static PyType_Slot graph_finding_slots[] = {
    {Py_tp_doc, "One object a pyhost.leaks scan reports.  Holding it does "
                "not change later scans."},
    {Py_tp_traverse, graph_finding_traverse},
    {Py_tp_clear, graph_finding_clear},
    {Py_tp_dealloc, graph_finding_dealloc},
    {Py_tp_repr, graph_finding_repr},
    {Py_tp_members, graph_finding_members},
    {Py_tp_getset, graph_finding_getset},
    {0, NULL},
};

static PyType_Spec graph_finding_spec = {
    .name = "pyhost.leaks._graph.Finding",
    .basicsize = sizeof(graph_finding_t),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = graph_finding_slots,
};

/* ---- helpers ------------------------------------------------------------ */

/* Return a new reference to the list to scan: objects itself, or a fresh
 * gc.get_objects() when objects is None. */
static PyObject *
graph_objects_list(graph_state_t *st, PyObject *objects)
{
    if (objects == Py_None) {
        return PyObject_CallNoArgs(st->get_objects);
    }
    if (!PyList_Check(objects)) {
        PyErr_Format(PyExc_TypeError,
                     "objects must be a list or None, not %.200s",
                     Py_TYPE(objects)->tp_name);
        return NULL;
    }
    return Py_NewRef(objects);
}

/* Check that the tuple seq (PyArg checked it is one) holds only types;
 * returns 0 or -1 with TypeError. */
static int
graph_check_types(PyObject *seq, const char *what)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(seq); i++) {
        PyObject *t = PyTuple_GET_ITEM(seq, i);
        if (!PyType_Check(t)) {
            PyErr_Format(PyExc_TypeError,
                         "%s must hold only types, item %zd is %.200s", what,
                         i, Py_TYPE(t)->tp_name);
            return -1;
        }
    }
    return 0;
}

/* Check lo <= value <= hi (hi < 0: no upper bound); returns 0 or -1 with
 * ValueError.  The messages are pyhost.leaks._scan._check_int's, so an
 * argument reads the same whether the Python API or this module refused
 * it. */
static int
graph_check_range(const char *what, Py_ssize_t value, Py_ssize_t lo,
                  Py_ssize_t hi)
{
    if (value < lo) {
        PyErr_Format(PyExc_ValueError, "%s must be >= %zd, not %zd", what, lo,
                     value);
        return -1;
    }
    if (hi >= 0 && value > hi) {
        PyErr_Format(PyExc_ValueError, "%s must be <= %zd, not %zd", what, hi,
                     value);
        return -1;
    }
    return 0;
}

/* Return a new list of Findings built from f (emptied). */
static PyObject *
graph_findings_to_list(graph_state_t *st, pyhost__findings_t *f)
{
    PyObject *list = PyList_New(f->len);
    if (list == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < f->len; i++) {
        PyObject *item = graph_finding_new(st, &f->items[i]);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, i, item);
    }
    return list;
}

/* Parse the one optional argument objects of census() and identities();
 * fmt is "|O:name".  Sets *objects (borrowed, default None); 0 or -1. */
static int
graph_parse_objects(PyObject *args, PyObject *kwargs, const char *fmt,
                    PyObject **objects)
{
    static char *kwlist[] = {"objects", NULL};
    *objects = Py_None;
    return PyArg_ParseTupleAndKeywords(args, kwargs, fmt, kwlist, objects)
               ? 0
               : -1;
}

/* ---- methods ------------------------------------------------------------ */

PyDoc_STRVAR(graph_scan_doc,
"scan(objects=None, *, orphans=True, held=False, exclude=(),\n"
"     exclude_types=(), rank_limit=10000, frame_refs=(), walk_extra=())\n"
"--\n\n"
"Walk objects (default: gc.get_objects()) once with tp_traverse and return\n"
"(orphans, held): lists of Finding.  orphans: listed objects no listed\n"
"object refers to.  held: listed objects and objects they refer to whose\n"
"reference count exceeds the references found (excess > 0).  Objects in\n"
"exclude and instances of exclude_types are not reported.  rank_limit > 0\n"
"ranks each finding by what it keeps alive, walking at most that many\n"
"objects each; 0 skips ranking.  frame_refs: a tuple of the values of\n"
"running frames' local variables, one item per reference; those\n"
"references are not counted as external.  walk_extra: a tuple of\n"
"untracked containers whose references held scans count too.");

static PyObject *
graph_scan(PyObject *module, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"objects",    "orphans",       "held",
                             "exclude",    "exclude_types", "rank_limit",
                             "frame_refs", "walk_extra",    NULL};
    graph_state_t *st = get_graph_state(module);
    PyObject *objects = Py_None, *exclude = NULL, *exclude_types = NULL;
    PyObject *frame_refs = NULL, *walk_extra = NULL;
    int want_orphans = 1, want_held = 0;
    Py_ssize_t rank_limit = 10000;
    PyObject *list = NULL, *excl = NULL, *result = NULL;
    PyObject *orph_list = NULL, *held_list = NULL;
    PyObject **hidden = NULL;
    PyTypeObject **types = NULL;
    pyhost__findings_t orphans = {0}, held = {0};

    if (!PyArg_ParseTupleAndKeywords(
            args, kwargs, "|O$ppOO!nO!O!:scan", kwlist, &objects,
            &want_orphans, &want_held, &exclude, &PyTuple_Type, &exclude_types,
            &rank_limit, &PyTuple_Type, &frame_refs, &PyTuple_Type,
            &walk_extra)) {
        return NULL;
    }
    if (graph_check_range("rank_limit", rank_limit, 0,
                          PYHOST__GRAPH_MAX_LIMIT) < 0) {
        return NULL;
    }
    if (exclude_types != NULL &&
        graph_check_types(exclude_types, "exclude_types") < 0) {
        return NULL;
    }
    if (exclude != NULL) {
        excl = PySequence_Fast(exclude, "exclude must be a sequence");
        if (excl == NULL) {
            return NULL;
        }
    }
    list = graph_objects_list(st, objects);
    if (list == NULL) {
        goto error;
    }
    Py_ssize_t ntypes = exclude_types ? PyTuple_GET_SIZE(exclude_types) : 0;
    types = PyMem_Malloc((size_t)(ntypes + 1) * sizeof(PyTypeObject *));
    Py_ssize_t nframe = frame_refs ? PyTuple_GET_SIZE(frame_refs) : 0;
    hidden = PyMem_Malloc((size_t)(st->nfindings + 2 * nframe + 1) *
                          sizeof(PyObject *));
    if (types == NULL || hidden == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    /* Findings are reported by no scan and walked by none: type 0. */
    types[0] = st->FindingType;
    for (Py_ssize_t i = 0; i < ntypes; i++) {
        types[i + 1] = (PyTypeObject *)PyTuple_GET_ITEM(exclude_types, i);
    }
    Py_ssize_t nhidden = 0;
    for (graph_finding_t *f = st->findings; f != NULL; f = f->next) {
        if (f->obj != NULL) {
            hidden[nhidden++] = f->obj;
        }
    }
    /* Each frame_refs item: one reference from a running frame's local
     * variable, one from the frame_refs tuple itself (not walked). */
    for (Py_ssize_t i = 0; i < nframe; i++) {
        hidden[nhidden++] = PyTuple_GET_ITEM(frame_refs, i);
        hidden[nhidden++] = PyTuple_GET_ITEM(frame_refs, i);
    }
    pyhost__scan_spec_t spec = {
        .objects = (PyObject *const *)((PyListObject *)list)->ob_item,
        .nobjects = PyList_GET_SIZE(list),
        .hidden = hidden,
        .nhidden = nhidden,
        .exclude =
            excl ? (PyObject *const *)PySequence_Fast_ITEMS(excl) : NULL,
        .nexclude = excl ? PySequence_Fast_GET_SIZE(excl) : 0,
        /* excl: PySequence_Fast's new list when exclude was no list or
         * tuple, an orphan otherwise reported. */
        .own = {args, kwargs, exclude, exclude_types, frame_refs, walk_extra,
                objects, excl},
        .no_walk = frame_refs,
        .walk_extra = walk_extra
                          ? (PyObject *const *)&PyTuple_GET_ITEM(walk_extra, 0)
                          : NULL,
        .nwalk_extra = walk_extra ? PyTuple_GET_SIZE(walk_extra) : 0,
        .exclude_types = types,
        .nexclude_types = ntypes + 1,
        .want_orphans = want_orphans,
        .want_held = want_held,
        .rank_limit = rank_limit,
    };
    Py_ssize_t bad = -1;
    int rc = pyhost__graph_scan(&spec, &orphans, &held, &bad);
    if (rc == -EEXIST) {
        PyErr_Format(PyExc_ValueError,
                     "objects lists the same object twice (again at index "
                     "%zd)",
                     bad);
        goto error;
    }
    if (rc == -EINVAL) {
        PyErr_Format(PyExc_ValueError,
                     "frame_refs claims more references to a %.200s than it "
                     "has",
                     Py_TYPE(hidden[bad])->tp_name);
        goto error;
    }
    if (rc < 0) {
        PyErr_NoMemory();
        goto error;
    }
    orph_list = graph_findings_to_list(st, &orphans);
    if (orph_list == NULL) {
        goto error;
    }
    held_list = graph_findings_to_list(st, &held);
    if (held_list == NULL) {
        goto error;
    }
    result = PyTuple_Pack(2, orph_list, held_list);

error:
    pyhost__findings_clear(&orphans);
    pyhost__findings_clear(&held);
    Py_XDECREF(orph_list);
    Py_XDECREF(held_list);
    PyMem_Free(types);
    PyMem_Free(hidden);
    Py_XDECREF(list);
    Py_XDECREF(excl);
    return result;
}

/* PyUnstable_GC_VisitObjects callback: count obj; 0 stops the walk. */
static int
graph_census_visit(PyObject *obj, void *arg)
{
    pyhost__census_t *c = arg;
    if (pyhost__census_add(c, obj) < 0) {
        c->used = -1; /* out of memory: tell the caller */
        return 0;
    }
    return 1;
}

PyDoc_STRVAR(graph_census_doc,
"census(objects=None)\n"
"--\n\n"
"Count objects (default: the gc-tracked ones) by exact type.  Return a\n"
"dict {type: (count, estimated_bytes)}.");

static PyObject *
graph_census(PyObject *module, PyObject *args, PyObject *kwargs)
{
    graph_state_t *st = get_graph_state(module);
    PyObject *objects, *list = NULL, *result = NULL;
    pyhost__census_t c = {0};
    int types_held = 0;

    if (graph_parse_objects(args, kwargs, "|O:census", &objects) < 0) {
        return NULL;
    }
    if (pyhost__census_init(&c) < 0) {
        return PyErr_NoMemory();
    }
    /* Without a list of every object when the interpreter can walk them
     * itself (3.12+): that list costs more than the counting.  No object
     * can die during the walk (no Python code runs), and the types are
     * taken (strong references) before the dict is built. */
    if (objects == Py_None &&
        pyhost__gc_visit_objects(graph_census_visit, &c) == 0) {
        if (c.used < 0) {
            PyErr_NoMemory();
            goto error;
        }
    }
    else {
        list = graph_objects_list(st, objects);
        if (list == NULL) {
            goto error;
        }
        Py_ssize_t n = PyList_GET_SIZE(list);
        PyObject **items = ((PyListObject *)list)->ob_item;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (pyhost__census_add(&c, items[i]) < 0) {
                PyErr_NoMemory();
                goto error;
            }
        }
    }
    for (size_t i = 0; i <= c.mask; i++) {
        Py_XINCREF(c.rows[i].type);
    }
    types_held = 1;
    result = PyDict_New();
    if (result == NULL) {
        goto error;
    }
    for (size_t i = 0; i <= c.mask; i++) {
        pyhost__census_row_t *row = &c.rows[i];
        if (row->type == NULL) {
            continue;
        }
        PyObject *v = Py_BuildValue("(nn)", row->count, row->bytes);
        if (v == NULL ||
            PyDict_SetItem(result, (PyObject *)row->type, v) < 0) {
            Py_XDECREF(v);
            Py_CLEAR(result);
            goto error;
        }
        Py_DECREF(v);
    }

error:
    for (size_t i = 0; types_held && i <= c.mask; i++) {
        Py_XDECREF(c.rows[i].type);
    }
    pyhost__census_free(&c);
    Py_XDECREF(list);
    return result;
}

PyDoc_STRVAR(graph_identities_doc,
"identities(objects=None)\n"
"--\n\n"
"Return a bytes object of sorted 64-bit identity keys (address and type\n"
"tag) of objects (default: the gc-tracked ones), as a snapshot keeps them.");

static PyObject *
graph_identities(PyObject *module, PyObject *args, PyObject *kwargs)
{
    graph_state_t *st = get_graph_state(module);
    PyObject *objects, *list = NULL, *result = NULL;

    if (graph_parse_objects(args, kwargs, "|O:identities", &objects) < 0) {
        return NULL;
    }
    list = graph_objects_list(st, objects);
    if (list == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(list);
    result = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(uint64_t));
    if (result == NULL) {
        goto error;
    }
    uint64_t *keys = (uint64_t *)PyBytes_AS_STRING(result);
    for (Py_ssize_t i = 0; i < n; i++) {
        keys[i] = pyhost__graph_identity(PyList_GET_ITEM(list, i));
    }
    if (pyhost__graph_sort_keys(keys, n) < 0) {
        PyErr_NoMemory();
        Py_CLEAR(result);
    }

error:
    Py_DECREF(list);
    return result;
}

/* Set *keys and *n from the bytes b made by identities(); returns 0, or -1
 * with ValueError when b cannot hold whole keys. */
static int
graph_keys_from(PyObject *b, const char *what, const uint64_t **keys,
                Py_ssize_t *n)
{
    if (PyBytes_GET_SIZE(b) % sizeof(uint64_t) != 0) {
        PyErr_Format(PyExc_ValueError,
                     "%s must be bytes from identities(), a multiple of 8 "
                     "bytes long, not %zd",
                     what, PyBytes_GET_SIZE(b));
        return -1;
    }
    *keys = (const uint64_t *)PyBytes_AS_STRING(b);
    *n = PyBytes_GET_SIZE(b) / (Py_ssize_t)sizeof(uint64_t);
    return 0;
}

PyDoc_STRVAR(graph_new_objects_doc,
"new_objects(old, new, types, limit)\n"
"--\n\n"
"Return {type: [obj, ...]}: up to limit live gc-tracked objects of each of\n"
"types whose identity is in the keys new (None: any) and not in old.");

static PyObject *
graph_new_objects(PyObject *module, PyObject *args)
{
    graph_state_t *st = get_graph_state(module);
    PyObject *old_b, *new_b, *types;
    Py_ssize_t limit;
    const uint64_t *old_k, *new_k = NULL;
    Py_ssize_t old_n, new_n = 0;
    PyObject *list = NULL, *result = NULL;

    if (!PyArg_ParseTuple(args, "SOO!n:new_objects", &old_b, &new_b,
                          &PyTuple_Type, &types, &limit)) {
        return NULL;
    }
    /* new: bytes or None, which PyArg has no format for; the message is
     * the one PyArg gives for "S". */
    if (new_b != Py_None && !PyBytes_Check(new_b)) {
        PyErr_Format(PyExc_TypeError,
                     "new_objects() argument 2 must be bytes or None, "
                     "not %.200s",
                     Py_TYPE(new_b)->tp_name);
        return NULL;
    }
    if (graph_keys_from(old_b, "old", &old_k, &old_n) < 0 ||
        (new_b != Py_None &&
         graph_keys_from(new_b, "new", &new_k, &new_n) < 0) ||
        graph_check_types(types, "types") < 0 ||
        graph_check_range("limit", limit, 0, -1) < 0) {
        return NULL;
    }
    list = PyObject_CallNoArgs(st->get_objects);
    if (list == NULL) {
        return NULL;
    }
    result = PyDict_New();
    if (result == NULL) {
        goto error;
    }
    for (Py_ssize_t t = 0; t < PyTuple_GET_SIZE(types); t++) {
        PyObject *l = PyList_New(0);
        if (l == NULL ||
            PyDict_SetItem(result, PyTuple_GET_ITEM(types, t), l) < 0) {
            Py_XDECREF(l);
            goto error;
        }
        Py_DECREF(l);
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        PyObject *o = PyList_GET_ITEM(list, i);
        PyObject *bucket =
            PyDict_GetItemWithError(result, (PyObject *)Py_TYPE(o));
        if (bucket == NULL) {
            if (PyErr_Occurred()) {
                goto error;
            }
            continue;
        }
        if (PyList_GET_SIZE(bucket) >= limit) {
            continue;
        }
        uint64_t key = pyhost__graph_identity(o);
        if (pyhost__graph_has_key(old_k, old_n, key) ||
            (new_k != NULL && !pyhost__graph_has_key(new_k, new_n, key))) {
            continue;
        }
        if (PyList_Append(bucket, o) < 0) {
            goto error;
        }
    }
    Py_DECREF(list);
    return result;

error:
    Py_DECREF(list);
    Py_XDECREF(result);
    return NULL;
}

PyDoc_STRVAR(graph_backref_chain_doc,
"backref_chain(target, roots, max_depth, skip_types=())\n"
"--\n\n"
"Breadth-first search from roots (a list) over tp_traverse.  Return the\n"
"shortest chain [root, ..., target] as a list, or None when target is not\n"
"reachable within max_depth references.");

static PyObject *
graph_backref_chain(PyObject *module, PyObject *args)
{
    graph_state_t *st = get_graph_state(module);
    PyObject *target, *roots, *skip = NULL;
    Py_ssize_t max_depth;
    PyObject **chain = NULL;
    PyTypeObject **types = NULL;
    PyObject *result = NULL;

    if (!PyArg_ParseTuple(args, "OO!n|O!:backref_chain", &target, &PyList_Type,
                          &roots, &max_depth, &PyTuple_Type, &skip)) {
        return NULL;
    }
    if (graph_check_range("max_depth", max_depth, 0, -1) < 0) {
        return NULL;
    }
    if (skip != NULL && graph_check_types(skip, "skip_types") < 0) {
        return NULL;
    }
    Py_ssize_t nskip = skip ? PyTuple_GET_SIZE(skip) : 0;
    types = PyMem_Malloc((size_t)(nskip + 1) * sizeof(PyTypeObject *));
    if (types == NULL) {
        return PyErr_NoMemory();
    }
    types[0] = st->FindingType;
    for (Py_ssize_t i = 0; i < nskip; i++) {
        types[i + 1] = (PyTypeObject *)PyTuple_GET_ITEM(skip, i);
    }
    Py_ssize_t len = pyhost__graph_backref_chain(
        target, (PyObject *const *)((PyListObject *)roots)->ob_item,
        PyList_GET_SIZE(roots), max_depth, types, nskip + 1, &chain);
    if (len < 0) {
        PyErr_NoMemory();
        goto error;
    }
    if (len == 0) {
        result = Py_NewRef(Py_None);
        goto error;
    }
    /* Nothing ran since the walk: every pointer in chain is alive.  Take
     * them before allocating the list, which can run a collection (3.11)
     * and with it finalizers that could free them. */
    for (Py_ssize_t i = 0; i < len; i++) {
        Py_INCREF(chain[i]);
    }
    result = PyList_New(len);
    if (result == NULL) {
        for (Py_ssize_t i = 0; i < len; i++) {
            Py_DECREF(chain[i]);
        }
        goto error;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        PyList_SET_ITEM(result, i, chain[i]);
    }

error:
    PyMem_RawFree(chain);
    PyMem_Free(types);
    return result;
}

PyDoc_STRVAR(graph_sizeof_doc,
"sizeof(obj)\n"
"--\n\n"
"The shallow size pyhost.leaks estimates for obj, from its type's layout.");

static PyObject *
graph_sizeof(PyObject *module, PyObject *obj)
{
    (void)module;
    return PyLong_FromSsize_t(pyhost__graph_sizeof(obj));
}

PyDoc_STRVAR(graph_is_interned_doc,
"is_interned(s)\n"
"--\n\n"
"True if the str s is interned (shared by code objects and C tables),\n"
"without interning it as sys.intern() would.");

static PyObject *
graph_is_interned(PyObject *module, PyObject *s)
{
    (void)module;
    if (!PyUnicode_Check(s)) {
        /* The message PyArg gives a METH_O "U" argument. */
        PyErr_Format(PyExc_TypeError,
                     "is_interned() argument must be str, not %.200s",
                     Py_TYPE(s)->tp_name);
        return NULL;
    }
    return PyBool_FromLong(PyUnicode_CHECK_INTERNED(s) != 0);
}

PyDoc_STRVAR(graph_hidden_count_doc,
"hidden_count(obj)\n"
"--\n\n"
"How many live Findings hold obj (references every scan discounts).");

static PyObject *
graph_hidden_count(PyObject *module, PyObject *obj)
{
    graph_state_t *st = get_graph_state(module);
    Py_ssize_t n = 0;
    for (graph_finding_t *f = st->findings; f != NULL; f = f->next) {
        n += f->obj == obj;
    }
    return PyLong_FromSsize_t(n);
}

static PyMethodDef graph_methods[] = {
    {"scan", (PyCFunction)(void (*)(void))graph_scan,
     METH_VARARGS | METH_KEYWORDS, graph_scan_doc},
    {"census", (PyCFunction)(void (*)(void))graph_census,
     METH_VARARGS | METH_KEYWORDS, graph_census_doc},
    {"identities", (PyCFunction)(void (*)(void))graph_identities,
     METH_VARARGS | METH_KEYWORDS, graph_identities_doc},
    {"new_objects", graph_new_objects, METH_VARARGS, graph_new_objects_doc},
    {"backref_chain", graph_backref_chain, METH_VARARGS,
     graph_backref_chain_doc},
    {"sizeof", graph_sizeof, METH_O, graph_sizeof_doc},
    {"is_interned", graph_is_interned, METH_O, graph_is_interned_doc},
    {"hidden_count", graph_hidden_count, METH_O, graph_hidden_count_doc},
    {NULL, NULL, 0, NULL},
};

/* ---- module ------------------------------------------------------------- */

static int
graph_exec(PyObject *module)
{
    graph_state_t *st = get_graph_state(module);
    st->findings = NULL;
    st->nfindings = 0;
    PyObject *gc = PyImport_ImportModule("gc");
    if (gc == NULL) {
        return -1;
    }
    st->get_objects = PyObject_GetAttrString(gc, "get_objects");
    Py_DECREF(gc);
    if (st->get_objects == NULL) {
        return -1;
    }
    st->FindingType = (PyTypeObject *)PyType_FromModuleAndSpec(
        module, &graph_finding_spec, NULL);
    if (st->FindingType == NULL) {
        return -1;
    }
    if (PyModule_AddObjectRef(module, "Finding", (PyObject *)st->FindingType) <
            0 ||
        PyModule_AddIntConstant(module, "MAX_RANK_LIMIT",
                                (long)PYHOST__GRAPH_MAX_LIMIT) < 0) {
        return -1;
    }
    return 0;
}

static int
graph_traverse(PyObject *module, visitproc visit, void *arg)
{
    graph_state_t *st = get_graph_state(module);
    Py_VISIT(st->get_objects);
    Py_VISIT(st->FindingType);
    return 0;
}

static int
graph_clear(PyObject *module)
{
    graph_state_t *st = get_graph_state(module);
    Py_CLEAR(st->get_objects);
    Py_CLEAR(st->FindingType);
    return 0;
}

static void
graph_free(void *module)
{
    (void)graph_clear((PyObject *)module);
}

static PyModuleDef_Slot graph_slots[] = {
    {Py_mod_exec, graph_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef graph_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pyhost.leaks._graph",
    .m_doc = "C half of pyhost.leaks: heap scans over tp_traverse.",
    .m_size = sizeof(graph_state_t),
    .m_methods = graph_methods,
    .m_slots = graph_slots,
    .m_traverse = graph_traverse,
    .m_clear = graph_clear,
    .m_free = graph_free,
};

PyMODINIT_FUNC
PyInit__graph(void)
{
    return PyModuleDef_Init(&graph_module);
}
