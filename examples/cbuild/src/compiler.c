/* Compiles a syntax tree to bytecode for the stack machine. */
#include <string.h>

#include "ast.h"
#include "vm.h"

static int expression(const struct node *node, struct chunk *chunk);

static enum opcode binary_op(char op)
{
    switch (op) {
    case '+': return OP_ADD;
    case '-': return OP_SUB;
    case '*': return OP_MUL;
    case '/': return OP_DIV;
    case '%': return OP_MOD;
    default: return OP_POW;
    }
}

static int constant(const struct node *node, struct chunk *chunk)
{
    int index = chunk_constant(chunk, node->value);
    if (index < 0) {
        calc_fail(node->column, "more than %d constants", CHUNK_MAX_CONSTANTS);
        return 0;
    }
    return chunk_emit(chunk, OP_CONST, index, 0, node->column);
}

static int variable(const struct node *node, struct chunk *chunk)
{
    int slot = symtab_find(node->name, strlen(node->name));
    if (slot < 0) {
        calc_fail(node->column, "`%s` is not defined; define it with `let %s = ...`",
                  node->name, node->name);
        return 0;
    }
    return chunk_emit(chunk, OP_LOAD, slot, 0, node->column);
}

static int call(const struct node *node, struct chunk *chunk)
{
    int builtin = builtin_find(node->name);
    if (builtin < 0) {
        calc_fail(node->column, "there is no function `%s`", node->name);
        return 0;
    }
    for (int i = 0; i < node->arg_count; i++) {
        if (!expression(node->args[i], chunk)) {
            return 0;
        }
    }
    return chunk_emit(chunk, OP_CALL, builtin, node->arg_count, node->column);
}

static int expression(const struct node *node, struct chunk *chunk)
{
    switch (node->kind) {
    case NODE_NUMBER:
        return constant(node, chunk);
    case NODE_VARIABLE:
        return variable(node, chunk);
    case NODE_CALL:
        return call(node, chunk);
    case NODE_NEGATE:
        return expression(node->args[0], chunk)
            && chunk_emit(chunk, OP_NEG, 0, 0, node->column);
    case NODE_BINARY:
        return expression(node->args[0], chunk) && expression(node->args[1], chunk)
            && chunk_emit(chunk, binary_op(node->op), 0, 0, node->column);
    case NODE_LET:
        break;
    }
    calc_fail(node->column, "`let` is a statement, not a value");
    return 0;
}

int compile_statement(const struct node *statement, struct chunk *chunk)
{
    chunk_init(chunk);
    if (statement->kind == NODE_LET) {
        if (!expression(statement->args[0], chunk)) {
            return 0;
        }
        int slot = symtab_define(statement->name, strlen(statement->name));
        if (slot < 0) {
            calc_fail(statement->column, "more than %d variables", CALC_MAX_VARS);
            return 0;
        }
        if (!chunk_emit(chunk, OP_STORE, slot, 0, statement->column)) {
            return 0;
        }
    } else if (!expression(statement, chunk)) {
        return 0;
    }
    return chunk_emit(chunk, OP_RETURN, 0, 0, statement->column);
}
