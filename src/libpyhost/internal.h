/* SPDX-License-Identifier: MIT
 *
 * internal.h: what the files of libpyhost share and nobody else sees: the
 * host struct, a growable list of strings, and the helpers each file
 * provides (path file, stdlib check, environment scrub, the built-in
 * module, the audit walk).
 */
#ifndef PYHOST__INTERNAL_H
#define PYHOST__INTERNAL_H

#include <stddef.h>

#include "pyhost/embed.h"

/* A list of malloc'd strings, always NULL-terminated when non-empty. */
typedef struct {
    char **items;
    size_t count;
    size_t capacity;
} pyhost__strlist_t;

/* Where a host is in its life: pyhost_start() moves it from NEW to
 * STARTED, pyhost_finish() from STARTED to FINISHED. */
typedef enum {
    PYHOST__NEW,
    PYHOST__STARTED,
    PYHOST__FINISHED
} pyhost__state_t;

struct pyhost {
    pyhost__state_t state;
    /* Everything below is owned by the host and set by pyhost_start(). */
    pyhost__strlist_t paths; /* sys.path, absolute, real paths */
    /* paths + each script run: "inside".  Grows under the GIL, since
     * _pyhost_embed.audit() reads it from any Python thread. */
    pyhost__strlist_t roots;
    pyhost__strlist_t argv;
    pyhost__strlist_t scrubbed; /* variables removed from the env */
    char *path_file;            /* real path, or NULL */
    char *home;
    char *executable;
    char *program_name;
    int site;
    int print_errors;
    int quiet;
    int exit_code; /* python3's exit status for the last run */
    char message[PYHOST_MESSAGE_MAX];
};

/* strlist.c */
int pyhost__strlist_append(pyhost__strlist_t *list, const char *item);
int pyhost__strlist_contains(const pyhost__strlist_t *list, const char *item);
void pyhost__strlist_clear(pyhost__strlist_t *list);

/* Format the host's message and return code (for `return pyhost__fail`). */
int pyhost__fail(pyhost_t *host, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
/* Append to the host's message (cut with "..." when full). */
void pyhost__append(pyhost_t *host, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* pathfile.c: read a ._pth file; append its entries (absolute, real paths)
 * to host->paths and set *site for "import site". */
int pyhost__pathfile_read(pyhost_t *host, const char *file, int *site);

/* paths.c: resolve entry (relative to base when not absolute) to a real
 * path in *out (malloc'd).  Fails with a message naming what = the source
 * of the entry (e.g. "path entry 2" or "game._pth:3"). */
int pyhost__resolve(pyhost_t *host, const char *entry, const char *base,
                    const char *what, char **out);
/* Resolve entry as above and append it to host->paths. */
int pyhost__add_path(pyhost_t *host, const char *entry, const char *base,
                     const char *what);
/* The real directory of the running executable, malloc'd, or NULL. */
char *pyhost__exe_dir(void);
char *pyhost__self_exe(void);

/* stdlib.c: PYHOST_OK if some entry of host->paths holds the encodings
 * package, else PYHOST_ENOSTDLIB with every entry and what was missing. */
int pyhost__check_stdlib(pyhost_t *host);
/* 1 if the zip archive at path has a member called name, 0 if not, -1 if
 * the file is not a readable zip archive. */
int pyhost__zip_has(const char *path, const char *name);

/* environ.c: remove the dangerous variables, recording which were set. */
int pyhost__scrub_environment(pyhost_t *host);

/* embedmodule.c: the _pyhost_embed built-in module. */
int pyhost__register_module(pyhost_t *host);
void pyhost__unregister_module(void);
/* 1 if path lies under one of host->roots. */
int pyhost__inside(const pyhost_t *host, const char *path);

#endif /* PYHOST__INTERNAL_H */
