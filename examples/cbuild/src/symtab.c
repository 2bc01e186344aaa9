/* Variables by name: a slot each, in the order they were first defined. */
#include <string.h>

#include "calc.h"

static char names[CALC_MAX_VARS][CALC_MAX_NAME + 1];
static int count;

int symtab_find(const char *name, size_t len)
{
    for (int slot = 0; slot < count; slot++) {
        if (strlen(names[slot]) == len && memcmp(names[slot], name, len) == 0) {
            return slot;
        }
    }
    return -1;
}

int symtab_define(const char *name, size_t len)
{
    int slot = symtab_find(name, len);
    if (slot >= 0) {
        return slot;
    }
    if (count == CALC_MAX_VARS) {
        return -1;
    }
    if (len > CALC_MAX_NAME) {
        len = CALC_MAX_NAME;
    }
    memcpy(names[count], name, len);
    names[count][len] = '\0';
    return count++;
}

const char *symtab_name(int slot)
{
    return slot >= 0 && slot < count ? names[slot] : "?";
}
