/* SPDX-License-Identifier: MIT
 *
 * shell.c: the console's ONE page shell and its style sheet.  Every HTML
 * page has the same head, navigation bar and foot: the no-GIL pages
 * (nogil_pages.c) write them around their body on libmicrohttpd's thread,
 * and the GIL worker (worker.c) writes them around the body a Python page
 * returns.  Python never builds the shell, so a page looks the same
 * whichever language made it.  Touches no Python object: callable without
 * the GIL.
 */
#include "console.h"

#include <string.h>

const char pyhost__console_css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222;"
    "background:#fafafa}\n"
    "nav{background:#243b55;padding:6px 12px}\n"
    "nav a{color:#fff;margin-right:14px;text-decoration:none}\n"
    "nav a:hover{text-decoration:underline}\n"
    "main{padding:8px 16px}\n"
    "h1{font-size:20px}h2{font-size:16px;margin-top:20px}\n"
    "table{border-collapse:collapse;margin:6px 0}\n"
    "td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#e8edf3}th a{color:#222}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "code,pre,.repr{font-family:ui-monospace,monospace;font-size:13px;"
    "white-space:pre-wrap;word-break:break-all}\n"
    ".bad{color:#b00020}.ok{color:#1b7f3b}.muted{color:#777}\n"
    ".note{background:#fff6d5;border:1px solid #e6d48f;padding:6px 10px}\n"
    "form.inline{display:inline}\n"
    "button{padding:3px 10px}\n"
    "svg.spark{vertical-align:middle}\n"
    ".pager a{margin-right:8px}\n";

static const char *const shell_nav[][2] = {
    {"/", "Overview"},
    {"/process", "Process"},
    {"/responsiveness", "Responsiveness"},
    {"/modules", "Modules"},
    {"/memory", "Memory"},
    {"/leaks", "Leaks"},
    {"/threads", "Threads"},
    {"/gc", "GC"},
};

void
pyhost__console_page_head(pyhost__strbuf_t *sb, const char *title)
{
    pyhost__strbuf_puts(sb, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                            "<meta charset=\"utf-8\"><title>");
    pyhost__strbuf_html(sb, title, strlen(title));
    pyhost__strbuf_puts(sb,
                        " - pyhost console</title><link rel=\"stylesheet\" "
                        "href=\"/static/console.css\"></head><body><nav>");
    for (size_t i = 0; i < sizeof(shell_nav) / sizeof(shell_nav[0]); i++) {
        pyhost__strbuf_printf(sb, "<a href=\"%s\">%s</a>", shell_nav[i][0],
                              shell_nav[i][1]);
    }
    pyhost__strbuf_puts(sb, "</nav><main><h1>");
    pyhost__strbuf_html(sb, title, strlen(title));
    pyhost__strbuf_puts(sb, "</h1>\n");
}

void
pyhost__console_page_foot(pyhost__strbuf_t *sb)
{
    pyhost__strbuf_puts(sb, "</main></body></html>\n");
}
