/* SPDX-License-Identifier: MIT
 *
 * pathfile.c: reads a ._pth file, the format CPython reads next to its
 * executable: one sys.path entry per line, relative to the file's folder
 * unless absolute; '#' starts a comment anywhere in a line; blank lines are
 * ignored; the one line "import site" turns site on.  Unlike CPython, which
 * silently skips what it does not understand when warnings are off, every
 * problem here is an error naming the file and line: a path file decides
 * what code runs, so a typo must not pass unnoticed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Return the offset of the first byte that is not valid UTF-8, or -1. */
static long
pathfile_bad_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t extra;
        unsigned int cp, min;
        if (c < 0x80) {
            i++;
            continue;
        }
        else if ((c & 0xE0) == 0xC0) {
            extra = 1, cp = c & 0x1F, min = 0x80;
        }
        else if ((c & 0xF0) == 0xE0) {
            extra = 2, cp = c & 0x0F, min = 0x800;
        }
        else if ((c & 0xF8) == 0xF0) {
            extra = 3, cp = c & 0x07, min = 0x10000;
        }
        else {
            return (long)i;
        }
        for (size_t k = 1; k <= extra; k++) {
            if (i + k >= n || (s[i + k] & 0xC0) != 0x80) {
                return (long)i;
            }
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return (long)i;
        }
        i += extra + 1;
    }
    return -1;
}

/* Strip spaces and tabs at both ends, in place.  Returns the new start. */
static char *
pathfile_strip(char *s)
{
    while (*s == ' ' || *s == '\t') {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) {
        s[--n] = '\0';
    }
    return s;
}

/* Open file for reading with a message that says what is wrong with it. */
static int
pathfile_open(pyhost_t *host, const char *file, FILE **out)
{
    struct stat st;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT) {
            return pyhost__fail(host, PYHOST_EPATHFILE,
                                "path file '%s' does not exist", file);
        }
        return pyhost__fail(host, PYHOST_EPATHFILE,
                            "cannot read path file '%s': %s", file,
                            strerror(err));
    }
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return pyhost__fail(host, PYHOST_EPATHFILE, "cannot stat '%s': %s",
                            file, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return pyhost__fail(
            host, PYHOST_EPATHFILE, "path file '%s' is %s, not a file", file,
            S_ISDIR(st.st_mode) ? "a directory" : "something else");
    }
    *out = fdopen(fd, "r");
    if (*out == NULL) {
        close(fd);
        return pyhost__fail(host, PYHOST_ENOMEM, "out of memory");
    }
    return PYHOST_OK;
}

/* Check and apply one line (already without its newline). */
static int
pathfile_line(pyhost_t *host, const char *file, const char *dir,
              unsigned long lineno, char *line, size_t len, int *site)
{
    char what[PATH_MAX + 32];
    snprintf(what, sizeof(what), "%s:%lu", file, lineno);
    if (memchr(line, '\0', len) != NULL) {
        return pyhost__fail(host, PYHOST_EPATHFILE,
                            "%s: the line contains a NUL byte", what);
    }
    long bad = pathfile_bad_utf8((const unsigned char *)line, len);
    if (bad >= 0) {
        return pyhost__fail(host, PYHOST_EPATHFILE,
                            "%s: not valid UTF-8 (byte 0x%02x at column %ld)",
                            what, (unsigned char)line[bad], bad + 1);
    }
    char *hash = strchr(line, '#');
    if (hash != NULL) {
        *hash = '\0';
    }
    char *entry = pathfile_strip(line);
    if (entry[0] == '\0') {
        return PYHOST_OK;
    }
    /* Measured after the comment is cut: a long comment is no error. */
    size_t entry_len = strlen(entry);
    if (entry_len >= PATH_MAX) {
        return pyhost__fail(host, PYHOST_EPATHFILE,
                            "%s: the entry is %zu bytes long; a path cannot "
                            "be longer than %d bytes",
                            what, entry_len, PATH_MAX - 1);
    }
    if (strcmp(entry, "import site") == 0) {
        *site = 1;
        return PYHOST_OK;
    }
    if (strncmp(entry, "import ", 7) == 0 ||
        strncmp(entry, "import\t", 7) == 0) {
        return pyhost__fail(host, PYHOST_EPATHFILE,
                            "%s: '%s': the only import a path file may "
                            "hold is 'import site'",
                            what, entry);
    }
    int rc = pyhost__add_path(host, entry, dir, what);
    return rc == PYHOST_OK || rc == PYHOST_ENOMEM ? rc : PYHOST_EPATHFILE;
}

int
pyhost__pathfile_read(pyhost_t *host, const char *file, int *site)
{
    FILE *fp = NULL;
    char *line = NULL, *real = NULL;
    size_t cap = 0, before = host->paths.count;
    unsigned long lineno = 0;
    ssize_t n;
    int rc = pathfile_open(host, file, &fp);
    if (rc != PYHOST_OK) {
        return rc;
    }
    real = realpath(file, NULL);
    if (real == NULL) {
        rc = pyhost__fail(host, PYHOST_EPATHFILE, "cannot resolve '%s': %s",
                          file, strerror(errno));
        goto fail;
    }
    char *slash = strrchr(real, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%.*s", slash == real ? 1 : (int)(slash - real),
             real);
    errno = 0;
    while ((n = getline(&line, &cap, fp)) >= 0) {
        lineno++;
        size_t len = (size_t)n;
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
        }
        if (len > 0 && line[len - 1] == '\r') {
            line[--len] = '\0';
        }
        char *start = line;
        if (lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
            start += 3, len -= 3; /* a UTF-8 byte-order mark */
        }
        rc = pathfile_line(host, file, dir, lineno, start, len, site);
        if (rc != PYHOST_OK) {
            goto fail;
        }
    }
    if (ferror(fp)) {
        rc = pyhost__fail(host, PYHOST_EPATHFILE, "cannot read '%s': %s", file,
                          strerror(errno ? errno : EIO));
        goto fail;
    }
    if (host->paths.count == before) {
        rc = pyhost__fail(host, PYHOST_EPATHFILE,
                          "path file '%s' lists no sys.path entry (it needs "
                          "at least the stdlib)",
                          file);
        goto fail;
    }
    free(host->path_file);
    host->path_file = real;
    real = NULL;
    rc = PYHOST_OK;
fail:
    free(real);
    free(line);
    fclose(fp);
    return rc;
}
