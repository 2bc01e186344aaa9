/* The syntax tree of a statement, and the parser that builds it. */
#ifndef AST_H
#define AST_H

#include "calc.h"

enum node_kind {
    NODE_NUMBER,
    NODE_VARIABLE,
    NODE_BINARY,
    NODE_NEGATE,
    NODE_CALL,
    NODE_LET,
};

#define AST_MAX_ARGS 8

struct node {
    enum node_kind kind;
    int column;
    num value;                 /* NODE_NUMBER */
    char name[CALC_MAX_NAME + 1]; /* NODE_VARIABLE, NODE_CALL, NODE_LET */
    char op;                   /* NODE_BINARY: + - * / % ^ */
    struct node *args[AST_MAX_ARGS]; /* operands, arguments, a let's value */
    int arg_count;
};

struct node *ast_number(int column, num value);
struct node *ast_name(enum node_kind kind, int column, const char *name, size_t len);
struct node *ast_binary(int column, char op, struct node *left, struct node *right);
struct node *ast_negate(int column, struct node *operand);
int ast_push(struct node *parent, struct node *child);
void ast_free(struct node *node);
int ast_count(const struct node *node);

/* Parses one statement; NULL after calc_fail. */
struct node *parse_statement(const char *source);

#endif
