/* SPDX-License-Identifier: MIT
 *
 * strbuf.h: a growable byte buffer for building HTTP bodies in C, with the
 * two escapers every page needs (HTML text/attributes and JSON strings).
 * Used by threads that do not hold the GIL, so it touches no Python object.
 * Errors are sticky: after an allocation failure every append is a no-op and
 * pyhost__sb_failed() says so, which keeps the callers free of checks.
 */
#ifndef PYHOST_CONSOLE_STRBUF_H
#define PYHOST_CONSOLE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
    char *data;     /* owned, NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    size_t limit;   /* appends past this many bytes fail (bounded pages) */
    int failed;
} pyhost_sb_t;

void pyhost__sb_init(pyhost_sb_t *sb, size_t limit);
void pyhost__sb_free(pyhost_sb_t *sb);
void pyhost__sb_add(pyhost_sb_t *sb, const char *s, size_t n);
void pyhost__sb_puts(pyhost_sb_t *sb, const char *s);
void pyhost__sb_printf(pyhost_sb_t *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s escaped for HTML text and double-quoted attribute values. */
void pyhost__sb_html(pyhost_sb_t *sb, const char *s, size_t n);
/* Append s as a JSON string literal, quotes included; bytes that are not
 * printable ASCII, and < > &, become \u00XX, so the output is always valid
 * JSON and inert if a client sniffs it as HTML. */
void pyhost__sb_json(pyhost_sb_t *sb, const char *s, size_t n);
int pyhost__sb_failed(const pyhost_sb_t *sb);

#endif /* PYHOST_CONSOLE_STRBUF_H */
