/* SPDX-License-Identifier: MIT
 *
 * graph.c: the walks of pyhost.leaks over the object graph (tp_traverse).
 *
 * The scan must be about as fast as one full collection, so it does what
 * the collector does: instead of a hash table from object to counter, it
 * keeps each object's counter in the object itself.  With the GIL held and
 * no Python code running, nothing reads reference counts during the walk but
 * the walk itself, so it may borrow them:
 *
 *   pass 0  replace each listed object's count v with GRAPH_LISTED + v<<31:
 *           a count that large marks "listed", and it keeps v (below 2**31
 *           for every mortal object) with room for 2**31 visits below it,
 *           so no side array is needed (the scan adds 8 bytes per object,
 *           the list it walks, and nothing more);
 *   pass 1  tp_traverse every listed object, subtracting 1 from each object
 *           it visits (the collector's subtract_refs);
 *   read    decode v and the visits: a listed object nothing visited is an
 *           orphan; v minus the visits (minus the list's own reference) is
 *           its excess; then put v back.
 *
 * Objects that are not listed (str, int, untracked tuples and dicts) carry
 * no mark, so when they are wanted two more traversals replay pass 1:
 * pass 2 reads each one on its first visit (its count then is exactly its
 * excess), marks it by subtracting GRAPH_MARK and adds back one per visit;
 * pass 3 removes the mark on the first visit that sees it.  Every addition
 * matches one subtraction of the same visit sequence, so the counts come
 * back exactly even when a tp_traverse visits an object twice.
 *
 * Immortal objects (3.12+) are recognised from their count before it is
 * touched and never touched; a mortal count lowered by the walk cannot look
 * immortal because the test is made on the whole 64-bit value.
 */
#include "graph.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"

#if SIZEOF_VOID_P < 8
#error "pyhost.leaks._graph keeps marks in reference counts and needs 64 bits"
#endif
#ifdef Py_GIL_DISABLED
#error "pyhost.leaks._graph does not support the free-threaded build"
#endif

/* During a scan a listed object's count is GRAPH_LISTED + (v << 31) minus
 * its visits; every value from GRAPH_LISTED_MIN up means "listed". */
#define GRAPH_LISTED ((Py_ssize_t)1 << 62)
#define GRAPH_LISTED_MIN ((Py_ssize_t)1 << 61)
#define GRAPH_SHIFT 31
/* An unlisted object carries minus this much once pass 2 has read it. */
#define GRAPH_MARK ((Py_ssize_t)1 << 50)

static inline Py_ssize_t
graph_count(PyObject *o)
{
    return o->ob_refcnt;
}

static inline void
graph_set_count(PyObject *o, Py_ssize_t v)
{
    o->ob_refcnt = v;
}

static inline int
graph_is_listed_value(Py_ssize_t v)
{
    return v >= GRAPH_LISTED_MIN;
}

/* v: a mortal count, 0 <= v < 2**31 (larger ones count as immortal). */
static inline Py_ssize_t
graph_listed_encode(Py_ssize_t v)
{
    return GRAPH_LISTED + (v << GRAPH_SHIFT);
}

/* Split a listed value into the original count and the visits so far. */
static inline Py_ssize_t
graph_listed_decode(Py_ssize_t value, Py_ssize_t *visits)
{
    Py_ssize_t x = value - GRAPH_LISTED; /* (v << 31) - visits */
    Py_ssize_t v = (x + (((Py_ssize_t)1 << GRAPH_SHIFT) - 1)) >> GRAPH_SHIFT;
    *visits = (v << GRAPH_SHIFT) - x;
    return v;
}

/* 1 if o may be walked with tp_traverse. */
static inline int
graph_walkable(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    return PyType_IS_GC(tp) && tp->tp_traverse != NULL &&
           (tp->tp_is_gc == NULL || tp->tp_is_gc(o));
}

/* ---- growable arrays ---------------------------------------------------- */

static int
graph_grow(void **items, Py_ssize_t *cap, Py_ssize_t need, size_t itemsize)
{
    if (need <= *cap) {
        return 0;
    }
    Py_ssize_t ncap = *cap ? *cap * 2 : 64;
    while (ncap < need) {
        ncap *= 2;
    }
    void *p = PyMem_RawRealloc(*items, (size_t)ncap * itemsize);
    if (p == NULL) {
        return -ENOMEM;
    }
    *items = p;
    *cap = ncap;
    return 0;
}

void
pyhost__findings_clear(pyhost__findings_t *f)
{
    for (Py_ssize_t i = 0; i < f->len; i++) {
        Py_XDECREF(f->items[i].obj);
    }
    PyMem_RawFree(f->items);
    f->items = NULL;
    f->len = f->cap = 0;
}

/* Candidates are findings whose obj is still borrowed: the walk may not
 * touch reference counts it does not own until every count is back. */
typedef pyhost__findings_t graph_cands_t;

static int
graph_cands_add(graph_cands_t *c, PyObject *obj, Py_ssize_t excess)
{
    if (graph_grow((void **)&c->items, &c->cap, c->len + 1,
                   sizeof(pyhost__finding_t)) < 0) {
        return -ENOMEM;
    }
    pyhost__finding_t *f = &c->items[c->len++];
    f->obj = obj;
    f->excess = excess;
    f->kept_count = 1;
    f->kept_bytes = pyhost__graph_sizeof(obj);
    f->kept_complete = 1;
    return 0;
}

/* ---- pointer map (used by ranking and backref chains) ------------------- */

static inline size_t
graph_hash_ptr(const void *p)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

typedef struct {
    PyObject **keys;
    Py_ssize_t *vals;
    size_t mask;
    Py_ssize_t used;
} graph_map_t;

static int
graph_map_init(graph_map_t *m, Py_ssize_t expect)
{
    size_t cap = 64;
    if (expect > PYHOST__GRAPH_MAX_LIMIT) {
        return -ENOMEM; /* cap would overflow before it got there */
    }
    while (cap < (size_t)expect * 2) {
        cap <<= 1;
    }
    m->keys = PyMem_RawCalloc(cap, sizeof(PyObject *));
    m->vals = PyMem_RawMalloc(cap * sizeof(Py_ssize_t));
    m->mask = cap - 1;
    m->used = 0;
    if (m->keys == NULL || m->vals == NULL) {
        PyMem_RawFree(m->keys);
        PyMem_RawFree(m->vals);
        m->keys = NULL;
        m->vals = NULL;
        return -ENOMEM;
    }
    return 0;
}

static void
graph_map_free(graph_map_t *m)
{
    PyMem_RawFree(m->keys);
    PyMem_RawFree(m->vals);
    m->keys = NULL;
    m->vals = NULL;
}

/* Return the slot of key, or of the free slot where it would go. */
static inline size_t
graph_map_slot(const graph_map_t *m, PyObject *key)
{
    size_t i = graph_hash_ptr(key) & m->mask;
    while (m->keys[i] != NULL && m->keys[i] != key) {
        i = (i + 1) & m->mask;
    }
    return i;
}

static int
graph_map_rehash(graph_map_t *m)
{
    graph_map_t n;
    if (graph_map_init(&n, (Py_ssize_t)(m->mask + 1)) < 0) {
        return -ENOMEM;
    }
    for (size_t i = 0; i <= m->mask; i++) {
        if (m->keys[i] != NULL) {
            size_t s = graph_map_slot(&n, m->keys[i]);
            n.keys[s] = m->keys[i];
            n.vals[s] = m->vals[i];
        }
    }
    n.used = m->used;
    graph_map_free(m);
    *m = n;
    return 0;
}

/* Insert key (absent) with val; grows the table.  0 or -ENOMEM. */
static int
graph_map_put(graph_map_t *m, PyObject *key, Py_ssize_t val)
{
    if ((size_t)(m->used + 1) * 2 > m->mask + 1 && graph_map_rehash(m) < 0) {
        return -ENOMEM;
    }
    size_t s = graph_map_slot(m, key);
    m->keys[s] = key;
    m->vals[s] = val;
    m->used++;
    return 0;
}

static inline Py_ssize_t
graph_map_get(const graph_map_t *m, PyObject *key)
{
    size_t s = graph_map_slot(m, key);
    return m->keys[s] == NULL ? -1 : m->vals[s];
}

/* ---- sizes -------------------------------------------------------------- */

Py_ssize_t
pyhost__graph_sizeof(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    Py_ssize_t size = tp->tp_basicsize;
    if (tp->tp_itemsize != 0) {
        Py_ssize_t n = Py_SIZE(obj);
        size += (n < 0 ? -n : n) * tp->tp_itemsize;
    }
    /* The containers whose payload lives in a separate block.  Lists by
     * flag (subclasses too); sets and bytearrays by exact type, to keep
     * two PyType_IsSubtype() calls per object out of a census. */
    if (PyList_Check(obj)) {
        size += ((PyListObject *)obj)->allocated * (Py_ssize_t)sizeof(void *);
    }
    else if (PyAnySet_CheckExact(obj)) {
        PySetObject *s = (PySetObject *)obj;
        if (s->table != s->smalltable) {
            size += (s->mask + 1) * (Py_ssize_t)sizeof(setentry);
        }
    }
    else if (PyByteArray_CheckExact(obj)) {
        size += ((PyByteArrayObject *)obj)->ob_alloc;
    }
    if (PyType_IS_GC(tp)) {
        size += 2 * (Py_ssize_t)sizeof(void *); /* PyGC_Head */
    }
    return size;
}

/* ---- ranking: what each finding keeps alive ----------------------------- */

typedef struct {
    PyObject *obj;
    Py_ssize_t inref; /* references to obj from objects in the set */
    int outside;      /* held from outside the set, or under such */
} graph_node_t;

typedef struct {
    graph_map_t map; /* object -> index in nodes */
    graph_node_t *nodes;
    Py_ssize_t *stack;
    Py_ssize_t n;
    Py_ssize_t limit;
    Py_ssize_t sp;
    int truncated;
    int nomem;
    PyTypeObject *skip_type;
} graph_rank_t;

static int
graph_rank_init(graph_rank_t *rk, Py_ssize_t limit, PyTypeObject *skip_type)
{
    memset(rk, 0, sizeof(*rk));
    rk->limit = limit;
    rk->skip_type = skip_type;
    rk->nodes = PyMem_RawMalloc((size_t)limit * sizeof(graph_node_t));
    rk->stack = PyMem_RawMalloc((size_t)limit * sizeof(Py_ssize_t));
    if (rk->nodes == NULL || rk->stack == NULL ||
        graph_map_init(&rk->map, limit) < 0) {
        PyMem_RawFree(rk->nodes);
        PyMem_RawFree(rk->stack);
        return -ENOMEM;
    }
    return 0;
}

static void
graph_rank_free(graph_rank_t *rk)
{
    graph_map_free(&rk->map);
    PyMem_RawFree(rk->nodes);
    PyMem_RawFree(rk->stack);
}

/* Types, modules and functions are reached from nearly everything (a
 * function reaches its module's globals, hence the whole heap) and are
 * kept alive by modules and classes, never by one object: the ranking walk
 * counts them but does not walk through them. */
static inline int
graph_rank_expandable(graph_rank_t *rk, PyObject *o)
{
    return graph_walkable(o) && !PyType_Check(o) && !PyModule_Check(o) &&
           !PyFunction_Check(o) && Py_TYPE(o) != rk->skip_type;
}

static int
graph_rank_visit_collect(PyObject *o, void *arg)
{
    graph_rank_t *rk = arg;
    if (o == NULL || pyhost__refcnt_is_immortal(graph_count(o))) {
        return 0;
    }
    Py_ssize_t k = graph_map_get(&rk->map, o);
    if (k >= 0) {
        rk->nodes[k].inref++;
        return 0;
    }
    if (rk->n >= rk->limit) {
        rk->truncated = 1;
        return 0;
    }
    /* The map was sized for limit entries: this cannot grow it. */
    if (graph_map_put(&rk->map, o, rk->n) < 0) {
        rk->nomem = 1;
        return 0;
    }
    rk->nodes[rk->n].obj = o;
    rk->nodes[rk->n].inref = 1;
    rk->nodes[rk->n].outside = 0;
    rk->n++;
    return 0;
}

static int
graph_rank_visit_outside(PyObject *o, void *arg)
{
    graph_rank_t *rk = arg;
    if (o == NULL) {
        return 0;
    }
    Py_ssize_t k = graph_map_get(&rk->map, o);
    if (k > 0 && !rk->nodes[k].outside) {
        rk->nodes[k].outside = 1;
        rk->stack[rk->sp++] = k;
    }
    return 0;
}

/* Fill f->kept_*: the objects reachable from f->obj whose every reference
 * comes from within that set (f->obj included).  listed_refs is the number
 * of references the scan's own list still holds on each tracked object. */
static void
graph_rank_one(graph_rank_t *rk, pyhost__finding_t *f, Py_ssize_t listed_refs)
{
    rk->n = 0;
    rk->sp = 0;
    rk->truncated = 0;
    rk->nomem = 0;
    PyObject *root = f->obj;
    (void)graph_map_put(&rk->map, root, 0); /* sized for it: cannot fail */
    rk->nodes[0].obj = root;
    rk->nodes[0].inref = 0;
    rk->nodes[0].outside = 0;
    rk->n = 1;
    for (Py_ssize_t k = 0; k < rk->n; k++) {
        PyObject *y = rk->nodes[k].obj;
        if (graph_rank_expandable(rk, y)) {
            Py_TYPE(y)->tp_traverse(y, graph_rank_visit_collect, rk);
        }
    }
    /* Anything with a reference from outside the set, and everything it
     * reaches, lives on without root. */
    for (Py_ssize_t k = 1; k < rk->n; k++) {
        graph_node_t *nd = &rk->nodes[k];
        Py_ssize_t own = PyObject_GC_IsTracked(nd->obj) ? listed_refs : 0;
        if (!nd->outside && graph_count(nd->obj) - own > nd->inref) {
            nd->outside = 1;
            rk->stack[rk->sp++] = k;
        }
    }
    while (rk->sp > 0) {
        PyObject *y = rk->nodes[rk->stack[--rk->sp]].obj;
        if (graph_rank_expandable(rk, y)) {
            Py_TYPE(y)->tp_traverse(y, graph_rank_visit_outside, rk);
        }
    }
    Py_ssize_t count = 0, bytes = 0;
    for (Py_ssize_t k = 0; k < rk->n; k++) {
        graph_node_t *nd = &rk->nodes[k];
        if (!nd->outside) {
            count++;
            bytes += pyhost__graph_sizeof(nd->obj);
        }
        rk->stack[k] = (Py_ssize_t)graph_map_slot(&rk->map, nd->obj);
    }
    /* Find every slot before emptying any: emptying one first would cut
     * the probe chains that lead to the others. */
    for (Py_ssize_t k = 0; k < rk->n; k++) {
        rk->map.keys[rk->stack[k]] = NULL;
    }
    rk->map.used = 0;
    f->kept_count = count;
    f->kept_bytes = bytes;
    f->kept_complete = !rk->truncated && !rk->nomem;
}

/* ---- code objects ------------------------------------------------------- */

/* Code objects are not gc-tracked, yet they hold the constants, names and
 * file names of every function: without them each of those strings would
 * show an excess.  held scans walk them too, as referrers only. */
static void
graph_code_traverse(PyObject *o, visitproc visit, void *arg)
{
    PyCodeObject *co = (PyCodeObject *)o;
    PyObject *fields[] = {
        co->co_consts,
        co->co_names,
        co->co_exceptiontable,
        co->co_localsplusnames,
        co->co_localspluskinds,
        co->co_filename,
        co->co_name,
        co->co_qualname,
        co->co_linetable,
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        if (fields[i] != NULL) {
            visit(fields[i], arg);
        }
    }
}

/* Add o to the walk-only referrers unless already there.  0 or -ENOMEM. */
static int
graph_add_referrer(graph_map_t *seen, PyObject ***items, Py_ssize_t *n,
                   Py_ssize_t *cap, PyObject *o)
{
    if (graph_map_get(seen, o) >= 0) {
        return 0;
    }
    if (graph_map_put(seen, o, *n) < 0 ||
        graph_grow((void **)items, cap, *n + 1, sizeof(PyObject *)) < 0) {
        return -ENOMEM;
    }
    (*items)[(*n)++] = o;
    return 0;
}

/* An untracked tuple (atomic contents) is walked by nobody else. */
static inline int
graph_is_untracked_tuple(PyObject *o)
{
    return o != NULL && PyTuple_Check(o) && !PyObject_GC_IsTracked(o);
}

/* Collect, once each, the code objects of the listed functions, the code
 * objects nested in their constants, and the untracked tuples those hold
 * (co_consts, co_names, ... are often untracked, and shared between code
 * objects, so each is walked once here).  Borrowed: the functions keep
 * them alive.  0 or -ENOMEM. */
static int
graph_collect_codes(const pyhost__scan_spec_t *spec, PyObject ***out,
                    Py_ssize_t *nout)
{
    graph_map_t seen;
    PyObject **items = NULL;
    Py_ssize_t n = 0, cap = 0;
    if (graph_map_init(&seen, 1024) < 0) {
        return -ENOMEM;
    }
    for (Py_ssize_t i = 0; i < spec->nobjects; i++) {
        PyObject *o = spec->objects[i];
        if (!PyFunction_Check(o)) {
            continue;
        }
        PyObject *code = PyFunction_GET_CODE(o);
        if (code != NULL && PyCode_Check(code) &&
            graph_add_referrer(&seen, &items, &n, &cap, code) < 0) {
            goto fail;
        }
    }
    /* items grows while it is walked: nested code objects and tuples. */
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *o = items[k];
        if (PyCode_Check(o)) {
            PyCodeObject *co = (PyCodeObject *)o;
            PyObject *tuples[] = {co->co_consts, co->co_names,
                                  co->co_localsplusnames};
            for (size_t t = 0; t < 3; t++) {
                if (graph_is_untracked_tuple(tuples[t]) &&
                    graph_add_referrer(&seen, &items, &n, &cap, tuples[t]) <
                        0) {
                    goto fail;
                }
            }
            o = co->co_consts;
            if (o == NULL || !PyTuple_Check(o)) {
                continue;
            }
        }
        if (!PyTuple_Check(o)) {
            continue;
        }
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(o); j++) {
            PyObject *c = PyTuple_GET_ITEM(o, j);
            if ((PyCode_Check(c) || graph_is_untracked_tuple(c)) &&
                graph_add_referrer(&seen, &items, &n, &cap, c) < 0) {
                goto fail;
            }
        }
    }
    graph_map_free(&seen);
    *out = items;
    *nout = n;
    return 0;
fail:
    graph_map_free(&seen);
    PyMem_RawFree(items);
    return -ENOMEM;
}

/* The references a heap type holds that its tp_traverse does not visit:
 * its name, qualified name and __slots__. */
static inline void
graph_heaptype_names(PyObject *o, visitproc visit, void *arg)
{
    if (PyType_Check(o) &&
        PyType_HasFeature((PyTypeObject *)o, Py_TPFLAGS_HEAPTYPE)) {
        PyHeapTypeObject *ht = (PyHeapTypeObject *)o;
        if (ht->ht_name != NULL) {
            visit(ht->ht_name, arg);
        }
        if (ht->ht_qualname != NULL) {
            visit(ht->ht_qualname, arg);
        }
        if (ht->ht_slots != NULL) {
            visit(ht->ht_slots, arg);
        }
    }
}

/* ---- the scan ----------------------------------------------------------- */

typedef struct {
    int untracked; /* pass 1 also subtracts from unlisted objects */
    int want_held;
    int nomem;
    graph_cands_t *cands; /* unlisted objects with an excess (pass 2) */
} graph_scan_ctx_t;

static int
graph_scan_visit_subtract(PyObject *o, void *arg)
{
    graph_scan_ctx_t *ctx = arg;
    if (o == NULL) {
        return 0;
    }
    Py_ssize_t v = graph_count(o);
    if (graph_is_listed_value(v)) {
        graph_set_count(o, v - 1);
    }
    else if (ctx->untracked && !pyhost__refcnt_is_immortal(v)) {
        graph_set_count(o, v - 1);
    }
    return 0;
}

static int
graph_scan_visit_read_mark(PyObject *o, void *arg)
{
    graph_scan_ctx_t *ctx = arg;
    if (o == NULL) {
        return 0;
    }
    Py_ssize_t v = graph_count(o);
    if (graph_is_listed_value(v) || pyhost__refcnt_is_immortal(v)) {
        return 0;
    }
    if (v >= 0) {
        /* First visit in this pass: v is the excess, untouched by adds. */
        if (v > 0 && ctx->want_held && !PyObject_GC_IsTracked(o) &&
            !ctx->nomem && graph_cands_add(ctx->cands, o, v) < 0) {
            ctx->nomem = 1; /* keep walking: the counts must come back */
        }
        graph_set_count(o, v - GRAPH_MARK + 1);
    }
    else {
        graph_set_count(o, v + 1);
    }
    return 0;
}

static int
graph_scan_visit_unmark(PyObject *o, void *arg)
{
    (void)arg;
    if (o == NULL) {
        return 0;
    }
    Py_ssize_t v = graph_count(o);
    if (v < 0) {
        graph_set_count(o, v + GRAPH_MARK);
    }
    return 0;
}

static void
graph_scan_traverse_all(const pyhost__scan_spec_t *spec, PyTypeObject *skip,
                        PyObject *const *codes, Py_ssize_t ncodes,
                        visitproc visit, void *arg)
{
    for (Py_ssize_t i = 0; i < spec->nobjects; i++) {
        PyObject *o = spec->objects[i];
        if (Py_TYPE(o) != skip && o != spec->no_walk && graph_walkable(o)) {
            Py_TYPE(o)->tp_traverse(o, visit, arg);
            if (ncodes >= 0) {
                graph_heaptype_names(o, visit, arg);
            }
        }
    }
    for (Py_ssize_t i = 0; ncodes >= 0 && i < spec->nwalk_extra; i++) {
        PyObject *o = spec->walk_extra[i];
        if (graph_walkable(o)) {
            Py_TYPE(o)->tp_traverse(o, visit, arg);
        }
    }
    for (Py_ssize_t i = 0; i < ncodes; i++) {
        PyObject *o = codes[i];
        if (PyCode_Check(o)) {
            graph_code_traverse(o, visit, arg);
        }
        else {
            Py_TYPE(o)->tp_traverse(o, visit, arg);
        }
    }
}

static void
graph_scan_hidden_add(const pyhost__scan_spec_t *spec, Py_ssize_t delta)
{
    for (Py_ssize_t i = 0; i < spec->nhidden; i++) {
        PyObject *o = spec->hidden[i];
        Py_ssize_t v = graph_count(o);
        if (!pyhost__refcnt_is_immortal(v)) {
            graph_set_count(o, v + delta);
        }
    }
}

/* Discount the hidden references.  A caller that claims more references
 * to an object than it has would leave a negative count, which the passes
 * cannot restore (pass 3 takes any negative count for a mark): such a
 * claim is undone and refused.  0, or -EINVAL with *bad_index set. */
static int
graph_scan_hidden_take(const pyhost__scan_spec_t *spec, Py_ssize_t *bad_index)
{
    graph_scan_hidden_add(spec, -1);
    for (Py_ssize_t i = 0; i < spec->nhidden; i++) {
        if (graph_count(spec->hidden[i]) < 0) {
            graph_scan_hidden_add(spec, +1);
            *bad_index = i;
            return -EINVAL;
        }
    }
    return 0;
}

static int
graph_scan_reportable(const pyhost__scan_spec_t *spec, PyObject *o)
{
    for (size_t i = 0; i < sizeof(spec->own) / sizeof(spec->own[0]); i++) {
        if (o == spec->own[i]) {
            return 0;
        }
    }
    for (Py_ssize_t i = 0; i < spec->nexclude; i++) {
        if (spec->exclude[i] == o) {
            return 0;
        }
    }
    for (Py_ssize_t i = 0; i < spec->nexclude_types; i++) {
        /* Our own types too: their instances hold references to them. */
        if (Py_TYPE(o) == spec->exclude_types[i] ||
            o == (PyObject *)spec->exclude_types[i]) {
            return 0;
        }
    }
    return 1;
}

/* Move candidates into findings, taking a strong reference to each. */
static int
graph_scan_take(const pyhost__scan_spec_t *spec, graph_cands_t *cands,
                pyhost__findings_t *out)
{
    for (Py_ssize_t i = 0; i < cands->len; i++) {
        PyObject *o = cands->items[i].obj;
        if (!graph_scan_reportable(spec, o)) {
            continue;
        }
        if (graph_grow((void **)&out->items, &out->cap, out->len + 1,
                       sizeof(pyhost__finding_t)) < 0) {
            return -ENOMEM;
        }
        out->items[out->len] = cands->items[i];
        out->items[out->len].obj = Py_NewRef(o);
        out->len++;
    }
    return 0;
}

int
pyhost__graph_scan(const pyhost__scan_spec_t *spec,
                   pyhost__findings_t *orphans, pyhost__findings_t *held,
                   Py_ssize_t *bad_index)
{
    int rc = 0;
    Py_ssize_t n = spec->nobjects;
    /* The one type whose instances are not walked: their references are
     * the caller's hidden ones, discounted separately. */
    PyTypeObject *skip =
        spec->nexclude_types > 0 ? spec->exclude_types[0] : NULL;
    graph_cands_t orphan_c = {0}, held_c = {0}, untracked_c = {0};
    graph_rank_t rk;
    int rk_ready = 0;
    /* Extra referrers of held scans; ncodes -1 marks an orphan-only scan,
     * which sees exactly what gc.get_referents() sees. */
    PyObject **codes = NULL;
    Py_ssize_t ncodes = -1;
    if (spec->want_held && graph_collect_codes(spec, &codes, &ncodes) < 0) {
        return -ENOMEM;
    }
    if (spec->rank_limit > 0) {
        if (graph_rank_init(&rk, spec->rank_limit, skip) < 0) {
            PyMem_RawFree(codes);
            return -ENOMEM;
        }
        rk_ready = 1;
    }

    if (graph_scan_hidden_take(spec, bad_index) < 0) {
        rc = -EINVAL;
        goto fail;
    }
    /* From here to the end of pass 3 nothing may return early. */
    Py_ssize_t listed = 0, visits;
    for (; listed < n; listed++) {
        PyObject *o = spec->objects[listed];
        Py_ssize_t v = graph_count(o);
        if (pyhost__refcnt_is_immortal(v)) {
            continue;
        }
        if (graph_is_listed_value(v)) {
            *bad_index = listed;
            rc = -EEXIST;
            break;
        }
        graph_set_count(o, graph_listed_encode(v));
    }
    if (rc < 0) {
        for (Py_ssize_t i = 0; i < listed; i++) {
            PyObject *o = spec->objects[i];
            if (graph_is_listed_value(graph_count(o))) {
                graph_set_count(o,
                                graph_listed_decode(graph_count(o), &visits));
            }
        }
        graph_scan_hidden_add(spec, +1);
        goto fail;
    }

    graph_scan_ctx_t ctx = {
        .untracked = spec->want_held,
        .want_held = spec->want_held,
        .nomem = 0,
        .cands = &untracked_c,
    };
    graph_scan_traverse_all(spec, skip, codes, ncodes,
                            graph_scan_visit_subtract, &ctx);

    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = spec->objects[i];
        Py_ssize_t value = graph_count(o);
        if (!graph_is_listed_value(value)) {
            continue; /* immortal */
        }
        Py_ssize_t v = graph_listed_decode(value, &visits);
        Py_ssize_t excess = v - visits - 1; /* the list's own reference */
        if (!spec->want_held) {
            graph_set_count(o, v); /* no more passes: restore now */
        }
        if (ctx.nomem) {
            continue;
        }
        /* A held scan knows every reference it was told about (frames,
         * findings): an orphan they all explain (excess 0) is no leak. */
        if (spec->want_orphans && visits == 0 &&
            (!spec->want_held || excess > 0) &&
            graph_cands_add(&orphan_c, o, excess) < 0) {
            ctx.nomem = 1;
        }
        if (spec->want_held && excess > 0 &&
            graph_cands_add(&held_c, o, excess) < 0) {
            ctx.nomem = 1;
        }
    }
    if (spec->want_held) {
        graph_scan_traverse_all(spec, skip, codes, ncodes,
                                graph_scan_visit_read_mark, &ctx);
        graph_scan_traverse_all(spec, skip, codes, ncodes,
                                graph_scan_visit_unmark, NULL);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *o = spec->objects[i];
            if (graph_is_listed_value(graph_count(o))) {
                graph_set_count(o,
                                graph_listed_decode(graph_count(o), &visits));
            }
        }
    }
    /* Counts are back, less the hidden references.  Ranking reads them and
     * allocates no Python object; then the hidden references come back. */
    if (rk_ready && !ctx.nomem) {
        graph_cands_t *lists[3] = {&orphan_c, &held_c, &untracked_c};
        for (int l = 0; l < 3; l++) {
            for (Py_ssize_t i = 0; i < lists[l]->len; i++) {
                pyhost__finding_t *c = &lists[l]->items[i];
                if (graph_scan_reportable(spec, c->obj)) {
                    graph_rank_one(&rk, c, 1);
                }
            }
        }
    }
    graph_scan_hidden_add(spec, +1);
    if (ctx.nomem) {
        rc = -ENOMEM;
        goto fail;
    }
    if (graph_scan_take(spec, &orphan_c, orphans) < 0 ||
        graph_scan_take(spec, &held_c, held) < 0 ||
        graph_scan_take(spec, &untracked_c, held) < 0) {
        rc = -ENOMEM;
        goto fail;
    }
    goto done;

fail:
    pyhost__findings_clear(orphans);
    pyhost__findings_clear(held);
done:
    if (rk_ready) {
        graph_rank_free(&rk);
    }
    PyMem_RawFree(orphan_c.items);
    PyMem_RawFree(held_c.items);
    PyMem_RawFree(untracked_c.items);
    PyMem_RawFree(codes);
    return rc;
}

/* ---- census ------------------------------------------------------------- */

int
pyhost__census_init(pyhost__census_t *c)
{
    c->mask = 255;
    c->used = 0;
    c->last = NULL;
    c->rows = PyMem_RawCalloc(c->mask + 1, sizeof(pyhost__census_row_t));
    return c->rows == NULL ? -ENOMEM : 0;
}

void
pyhost__census_free(pyhost__census_t *c)
{
    PyMem_RawFree(c->rows);
    c->rows = NULL;
}

static inline size_t
graph_census_slot(const pyhost__census_row_t *rows, size_t mask,
                  PyTypeObject *tp)
{
    size_t i = graph_hash_ptr(tp) & mask;
    while (rows[i].type != NULL && rows[i].type != tp) {
        i = (i + 1) & mask;
    }
    return i;
}

static int
graph_census_grow(pyhost__census_t *c)
{
    size_t nmask = c->mask * 2 + 1;
    pyhost__census_row_t *n =
        PyMem_RawCalloc(nmask + 1, sizeof(pyhost__census_row_t));
    if (n == NULL) {
        return -ENOMEM;
    }
    for (size_t i = 0; i <= c->mask; i++) {
        if (c->rows[i].type != NULL) {
            n[graph_census_slot(n, nmask, c->rows[i].type)] = c->rows[i];
        }
    }
    PyMem_RawFree(c->rows);
    c->rows = n;
    c->mask = nmask;
    c->last = NULL;
    return 0;
}

int
pyhost__census_add(pyhost__census_t *c, PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    /* Neighbours in the gc list are often of one type: skip the hash. */
    if (c->last != NULL && c->last->type == tp) {
        c->last->count++;
        c->last->bytes += pyhost__graph_sizeof(obj);
        return 0;
    }
    size_t i = graph_census_slot(c->rows, c->mask, tp);
    if (c->rows[i].type == NULL) {
        if ((size_t)(c->used + 1) * 2 > c->mask + 1) {
            if (graph_census_grow(c) < 0) {
                return -ENOMEM;
            }
            i = graph_census_slot(c->rows, c->mask, tp);
        }
        c->rows[i].type = tp;
        c->used++;
    }
    c->rows[i].count++;
    c->rows[i].bytes += pyhost__graph_sizeof(obj);
    c->last = &c->rows[i];
    return 0;
}

/* ---- back-reference chain ----------------------------------------------- */

typedef struct {
    graph_map_t map; /* object -> node index */
    PyObject **objs;
    Py_ssize_t *parent;
    Py_ssize_t *depth;
    Py_ssize_t n;
    Py_ssize_t cap;
    Py_ssize_t current; /* node being walked */
    PyObject *target;
    Py_ssize_t found; /* node index of target, or -1 */
    int nomem;
} graph_bfs_t;

static int
graph_bfs_add(graph_bfs_t *b, PyObject *o, Py_ssize_t parent, Py_ssize_t depth)
{
    if (b->n == b->cap) {
        Py_ssize_t ncap = b->cap ? b->cap * 2 : 1024;
        PyObject **no = PyMem_RawRealloc(b->objs, ncap * sizeof(*no));
        if (no == NULL) {
            return -ENOMEM;
        }
        b->objs = no;
        Py_ssize_t *np = PyMem_RawRealloc(b->parent, ncap * sizeof(*np));
        if (np == NULL) {
            return -ENOMEM;
        }
        b->parent = np;
        Py_ssize_t *nd = PyMem_RawRealloc(b->depth, ncap * sizeof(*nd));
        if (nd == NULL) {
            return -ENOMEM;
        }
        b->depth = nd;
        b->cap = ncap;
    }
    if (graph_map_put(&b->map, o, b->n) < 0) {
        return -ENOMEM;
    }
    b->objs[b->n] = o;
    b->parent[b->n] = parent;
    b->depth[b->n] = depth;
    b->n++;
    return 0;
}

static int
graph_bfs_visit(PyObject *o, void *arg)
{
    graph_bfs_t *b = arg;
    /* Objects that cannot be walked (str, int, ...) lead nowhere: only
     * the target among them is worth a node, which keeps the table to the
     * containers. */
    if (o == NULL || (o != b->target && !graph_walkable(o)) ||
        graph_map_get(&b->map, o) >= 0) {
        return 0;
    }
    if (graph_bfs_add(b, o, b->current, b->depth[b->current] + 1) < 0) {
        b->nomem = 1;
        return 1;
    }
    if (o == b->target) {
        b->found = b->n - 1;
        return 1; /* stops this tp_traverse; nothing to undo */
    }
    return 0;
}

Py_ssize_t
pyhost__graph_backref_chain(PyObject *target, PyObject *const *roots,
                            Py_ssize_t nroots, Py_ssize_t max_depth,
                            PyTypeObject *const *skip_types, Py_ssize_t nskip,
                            PyObject ***chain)
{
    Py_ssize_t result = 0;
    graph_bfs_t b;
    memset(&b, 0, sizeof(b));
    b.target = target;
    b.found = -1;
    if (graph_map_init(&b.map, 1024) < 0) {
        return -ENOMEM;
    }
    for (Py_ssize_t i = 0; i < nroots && b.found < 0; i++) {
        if (graph_map_get(&b.map, roots[i]) >= 0) {
            continue;
        }
        if (graph_bfs_add(&b, roots[i], -1, 0) < 0) {
            result = -ENOMEM;
            goto done;
        }
        if (roots[i] == target) {
            b.found = b.n - 1;
        }
    }
    for (Py_ssize_t k = 0; k < b.n && b.found < 0; k++) {
        PyObject *o = b.objs[k];
        if (b.depth[k] >= max_depth || !graph_walkable(o)) {
            continue;
        }
        int skip = 0;
        for (Py_ssize_t s = 0; s < nskip; s++) {
            skip |= Py_TYPE(o) == skip_types[s];
        }
        if (skip) {
            continue;
        }
        b.current = k;
        Py_TYPE(o)->tp_traverse(o, graph_bfs_visit, &b);
        if (b.nomem) {
            result = -ENOMEM;
            goto done;
        }
    }
    if (b.found >= 0) {
        Py_ssize_t len = b.depth[b.found] + 1;
        PyObject **out = PyMem_RawMalloc((size_t)len * sizeof(PyObject *));
        if (out == NULL) {
            result = -ENOMEM;
            goto done;
        }
        for (Py_ssize_t k = b.found, i = len - 1; k >= 0; k = b.parent[k]) {
            out[i--] = b.objs[k];
        }
        *chain = out;
        result = len;
    }
done:
    graph_map_free(&b.map);
    PyMem_RawFree(b.objs);
    PyMem_RawFree(b.parent);
    PyMem_RawFree(b.depth);
    return result;
}

/* ---- snapshot identity keys --------------------------------------------- */

uint64_t
pyhost__graph_identity(PyObject *obj)
{
    /* Objects are at least 8-byte aligned: 3 low bits carry the type tag,
     * so a new object of another type at a reused address differs. */
    uint64_t tag = (uint64_t)graph_hash_ptr(Py_TYPE(obj)) >> 61;
    return (uint64_t)(uintptr_t)obj | tag;
}

int
pyhost__graph_sort_keys(uint64_t *keys, Py_ssize_t n)
{
    /* LSD radix sort, 16 bits a pass: linear in n for a million keys. */
    if (n <= 1) {
        return 0;
    }
    static const int shifts[4] = {0, 16, 32, 48};
    uint64_t *tmp = PyMem_RawMalloc((size_t)n * sizeof(uint64_t));
    Py_ssize_t *count = PyMem_RawMalloc(65536 * sizeof(Py_ssize_t));
    if (tmp == NULL || count == NULL) {
        PyMem_RawFree(tmp);
        PyMem_RawFree(count);
        return -ENOMEM;
    }
    uint64_t *src = keys, *dst = tmp;
    for (int p = 0; p < 4; p++) {
        int sh = shifts[p];
        memset(count, 0, 65536 * sizeof(Py_ssize_t));
        for (Py_ssize_t i = 0; i < n; i++) {
            count[(src[i] >> sh) & 0xFFFF]++;
        }
        Py_ssize_t sum = 0;
        for (int d = 0; d < 65536; d++) {
            Py_ssize_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            dst[count[(src[i] >> sh) & 0xFFFF]++] = src[i];
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    /* Four passes: the sorted keys are back in keys. */
    PyMem_RawFree(count);
    PyMem_RawFree(tmp);
    return 0;
}

int
pyhost__graph_has_key(const uint64_t *keys, Py_ssize_t n, uint64_t key)
{
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < key) {
            lo = mid + 1;
        }
        else {
            hi = mid;
        }
    }
    return lo < n && keys[lo] == key;
}
