/* SPDX-License-Identifier: MIT
 *
 * paths.c: turning configured entries into the absolute, real paths that
 * end up on sys.path, and finding the running executable.  Everything is
 * resolved before CPython starts, so a bad entry is reported by name
 * instead of surfacing later as a confusing ImportError.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* Return the real path of the running executable (malloc'd), or NULL. */
char *
pyhost__self_exe(void)
{
    return realpath("/proc/self/exe", NULL);
}

/* Return the folder of the real executable (malloc'd), or NULL. */
char *
pyhost__exe_dir(void)
{
    char *exe = pyhost__self_exe();
    if (exe == NULL) {
        return NULL;
    }
    char *slash = strrchr(exe, '/');
    if (slash != NULL) {
        *(slash == exe ? slash + 1 : slash) = '\0';
    }
    return exe;
}

int
pyhost__resolve(pyhost_t *host, const char *entry, const char *base,
                const char *what, char **out)
{
    char joined[PATH_MAX];
    *out = NULL;
    if (entry[0] == '\0') {
        return pyhost__fail(host, PYHOST_EINVAL, "%s: empty path", what);
    }
    if (strlen(entry) >= PATH_MAX) {
        return pyhost__fail(host, PYHOST_EINVAL,
                            "%s: the path is %zu bytes long; the limit is %d",
                            what, strlen(entry), PATH_MAX - 1);
    }
    if (entry[0] == '/' || base == NULL) {
        snprintf(joined, sizeof(joined), "%s", entry);
    }
    else if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", base, entry) >=
             sizeof(joined)) {
        return pyhost__fail(host, PYHOST_EINVAL,
                            "%s: '%s/%s' is longer than %d bytes", what, base,
                            entry, PATH_MAX - 1);
    }
    char *real = realpath(joined, NULL);
    if (real == NULL) {
        int err = errno;
        if (err == ENOMEM) {
            return pyhost__fail(host, PYHOST_ENOMEM, "out of memory");
        }
        return pyhost__fail(host, PYHOST_EINVAL, "%s: '%s' %s", what, joined,
                            err == ENOENT ? "does not exist" : strerror(err));
    }
    struct stat st;
    if (stat(real, &st) != 0 ||
        !(S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
        free(real);
        return pyhost__fail(host, PYHOST_EINVAL,
                            "%s: '%s' is neither a folder nor a zip file",
                            what, joined);
    }
    *out = real;
    return PYHOST_OK;
}

int
pyhost__add_path(pyhost_t *host, const char *entry, const char *base,
                 const char *what)
{
    char *real;
    int rc = pyhost__resolve(host, entry, base, what, &real);
    if (rc != PYHOST_OK) {
        return rc;
    }
    rc = pyhost__strlist_append(&host->paths, real);
    free(real);
    return rc == PYHOST_OK ? rc : pyhost__fail(host, rc, "out of memory");
}
