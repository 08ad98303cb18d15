/* SPDX-License-Identifier: MIT
 *
 * optab.c: the table of pending operations.  Each op gets a slot and a
 * user_data of (generation << 32 | slot + 1); the generation grows each
 * time the slot is freed, so a completion that arrives for an op that is
 * gone (a stale CQE) finds a different generation and is dropped instead
 * of being taken for the slot's next owner.  Each op is also on a per-fd
 * list, which close() uses to find and cancel the fd's operations.
 */
#include "hub.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
pyhost__optab_init(pyhost__optab_t *tab)
{
    memset(tab, 0, sizeof(*tab));
    return 0;
}

void
pyhost__optab_fini(pyhost__optab_t *tab)
{
    free(tab->slots);
    free(tab->gens);
    free(tab->free_list);
    free(tab->fd_heads);
    memset(tab, 0, sizeof(*tab));
}

/* Double the slot arrays.  Return 0 or -ENOMEM. */
static int
optab_grow(pyhost__optab_t *tab)
{
    uint32_t ncap = tab->cap ? tab->cap * 2 : 64;
    pyhost__op_t **slots = realloc(tab->slots, ncap * sizeof(*slots));
    if (slots == NULL) {
        return -ENOMEM;
    }
    tab->slots = slots;
    uint32_t *gens = realloc(tab->gens, ncap * sizeof(*gens));
    if (gens == NULL) {
        return -ENOMEM;
    }
    tab->gens = gens;
    uint32_t *fl = realloc(tab->free_list, ncap * sizeof(*fl));
    if (fl == NULL) {
        return -ENOMEM;
    }
    tab->free_list = fl;
    /* Push the new slots so that the lowest index is used first. */
    for (uint32_t i = ncap; i > tab->cap; i--) {
        tab->slots[i - 1] = NULL;
        tab->gens[i - 1] = 1;
        tab->free_list[tab->nfree++] = i - 1;
    }
    tab->cap = ncap;
    return 0;
}

/* Make the per-fd list array cover fd.  Return 0 or -ENOMEM. */
static int
optab_fd_reserve(pyhost__optab_t *tab, int fd)
{
    if (fd < tab->fd_cap) {
        return 0;
    }
    int ncap = tab->fd_cap ? tab->fd_cap : 64;
    while (ncap <= fd) {
        ncap *= 2;
    }
    pyhost__op_t **heads = realloc(tab->fd_heads, ncap * sizeof(*heads));
    if (heads == NULL) {
        return -ENOMEM;
    }
    memset(heads + tab->fd_cap, 0, (ncap - tab->fd_cap) * sizeof(*heads));
    tab->fd_heads = heads;
    tab->fd_cap = ncap;
    return 0;
}

/* Give op a slot and a user_data, and put it on its fd's list.
 * Return 0, -EBADF for a negative fd, or -ENOMEM. */
int
pyhost__optab_add(pyhost__optab_t *tab, pyhost__op_t *op)
{
    int err;
    if (op->fd < 0) {
        return -EBADF;
    }
    if ((err = optab_fd_reserve(tab, op->fd)) < 0) {
        return err;
    }
    if (tab->nfree == 0 && (err = optab_grow(tab)) < 0) {
        return err;
    }
    uint32_t slot = tab->free_list[--tab->nfree];
    tab->slots[slot] = op;
    op->user_data = ((uint64_t)tab->gens[slot] << 32) | (slot + 1u);
    op->completed = 0;
    op->cancel_requested = 0;
    op->be_next = NULL;
    op->fd_prev = NULL;
    op->fd_next = tab->fd_heads[op->fd];
    if (op->fd_next != NULL) {
        op->fd_next->fd_prev = op;
    }
    tab->fd_heads[op->fd] = op;
    tab->live++;
    return 0;
}

/* Free op's slot (bumping its generation) and unlink it from its fd. */
void
pyhost__optab_remove(pyhost__optab_t *tab, pyhost__op_t *op)
{
    uint32_t slot = (uint32_t)(op->user_data & 0xffffffffu) - 1u;
    if (op->user_data == 0 || slot >= tab->cap || tab->slots[slot] != op) {
        return;
    }
    tab->slots[slot] = NULL;
    tab->gens[slot]++;
    if (tab->gens[slot] == 0) {
        tab->gens[slot] = 1;
    }
    tab->free_list[tab->nfree++] = slot;
    if (op->fd_prev != NULL) {
        op->fd_prev->fd_next = op->fd_next;
    }
    else {
        tab->fd_heads[op->fd] = op->fd_next;
    }
    if (op->fd_next != NULL) {
        op->fd_next->fd_prev = op->fd_prev;
    }
    op->fd_next = op->fd_prev = NULL;
    op->user_data = 0;
    tab->live--;
}

/* Return the live op whose user_data this is, or NULL when it is stale
 * (its op has been removed, maybe its slot reused). */
pyhost__op_t *
pyhost__optab_lookup(pyhost__optab_t *tab, uint64_t user_data)
{
    uint32_t slot = (uint32_t)(user_data & 0xffffffffu) - 1u;
    uint32_t gen = (uint32_t)(user_data >> 32);
    if (slot >= tab->cap || tab->gens[slot] != gen) {
        return NULL;
    }
    return tab->slots[slot];
}

/* Return the first pending op on fd (walk on with fd_next), or NULL. */
pyhost__op_t *
pyhost__optab_fd_first(pyhost__optab_t *tab, int fd)
{
    if (fd < 0 || fd >= tab->fd_cap) {
        return NULL;
    }
    return tab->fd_heads[fd];
}
