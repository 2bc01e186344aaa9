/* Bytecode: the chunk a statement compiles to, the machine that runs it, its built-ins. */
#ifndef VM_H
#define VM_H

#include "calc.h"

struct node;

enum opcode {
    OP_CONST,
    OP_LOAD,
    OP_STORE,
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_MOD,
    OP_POW,
    OP_NEG,
    OP_CALL,
    OP_RETURN,
};

#define CHUNK_MAX_CODE 256
#define CHUNK_MAX_CONSTANTS 64
#define VM_STACK_MAX 256

struct instruction {
    enum opcode op;
    int operand;  /* a constant, a slot, or a built-in */
    int argc;     /* OP_CALL */
    int column;   /* where in the statement, for errors */
};

struct chunk {
    struct instruction code[CHUNK_MAX_CODE];
    int count;
    num constants[CHUNK_MAX_CONSTANTS];
    int constant_count;
};

void chunk_init(struct chunk *chunk);
int chunk_emit(struct chunk *chunk, enum opcode op, int operand, int argc, int column);
int chunk_constant(struct chunk *chunk, num value);

/* Compiles a statement into `chunk`; 0 after calc_fail. */
int compile_statement(const struct node *statement, struct chunk *chunk);

/* Runs `chunk` over `globals`; 0 after calc_fail, else the value in `result`. */
int vm_run(const struct chunk *chunk, num *globals, num *result);

int builtin_find(const char *name);
const char *builtin_name(int builtin);
int builtin_call(int builtin, const num *args, int argc, int column, num *result);

const char *opcode_name(enum opcode op);
void disassemble(const struct chunk *chunk, char *out, size_t size);

#endif
