/* A chunk of bytecode: instructions and their constants. */
#include "vm.h"

void chunk_init(struct chunk *chunk)
{
    chunk->count = 0;
    chunk->constant_count = 0;
}

int chunk_emit(struct chunk *chunk, enum opcode op, int operand, int argc, int column)
{
    if (chunk->count == CHUNK_MAX_CODE) {
        calc_fail(column, "the statement needs more than %d instructions", CHUNK_MAX_CODE);
        return 0;
    }
    struct instruction *at = &chunk->code[chunk->count++];
    at->op = op;
    at->operand = operand;
    at->argc = argc;
    at->column = column;
    return 1;
}

int chunk_constant(struct chunk *chunk, num value)
{
    for (int i = 0; i < chunk->constant_count; i++) {
        if (chunk->constants[i] == value) {
            return i;
        }
    }
    if (chunk->constant_count == CHUNK_MAX_CONSTANTS) {
        return -1;
    }
    chunk->constants[chunk->constant_count] = value;
    return chunk->constant_count++;
}
