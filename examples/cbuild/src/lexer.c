/* Splits a statement into tokens. */
#include <ctype.h>
#include <string.h>

#include "token.h"

void lexer_init(struct lexer *lexer, const char *source)
{
    lexer->source = source;
    lexer->at = source;
}

static struct token make(struct lexer *lexer, enum token_kind kind, const char *start)
{
    struct token token = {
        .kind = kind,
        .start = start,
        .len = (size_t)(lexer->at - start),
        .column = (int)(start - lexer->source) + 1,
        .value = 0,
    };
    return token;
}

static struct token number(struct lexer *lexer, const char *start)
{
    num value = 0;
    while (isdigit((unsigned char)*lexer->at)) {
        int digit = *lexer->at - '0';
        if (value > (INT64_MAX - digit) / 10) {
            lexer->at++;
            return make(lexer, TOKEN_ERROR, start);
        }
        value = value * 10 + digit;
        lexer->at++;
    }
    struct token token = make(lexer, TOKEN_NUMBER, start);
    token.value = value;
    return token;
}

static struct token name(struct lexer *lexer, const char *start)
{
    while (isalnum((unsigned char)*lexer->at) || *lexer->at == '_') {
        lexer->at++;
    }
    struct token token = make(lexer, TOKEN_NAME, start);
    if (token.len == 3 && memcmp(start, "let", 3) == 0) {
        token.kind = TOKEN_LET;
    }
    return token;
}

static enum token_kind punctuation(char c)
{
    switch (c) {
    case '+': return TOKEN_PLUS;
    case '-': return TOKEN_MINUS;
    case '*': return TOKEN_STAR;
    case '/': return TOKEN_SLASH;
    case '%': return TOKEN_PERCENT;
    case '^': return TOKEN_CARET;
    case '=': return TOKEN_EQUALS;
    case ',': return TOKEN_COMMA;
    case '(': return TOKEN_LPAREN;
    case ')': return TOKEN_RPAREN;
    default: return TOKEN_ERROR;
    }
}

struct token lexer_next(struct lexer *lexer)
{
    while (isspace((unsigned char)*lexer->at)) {
        lexer->at++;
    }
    const char *start = lexer->at;
    if (*start == '\0') {
        return make(lexer, TOKEN_END, start);
    }
    if (isdigit((unsigned char)*start)) {
        return number(lexer, start);
    }
    if (isalpha((unsigned char)*start) || *start == '_') {
        return name(lexer, start);
    }
    lexer->at++;
    return make(lexer, punctuation(*start), start);
}

const char *token_describe(enum token_kind kind)
{
    static const char *const names[] = {
        [TOKEN_END] = "the end", [TOKEN_NUMBER] = "a number",
        [TOKEN_NAME] = "a name", [TOKEN_LET] = "`let`",
        [TOKEN_PLUS] = "`+`", [TOKEN_MINUS] = "`-`",
        [TOKEN_STAR] = "`*`", [TOKEN_SLASH] = "`/`",
        [TOKEN_PERCENT] = "`%`", [TOKEN_CARET] = "`^`",
        [TOKEN_EQUALS] = "`=`", [TOKEN_COMMA] = "`,`",
        [TOKEN_LPAREN] = "`(`", [TOKEN_RPAREN] = "`)`",
        [TOKEN_ERROR] = "an unknown character",
    };
    return names[kind];
}
