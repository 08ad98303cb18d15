/* SPDX-License-Identifier: MIT
 *
 * stdlib.c: the check made before CPython is asked to start.  Start-up
 * imports exactly one package from disk, `encodings` (os, io, codecs and
 * the rest are frozen into libpython since 3.11); without it 3.11 dies with
 * a path dump and "No module named 'encodings'", 3.13 with one line.  Here
 * the host gets an error naming every entry searched and what each lacked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static uint32_t
stdlib_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint16_t
stdlib_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Read the central directory of a zip archive and look for name.  Only
 * what zipimport itself accepts is needed: no zip64 (the stdlib is far
 * below 4 GiB). */
int
pyhost__zip_has(const char *path, const char *name)
{
    /* The record is at most 22 bytes plus a 64 KiB comment from the end.
     * On the heap: a host may call in from a thread with a small stack. */
    enum { TAIL_SIZE = 65536 + 22 };
    unsigned char *tail = NULL, *dir = NULL;
    int found = -1;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        return -1;
    }
    if ((tail = malloc(TAIL_SIZE)) == NULL) {
        goto done;
    }
    if (fseek(fp, 0, SEEK_END) != 0) {
        goto done;
    }
    long size = ftell(fp);
    if (size < 22) {
        goto done;
    }
    long want = size < TAIL_SIZE ? size : TAIL_SIZE;
    if (fseek(fp, size - want, SEEK_SET) != 0 ||
        fread(tail, 1, (size_t)want, fp) != (size_t)want) {
        goto done;
    }
    /* The end-of-central-directory record: its signature, searched from
     * the end because a comment may follow it. */
    long eocd = -1;
    for (long i = want - 22; i >= 0; i--) {
        if (stdlib_le32(tail + i) == 0x06054b50) {
            eocd = i;
            break;
        }
    }
    if (eocd < 0) {
        goto done;
    }
    uint32_t dir_size = stdlib_le32(tail + eocd + 12);
    uint32_t dir_offset = stdlib_le32(tail + eocd + 16);
    uint16_t entries = stdlib_le16(tail + eocd + 10);
    if ((long)dir_offset + (long)dir_size > size) {
        goto done;
    }
    dir = malloc(dir_size ? dir_size : 1);
    if (dir == NULL || fseek(fp, (long)dir_offset, SEEK_SET) != 0 ||
        fread(dir, 1, dir_size, fp) != dir_size) {
        goto done;
    }
    size_t name_len = strlen(name), pos = 0;
    found = 0;
    for (uint16_t i = 0; i < entries; i++) {
        if (pos + 46 > dir_size || stdlib_le32(dir + pos) != 0x02014b50) {
            found = -1;
            break;
        }
        size_t n = stdlib_le16(dir + pos + 28);
        size_t skip =
            46 + n + stdlib_le16(dir + pos + 30) + stdlib_le16(dir + pos + 32);
        if (pos + 46 + n > dir_size) {
            found = -1;
            break;
        }
        if (n == name_len && memcmp(dir + pos + 46, name, n) == 0) {
            found = 1;
            break;
        }
        pos += skip;
    }
done:
    free(dir);
    free(tail);
    fclose(fp);
    return found;
}

static int
stdlib_is_file(const char *dir, const char *name)
{
    char path[4096 + 64];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
pyhost__check_stdlib(pyhost_t *host)
{
    static const char *const members[] = {"encodings/__init__.py",
                                          "encodings/__init__.pyc"};
    for (size_t i = 0; i < host->paths.count; i++) {
        const char *entry = host->paths.items[i];
        struct stat st;
        if (stat(entry, &st) != 0) {
            continue;
        }
        for (size_t m = 0; m < 2; m++) {
            int found = S_ISDIR(st.st_mode)
                            ? stdlib_is_file(entry, members[m])
                            : pyhost__zip_has(entry, members[m]) == 1;
            if (found) {
                return PYHOST_OK;
            }
        }
    }
    pyhost__fail(host, PYHOST_ENOSTDLIB,
                 "cannot start Python %s: the standard library was not "
                 "found (start-up needs its 'encodings' package).\n"
                 "Searched %zu sys.path entr%s:",
                 pyhost_python_version(), host->paths.count,
                 host->paths.count == 1 ? "y" : "ies");
    for (size_t i = 0; i < host->paths.count; i++) {
        const char *entry = host->paths.items[i];
        struct stat st;
        const char *why;
        if (stat(entry, &st) != 0) {
            why = "does not exist";
        }
        else if (S_ISDIR(st.st_mode)) {
            why = "folder without encodings/__init__.py";
        }
        else if (pyhost__zip_has(entry, members[0]) < 0) {
            why = "not a readable zip archive";
        }
        else {
            why = "zip archive without encodings/__init__.py[c]";
        }
        pyhost__append(host, "\n  %s (%s)", entry, why);
    }
    if (host->path_file != NULL) {
        pyhost__append(host, "\nThe entries come from '%s'.", host->path_file);
    }
    return PYHOST_ENOSTDLIB;
}
