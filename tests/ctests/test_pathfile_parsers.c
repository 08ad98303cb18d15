/* SPDX-License-Identifier: MIT
 *
 * test_pathfile_parsers.c: the two parsers libpyhost runs on files it does
 * not trust, tested in C without starting Python: the ._pth reader and the
 * zip central-directory scan behind the stdlib check.  Besides the good
 * and bad cases, every truncation and many byte flips of a valid archive
 * must give an answer, never a crash (the ASan build runs this too).
 * Exits T_EXIT_PASS or T_EXIT_FAIL (helpers.h); the first failed check
 * ends the run.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "internal.h"

static void
put16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void
put32(unsigned char *p, uint32_t v)
{
    put16(p, v & 0xFFFF);
    put16(p + 2, v >> 16);
}

/* Build a stored zip holding one empty member called name; returns its
 * size.  Only the fields the scanner reads are filled in. */
static size_t
make_zip(unsigned char *buf, const char *name)
{
    size_t n = strlen(name), pos = 0;
    memset(buf, 0, 30 + n + 46 + n + 22);
    put32(buf, 0x04034b50); /* local header */
    put16(buf + 26, (unsigned)n);
    memcpy(buf + 30, name, n);
    pos = 30 + n;
    size_t dir = pos;
    put32(buf + pos, 0x02014b50); /* central directory entry */
    put16(buf + pos + 28, (unsigned)n);
    memcpy(buf + pos + 46, name, n);
    pos += 46 + n;
    put32(buf + pos, 0x06054b50); /* end of central directory */
    put16(buf + pos + 8, 1);
    put16(buf + pos + 10, 1);
    put32(buf + pos + 12, (uint32_t)(pos - dir));
    put32(buf + pos + 16, (uint32_t)dir);
    return pos + 22;
}

/* Write size bytes of data to path.  Returns 0, or -1 (said on stderr). */
static int
write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        return -1;
    }
    int ok = fwrite(data, 1, size, f) == size;
    if (fclose(f) != 0 || !ok) {
        perror(path);
        return -1;
    }
    return 0;
}

/* The zip scan: a member found, a member missing, not a zip, no file,
 * then every truncation and every byte flip of a valid archive answer
 * within {-1, 0, 1} (and a truncated one never claims the member). */
static int
test_zip(const char *dir)
{
    unsigned char zip[512], copy[512];
    char path[4096];
    snprintf(path, sizeof(path), "%s/t.zip", dir);
    size_t size = make_zip(zip, "encodings/__init__.pyc");
    CHECK(write_file(path, zip, size) == 0);
    CHECK(pyhost__zip_has(path, "encodings/__init__.pyc") == 1);
    CHECK(pyhost__zip_has(path, "encodings/__init__.py") == 0);
    CHECK(write_file(path, "not a zip", 9) == 0);
    CHECK(pyhost__zip_has(path, "encodings/__init__.pyc") == -1);
    CHECK(pyhost__zip_has("/nonexistent.zip", "x") == -1);
    for (size_t cut = 0; cut < size; cut++) { /* every truncation */
        CHECK(write_file(path, zip, cut) == 0);
        CHECK(pyhost__zip_has(path, "encodings/__init__.pyc") <= 0);
    }
    for (size_t i = 0; i < size; i++) { /* flip each byte */
        memcpy(copy, zip, size);
        copy[i] ^= 0xFF;
        CHECK(write_file(path, copy, size) == 0);
        int r = pyhost__zip_has(path, "encodings/__init__.pyc");
        CHECK(r >= -1 && r <= 1);
    }
    return T_EXIT_PASS;
}

/* Write content to dir/t._pth and read it with host's paths emptied.
 * Returns the reader's status (the message stays in host), or
 * PYHOST_EINVAL if the file could not be written. */
static int
read_pth(pyhost_t *host, const char *dir, const char *content, size_t size)
{
    char path[4096];
    int site = 0;
    snprintf(path, sizeof(path), "%s/t._pth", dir);
    if (write_file(path, content, size) != 0) {
        return PYHOST_EINVAL;
    }
    pyhost__strlist_clear(&host->paths);
    host->message[0] = '\0';
    return pyhost__pathfile_read(host, path, &site);
}

/* Comments, blank lines, surrounding blanks and CRLF are skipped; "."
 * is the file's own folder; a relative file name works; "import site"
 * turns site on. */
static int
test_pathfile_good(pyhost_t *host, const char *dir)
{
    char text[8192];
    int site = 0;
    snprintf(text, sizeof(text), "# comment\n\n  %s  # trailing\n.\r\n", dir);
    CHECK(read_pth(host, dir, text, strlen(text)) == PYHOST_OK);
    CHECK(host->paths.count == 2);
    CHECK(strcmp(host->paths.items[1], host->paths.items[0]) == 0);
    snprintf(text, sizeof(text), "%s\nimport site\n", dir);
    CHECK(write_file("t2._pth", text, strlen(text)) == 0);
    pyhost__strlist_clear(&host->paths);
    int rc = pyhost__pathfile_read(host, "t2._pth", &site);
    unlink("t2._pth");
    CHECK(rc == PYHOST_OK);
    CHECK(site == 1);
    return T_EXIT_PASS;
}

/* Each malformed file is refused with a message naming the line. */
static int
test_pathfile_bad(pyhost_t *host, const char *dir)
{
    static const struct {
        const char *content;
        size_t size;
        const char *message;
    } bad[] = {
        {"", 0, "lists no sys.path entry"},
        {"/nonexistent\n", 13, ":1: '/nonexistent' does not exist"},
        {"import sys\n", 11, ":1: 'import sys': the only import"},
        {"\xC3\x28\n", 3, ":1: not valid UTF-8 (byte 0xc3 at column 1)"},
        {"\xED\xA0\x80\n", 4, ":1: not valid UTF-8"},     /* a surrogate */
        {"\xF0\x82\x82\xAC\n", 5, ":1: not valid UTF-8"}, /* overlong */
        {"a\0b\n", 4, ":1: the line contains a NUL byte"},
    };
    int site = 0;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = read_pth(host, dir, bad[i].content, bad[i].size);
        if (rc != PYHOST_EPATHFILE ||
            strstr(host->message, bad[i].message) == NULL) {
            fprintf(stderr, "case %zu: status %d, '%s' lacks '%s'\n", i, rc,
                    host->message, bad[i].message);
        }
        CHECK(rc == PYHOST_EPATHFILE);
        CHECK(strstr(host->message, bad[i].message) != NULL);
    }
    CHECK(pyhost__pathfile_read(host, dir, &site) == PYHOST_EPATHFILE);
    CHECK(strstr(host->message, "is a directory, not a file") != NULL);
    return T_EXIT_PASS;
}

/* The length limit is the entry's: a long comment is fine, a long entry
 * is refused with its length (not echoed). */
static int
test_pathfile_long_lines(pyhost_t *host, const char *dir)
{
    static char longer[2 * PATH_MAX + 64];
    size_t long_size = sizeof(longer);
    int n = snprintf(longer, long_size, "%s # ", dir);
    CHECK(n > 0 && (size_t)n < long_size - 2);
    memset(longer + n, 'c', long_size - (size_t)n - 2);
    longer[long_size - 2] = '\n';
    longer[long_size - 1] = '\0';
    CHECK(read_pth(host, dir, longer, long_size - 1) == PYHOST_OK);
    CHECK(host->paths.count == 1);
    memset(longer, 'e', long_size - 2);
    CHECK(read_pth(host, dir, longer, long_size - 1) == PYHOST_EPATHFILE);
    CHECK(strstr(host->message, ":1: the entry is ") != NULL);
    CHECK(strlen(host->message) < strlen(dir) + 128);
    return T_EXIT_PASS;
}

/* Run the path-file tests on one host, which is freed whatever the
 * result. */
static int
test_pathfile(const char *dir)
{
    pyhost_t *host = pyhost_new();
    CHECK(host != NULL);
    int rc = test_pathfile_good(host, dir);
    if (rc == T_EXIT_PASS) {
        rc = test_pathfile_bad(host, dir);
    }
    if (rc == T_EXIT_PASS) {
        rc = test_pathfile_long_lines(host, dir);
    }
    pyhost_free(host);
    return rc;
}

int
main(void)
{
    char dir[] = "/tmp/pyhost-ctest-XXXXXX";
    if (mkdtemp(dir) == NULL || chdir(dir) != 0) {
        perror("mkdtemp");
        return T_EXIT_FAIL;
    }
    int rc = test_zip(dir);
    if (rc == T_EXIT_PASS) {
        rc = test_pathfile(dir);
    }
    unlink("t.zip");
    unlink("t._pth");
    unlink("t2._pth");
    rmdir(dir);
    return rc;
}
