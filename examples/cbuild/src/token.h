/* The tokens of a statement and the lexer that finds them. */
#ifndef TOKEN_H
#define TOKEN_H

#include "calc.h"

enum token_kind {
    TOKEN_END,
    TOKEN_NUMBER,
    TOKEN_NAME,
    TOKEN_LET,
    TOKEN_PLUS,
    TOKEN_MINUS,
    TOKEN_STAR,
    TOKEN_SLASH,
    TOKEN_PERCENT,
    TOKEN_CARET,
    TOKEN_EQUALS,
    TOKEN_COMMA,
    TOKEN_LPAREN,
    TOKEN_RPAREN,
    TOKEN_ERROR,
};

struct token {
    enum token_kind kind;
    const char *start;
    size_t len;
    int column;
    num value;
};

struct lexer {
    const char *source;
    const char *at;
};

void lexer_init(struct lexer *lexer, const char *source);
struct token lexer_next(struct lexer *lexer);
const char *token_describe(enum token_kind kind);

#endif
