/* SPDX-License-Identifier: MIT
 *
 * strbuf.c: the growable buffer and escapers declared in strbuf.h.
 */
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
pyhost__strbuf_init(pyhost__strbuf_t *sb, size_t limit)
{
    memset(sb, 0, sizeof(*sb));
    sb->limit = limit;
}

void
pyhost__strbuf_free(pyhost__strbuf_t *sb)
{
    free(sb->data);
    memset(sb, 0, sizeof(*sb));
}

int
pyhost__strbuf_failed(const pyhost__strbuf_t *sb)
{
    return sb->failed;
}

/* Make room for n more bytes plus a NUL; 0 on success, -1 (sticky) when
 * out of memory or past the buffer's limit. */
static int
strbuf_reserve(pyhost__strbuf_t *sb, size_t n)
{
    if (sb->failed) {
        return -1;
    }
    if (n > sb->limit || sb->len > sb->limit - n) {
        sb->failed = 1;
        return -1;
    }
    if (sb->len + n + 1 <= sb->cap) {
        return 0;
    }
    size_t cap = sb->cap ? sb->cap : 1024;
    while (cap < sb->len + n + 1) {
        cap *= 2;
    }
    char *p = realloc(sb->data, cap);
    if (p == NULL) {
        sb->failed = 1;
        return -1;
    }
    sb->data = p;
    sb->cap = cap;
    return 0;
}

void
pyhost__strbuf_add(pyhost__strbuf_t *sb, const char *s, size_t n)
{
    if (strbuf_reserve(sb, n) < 0) {
        return;
    }
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void
pyhost__strbuf_puts(pyhost__strbuf_t *sb, const char *s)
{
    pyhost__strbuf_add(sb, s, strlen(s));
}

void
pyhost__strbuf_printf(pyhost__strbuf_t *sb, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->failed = 1;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        pyhost__strbuf_add(sb, small, (size_t)n);
        return;
    }
    if (strbuf_reserve(sb, (size_t)n) < 0) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb->len += (size_t)n;
}

void
pyhost__strbuf_html(pyhost__strbuf_t *sb, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '&':
            pyhost__strbuf_puts(sb, "&amp;");
            break;
        case '<':
            pyhost__strbuf_puts(sb, "&lt;");
            break;
        case '>':
            pyhost__strbuf_puts(sb, "&gt;");
            break;
        case '"':
            pyhost__strbuf_puts(sb, "&quot;");
            break;
        case '\'':
            pyhost__strbuf_puts(sb, "&#39;");
            break;
        case '\0':
            pyhost__strbuf_puts(sb, "\\0");
            break;
        default:
            pyhost__strbuf_add(sb, s + i, 1);
        }
    }
}

void
pyhost__strbuf_json(pyhost__strbuf_t *sb, const char *s, size_t n)
{
    pyhost__strbuf_add(sb, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            pyhost__strbuf_add(sb, esc, 2);
        }
        else if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&') {
            /* Non-ASCII bytes (thread names, paths) are shown byte by
             * byte: the JSON stays valid whatever the input's encoding. */
            pyhost__strbuf_printf(sb, "\\u%04x", c);
        }
        else {
            pyhost__strbuf_add(sb, (const char *)&c, 1);
        }
    }
    pyhost__strbuf_add(sb, "\"", 1);
}
