/* A chunk as text, one instruction per line: `CONST 42`, `LOAD area`, `CALL gcd/2`. */
#include <stdio.h>

#include "vm.h"

const char *opcode_name(enum opcode op)
{
    static const char *const names[] = {
        [OP_CONST] = "CONST", [OP_LOAD] = "LOAD", [OP_STORE] = "STORE",
        [OP_ADD] = "ADD", [OP_SUB] = "SUB", [OP_MUL] = "MUL",
        [OP_DIV] = "DIV", [OP_MOD] = "MOD", [OP_POW] = "POW",
        [OP_NEG] = "NEG", [OP_CALL] = "CALL", [OP_RETURN] = "RETURN",
    };
    return names[op];
}

static int operand(const struct chunk *chunk, const struct instruction *at, char *out,
                   size_t size)
{
    switch (at->op) {
    case OP_CONST:
        return snprintf(out, size, " %lld", (long long)chunk->constants[at->operand]);
    case OP_LOAD:
    case OP_STORE:
        return snprintf(out, size, " %s", symtab_name(at->operand));
    case OP_CALL:
        return snprintf(out, size, " %s/%d", builtin_name(at->operand), at->argc);
    default:
        return 0;
    }
}

void disassemble(const struct chunk *chunk, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int pc = 0; pc < chunk->count && used < size; pc++) {
        const struct instruction *at = &chunk->code[pc];
        int n = snprintf(out + used, size - used, "%s%s", pc == 0 ? "" : "; ",
                         opcode_name(at->op));
        if (n < 0 || (size_t)n >= size - used) {
            return;
        }
        used += (size_t)n;
        n = operand(chunk, at, out + used, size - used);
        if (n < 0 || (size_t)n >= size - used) {
            return;
        }
        used += (size_t)n;
    }
}
