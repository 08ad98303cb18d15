/* SPDX-License-Identifier: MIT
 *
 * strbuf.h: a growable byte buffer for building HTTP bodies in C, with the
 * two escapers every page needs (HTML text/attributes and JSON strings).
 * Used by threads that do not hold the GIL, so it touches no Python object.
 * Errors are sticky: after an allocation failure every append is a no-op and
 * pyhost__strbuf_failed() says so, which keeps the callers free of checks.
 */
#ifndef PYHOST_CONSOLE_STRBUF_H
#define PYHOST_CONSOLE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct {
    char *data; /* owned, NUL-terminated when len > 0 */
    size_t len;
    size_t cap;
    size_t limit; /* appends past this many bytes fail (bounded pages) */
    int failed;
} pyhost__strbuf_t;

void pyhost__strbuf_init(pyhost__strbuf_t *sb, size_t limit);
void pyhost__strbuf_free(pyhost__strbuf_t *sb);
void pyhost__strbuf_add(pyhost__strbuf_t *sb, const char *s, size_t n);
void pyhost__strbuf_puts(pyhost__strbuf_t *sb, const char *s);
void pyhost__strbuf_printf(pyhost__strbuf_t *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s escaped for HTML text and double-quoted attribute values. */
void pyhost__strbuf_html(pyhost__strbuf_t *sb, const char *s, size_t n);
/* Append s as a JSON string literal, quotes included; bytes that are not
 * printable ASCII, and < > &, become \u00XX, so the output is always valid
 * JSON and inert if a client sniffs it as HTML. */
void pyhost__strbuf_json(pyhost__strbuf_t *sb, const char *s, size_t n);
int pyhost__strbuf_failed(const pyhost__strbuf_t *sb);

#endif /* PYHOST_CONSOLE_STRBUF_H */
