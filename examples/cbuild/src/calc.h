/* calc: shared definitions of the calculator, its error state and its variables. */
#ifndef CALC_H
#define CALC_H

#include <stddef.h>
#include <stdint.h>

/* Every value is a 64-bit integer. */
typedef int64_t num;

/* The longest name a variable or a function may have. */
#define CALC_MAX_NAME 31

/* The first error of a statement: where, and what (error.c). */
void calc_fail(int column, const char *format, ...);
int calc_failed(void);
const char *calc_message(void);
void calc_reset(void);

/* Variables by name, each with a slot in the globals (symtab.c). */
#define CALC_MAX_VARS 64
int symtab_find(const char *name, size_t len);
int symtab_define(const char *name, size_t len);
const char *symtab_name(int slot);

#endif
