/* reader.h -- the state the EDN and JSON readers share: the text being
 * read, where they are in it, the stack of collections being built, and
 * where an error goes ("line L: ..." into err). Internal to check/. */
#ifndef DMR_CHECK_READER_H
#define DMR_CHECK_READER_H

#include <stddef.h>
#include <stdint.h>

#include "check/value.h"

typedef struct {
    dmr_arena_t *a;
    const char *b;
    size_t len;
    size_t pos;
    uint32_t line;
    dmr_val_t **stk; /* items of the collections being read */
    size_t nstk;
    size_t capstk;
    uint32_t errline; /* the line an error names */
    char *err;
    size_t errlen;
} dmr_reader_t;

/* Writes "line L: " and the message into r->err, records L, and returns
 * DMR_ECORRUPT. */
int dmr_reader_fail(dmr_reader_t *r, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends v to the stack of items being read. */
void dmr_reader_push(dmr_reader_t *r, dmr_val_t *v);

/* Decodes the escaped string text b[start .. end) into string v (whose
 * line is where it starts): JSON's escapes when json, else EDN's (no
 * "\/"). */
int dmr_reader_unescape(dmr_reader_t *r, int json, size_t start, size_t end,
                        dmr_val_t *v);

#endif
