/* Nodes of the syntax tree: made, linked, counted and freed. */
#include <stdlib.h>
#include <string.h>

#include "ast.h"

static struct node *node_new(enum node_kind kind, int column)
{
    struct node *node = calloc(1, sizeof *node);
    if (node == NULL) {
        calc_fail(column, "out of memory");
        return NULL;
    }
    node->kind = kind;
    node->column = column;
    return node;
}

struct node *ast_number(int column, num value)
{
    struct node *node = node_new(NODE_NUMBER, column);
    if (node != NULL) {
        node->value = value;
    }
    return node;
}

struct node *ast_name(enum node_kind kind, int column, const char *name, size_t len)
{
    if (len > CALC_MAX_NAME) {
        calc_fail(column, "the name `%.*s` is longer than %d letters", (int)len, name,
                  CALC_MAX_NAME);
        return NULL;
    }
    struct node *node = node_new(kind, column);
    if (node != NULL) {
        memcpy(node->name, name, len);
        node->name[len] = '\0';
    }
    return node;
}

struct node *ast_binary(int column, char op, struct node *left, struct node *right)
{
    struct node *node = node_new(NODE_BINARY, column);
    if (node == NULL || left == NULL || right == NULL) {
        ast_free(node);
        ast_free(left);
        ast_free(right);
        return NULL;
    }
    node->op = op;
    node->args[0] = left;
    node->args[1] = right;
    node->arg_count = 2;
    return node;
}

struct node *ast_negate(int column, struct node *operand)
{
    struct node *node = node_new(NODE_NEGATE, column);
    if (node == NULL || operand == NULL) {
        ast_free(node);
        ast_free(operand);
        return NULL;
    }
    node->args[0] = operand;
    node->arg_count = 1;
    return node;
}

int ast_push(struct node *parent, struct node *child)
{
    if (parent->arg_count == AST_MAX_ARGS) {
        calc_fail(child->column, "more than %d arguments", AST_MAX_ARGS);
        ast_free(child);
        return 0;
    }
    parent->args[parent->arg_count++] = child;
    return 1;
}

void ast_free(struct node *node)
{
    if (node == NULL) {
        return;
    }
    for (int i = 0; i < node->arg_count; i++) {
        ast_free(node->args[i]);
    }
    free(node);
}

int ast_count(const struct node *node)
{
    int count = 1;
    for (int i = 0; i < node->arg_count; i++) {
        count += ast_count(node->args[i]);
    }
    return count;
}
