/* A recursive-descent parser: statement, sum, product, unary, power, primary. */
#include "ast.h"
#include "token.h"

struct parser {
    struct lexer lexer;
    struct token current;
};

static struct node *sum(struct parser *parser);
static struct node *unary(struct parser *parser);

static void advance(struct parser *parser)
{
    parser->current = lexer_next(&parser->lexer);
    if (parser->current.kind == TOKEN_ERROR) {
        calc_fail(parser->current.column, "unexpected `%.*s`", (int)parser->current.len,
                  parser->current.start);
    }
}

static int expect(struct parser *parser, enum token_kind kind)
{
    if (parser->current.kind != kind) {
        calc_fail(parser->current.column, "expected %s, found %s", token_describe(kind),
                  token_describe(parser->current.kind));
        return 0;
    }
    advance(parser);
    return 1;
}

static struct node *call(struct parser *parser, struct token name)
{
    struct node *node = ast_name(NODE_CALL, name.column, name.start, name.len);
    advance(parser);
    if (node == NULL || parser->current.kind == TOKEN_RPAREN) {
        advance(parser);
        return node;
    }
    for (;;) {
        struct node *arg = sum(parser);
        if (arg == NULL || !ast_push(node, arg)) {
            ast_free(node);
            return NULL;
        }
        if (parser->current.kind != TOKEN_COMMA) {
            break;
        }
        advance(parser);
    }
    if (!expect(parser, TOKEN_RPAREN)) {
        ast_free(node);
        return NULL;
    }
    return node;
}

static struct node *primary(struct parser *parser)
{
    struct token token = parser->current;
    switch (token.kind) {
    case TOKEN_NUMBER:
        advance(parser);
        return ast_number(token.column, token.value);
    case TOKEN_NAME:
        advance(parser);
        if (parser->current.kind == TOKEN_LPAREN) {
            return call(parser, token);
        }
        return ast_name(NODE_VARIABLE, token.column, token.start, token.len);
    case TOKEN_LPAREN: {
        advance(parser);
        struct node *inner = sum(parser);
        if (inner != NULL && !expect(parser, TOKEN_RPAREN)) {
            ast_free(inner);
            return NULL;
        }
        return inner;
    }
    default:
        calc_fail(token.column, "expected a value, found %s", token_describe(token.kind));
        return NULL;
    }
}

static struct node *power(struct parser *parser)
{
    struct node *base = primary(parser);
    if (base == NULL || parser->current.kind != TOKEN_CARET) {
        return base;
    }
    int column = parser->current.column;
    advance(parser);
    return ast_binary(column, '^', base, unary(parser));
}

static struct node *unary(struct parser *parser)
{
    if (parser->current.kind == TOKEN_MINUS) {
        int column = parser->current.column;
        advance(parser);
        return ast_negate(column, unary(parser));
    }
    return power(parser);
}

static struct node *product(struct parser *parser)
{
    struct node *left = unary(parser);
    while (left != NULL) {
        enum token_kind kind = parser->current.kind;
        char op = kind == TOKEN_STAR ? '*' : kind == TOKEN_SLASH ? '/'
                : kind == TOKEN_PERCENT ? '%' : 0;
        if (op == 0) {
            break;
        }
        int column = parser->current.column;
        advance(parser);
        left = ast_binary(column, op, left, unary(parser));
    }
    return left;
}

static struct node *sum(struct parser *parser)
{
    struct node *left = product(parser);
    while (left != NULL) {
        enum token_kind kind = parser->current.kind;
        if (kind != TOKEN_PLUS && kind != TOKEN_MINUS) {
            break;
        }
        int column = parser->current.column;
        advance(parser);
        left = ast_binary(column, kind == TOKEN_PLUS ? '+' : '-', left, product(parser));
    }
    return left;
}

static struct node *let(struct parser *parser)
{
    advance(parser);
    struct token name = parser->current;
    if (!expect(parser, TOKEN_NAME) || !expect(parser, TOKEN_EQUALS)) {
        return NULL;
    }
    struct node *node = ast_name(NODE_LET, name.column, name.start, name.len);
    struct node *value = node == NULL ? NULL : sum(parser);
    if (value == NULL || !ast_push(node, value)) {
        ast_free(node);
        return NULL;
    }
    return node;
}

struct node *parse_statement(const char *source)
{
    struct parser parser;
    lexer_init(&parser.lexer, source);
    advance(&parser);
    struct node *node = parser.current.kind == TOKEN_LET ? let(&parser) : sum(&parser);
    if (node != NULL && !calc_failed() && parser.current.kind != TOKEN_END) {
        calc_fail(parser.current.column, "unexpected %s after the statement",
                  token_describe(parser.current.kind));
    }
    if (calc_failed()) {
        ast_free(node);
        return NULL;
    }
    return node;
}
