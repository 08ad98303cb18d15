/* SPDX-License-Identifier: MIT
 *
 * strlist.c: the small helpers every libpyhost file uses: a growable list
 * of owned strings and the host's error message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Append a copy of item.  Returns PYHOST_OK or PYHOST_ENOMEM. */
int
pyhost__strlist_append(pyhost__strlist_t *list, const char *item)
{
    if (list->count + 2 > list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 8;
        char **items = realloc(list->items, capacity * sizeof(char *));
        if (items == NULL) {
            return PYHOST_ENOMEM;
        }
        list->items = items;
        list->capacity = capacity;
    }
    char *copy = strdup(item);
    if (copy == NULL) {
        return PYHOST_ENOMEM;
    }
    list->items[list->count++] = copy;
    list->items[list->count] = NULL;
    return PYHOST_OK;
}

int
pyhost__strlist_contains(const pyhost__strlist_t *list, const char *item)
{
    for (size_t i = 0; i < list->count; i++) {
        if (strcmp(list->items[i], item) == 0) {
            return 1;
        }
    }
    return 0;
}

void
pyhost__strlist_clear(pyhost__strlist_t *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i]);
    }
    free(list->items);
    list->items = NULL;
    list->count = list->capacity = 0;
}

static void
strlist_vappend(pyhost_t *host, const char *format, va_list args)
{
    size_t used = strlen(host->message);
    size_t room = sizeof(host->message) - used;
    int n = vsnprintf(host->message + used, room, format, args);
    if (n >= 0 && (size_t)n >= room) {
        /* Cut: say so rather than end mid-word silently. */
        memcpy(host->message + sizeof(host->message) - 4, "...", 4);
    }
}

int
pyhost__fail(pyhost_t *host, int code, const char *format, ...)
{
    va_list args;
    host->message[0] = '\0';
    va_start(args, format);
    strlist_vappend(host, format, args);
    va_end(args);
    return code;
}

void
pyhost__append(pyhost_t *host, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    strlist_vappend(host, format, args);
    va_end(args);
}
