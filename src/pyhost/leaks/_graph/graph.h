/* SPDX-License-Identifier: MIT
 *
 * graph.h: the heap walks behind pyhost.leaks, written against the CPython C
 * API but free of module code (no module state, no argument parsing).  Every
 * function here holds the GIL, runs no Python code and allocates no Python
 * object while it walks, so the object graph cannot change under it.
 *
 * The scan keeps its per-object bookkeeping inside the objects' own
 * reference counts (the way the collector keeps gc_refs next to each object)
 * and puts every count back exactly before it returns; see graph.c.
 */
#ifndef PYHOST_LEAKS_GRAPH_H
#define PYHOST_LEAKS_GRAPH_H

#include <Python.h>

/* One object a scan reports.  obj is a strong reference owned by the
 * finding array it sits in (released by pyhost__findings_clear). */
typedef struct {
    PyObject *obj;
    Py_ssize_t excess;     /* references not found in gc-tracked objects */
    Py_ssize_t kept_count; /* objects reachable only through obj, obj too */
    Py_ssize_t kept_bytes; /* their estimated shallow sizes, summed */
    int kept_complete;     /* 0 if the walk hit its limit (lower bound) */
} pyhost__finding_t;

typedef struct {
    pyhost__finding_t *items;
    Py_ssize_t len;
    Py_ssize_t cap;
} pyhost__findings_t;

void pyhost__findings_clear(pyhost__findings_t *f);

/* The largest rank_limit: its tables (about 64 bytes an entry) must not
 * overflow a size_t. */
#define PYHOST__GRAPH_MAX_LIMIT ((Py_ssize_t)1 << 40)

/* What a scan computes and what it leaves out. */
typedef struct {
    PyObject *const *objects; /* the objects to scan, borrowed */
    Py_ssize_t nobjects;
    PyObject *const *hidden; /* each owns one reference to be discounted */
    Py_ssize_t nhidden;
    PyObject *const *exclude; /* never reported; borrowed */
    Py_ssize_t nexclude;
    PyObject *own[8];  /* the scan call's own containers (its args tuple,
                          kwargs dict, the exclude sequence, ...): never
                          reported; NULL-padded */
    PyObject *no_walk; /* a container neither walked nor reported; the
                          caller lists its references in hidden */
    PyObject *const *walk_extra; /* untracked containers walked as
                                    referrers by held scans; borrowed */
    Py_ssize_t nwalk_extra;
    PyTypeObject *const *exclude_types; /* instances never reported, and
                                           never walked as referrers */
    Py_ssize_t nexclude_types;
    int want_orphans;      /* fill orphans */
    int want_held;         /* fill held (tracked and untracked objects) */
    Py_ssize_t rank_limit; /* >0: rank findings, walking at most this many
                              objects each (at most PYHOST__GRAPH_MAX_LIMIT);
                              0: no ranking */
} pyhost__scan_spec_t;

/* Scan spec->objects (each listed once; the caller's container holds one
 * reference to each).  On success returns 0 and fills orphans (listed
 * objects no listed object refers to) and held (objects whose reference
 * count exceeds the references found in listed objects, with the excess).
 * When held is wanted, more referrers count: the code objects of listed
 * functions and the untracked tuples they hold (not tracked by the gc, but
 * holders of most constants and names), and the names of heap types.
 * Returns -ENOMEM, -EEXIST with *bad_index set when an object is listed
 * twice, or -EINVAL with *bad_index set when hidden[*bad_index] claims more
 * references than its object has; every reference count is back to its
 * value on every path. */
int pyhost__graph_scan(const pyhost__scan_spec_t *spec,
                       pyhost__findings_t *orphans, pyhost__findings_t *held,
                       Py_ssize_t *bad_index);

/* Estimated shallow size of obj in bytes from its type's layout, without
 * calling __sizeof__ (no Python code may run during a walk). */
Py_ssize_t pyhost__graph_sizeof(PyObject *obj);

/* Count objects and estimated bytes by exact type.  Returns 0, or -ENOMEM.
 * types[i] are borrowed from the objects' own ob_type. */
typedef struct {
    PyTypeObject *type;
    Py_ssize_t count;
    Py_ssize_t bytes;
} pyhost__census_row_t;

typedef struct {
    pyhost__census_row_t *rows; /* open-addressing table, type==NULL free */
    size_t mask;
    Py_ssize_t used;
    pyhost__census_row_t *last; /* row of the last type counted, or NULL */
} pyhost__census_t;

int pyhost__census_init(pyhost__census_t *c);
int pyhost__census_add(pyhost__census_t *c, PyObject *obj);
void pyhost__census_free(pyhost__census_t *c);

/* Breadth-first search from roots over tp_traverse for target.  On success
 * returns the chain length (>= 1) and sets *chain to a PyMem_RawMalloc'ed
 * array of borrowed pointers from a root to target; returns 0 when target is
 * not reachable within max_depth references, -ENOMEM on failure.  Instances
 * of skip_types are not walked through. */
Py_ssize_t pyhost__graph_backref_chain(PyObject *target,
                                       PyObject *const *roots,
                                       Py_ssize_t nroots, Py_ssize_t max_depth,
                                       PyTypeObject *const *skip_types,
                                       Py_ssize_t nskip, PyObject ***chain);

/* The identity keys a snapshot keeps: the address of each object with a
 * 3-bit tag of its type in the (always zero) low bits, sorted. */
uint64_t pyhost__graph_identity(PyObject *obj);
int pyhost__graph_sort_keys(uint64_t *keys, Py_ssize_t n);
int pyhost__graph_has_key(const uint64_t *keys, Py_ssize_t n, uint64_t key);

#endif /* PYHOST_LEAKS_GRAPH_H */
