/* calc: runs a short script of statements on the stack machine and prints each result. */
#include <stdio.h>

#include "ast.h"
#include "vm.h"

static const char *const script[] = {
    "let width = 6",
    "let height = 7",
    "let area = width * height",
    "area + 2 ^ 10",
    "gcd(area, 56) * max(3, 9, 4)",
    "fact(10) / fact(8)",
    "(area - 2) % 7 - -3",
    "10 / (area - 42)",
    "min(abs(-5), 4, 8) + size",
    "let answer = area",
};

static num globals[CALC_MAX_VARS];

/* Parses, compiles and runs one statement; 0 if it failed (the error is printed). */
static int run(const char *source, int *instructions)
{
    static struct chunk chunk;
    char listing[512];
    num value;
    calc_reset();
    struct node *tree = parse_statement(source);
    int ok = tree != NULL && compile_statement(tree, &chunk);
    if (ok) {
        *instructions += chunk.count;
        disassemble(&chunk, listing, sizeof listing);
        printf("  [%s]\n", listing);
        ok = vm_run(&chunk, globals, &value);
    }
    if (ok && tree->kind == NODE_LET) {
        printf("%s = %lld\n", tree->name, (long long)value);
    } else if (ok) {
        printf("%lld\n", (long long)value);
    } else {
        printf("error: %s\n", calc_message());
    }
    ast_free(tree);
    return ok;
}

int main(void)
{
    int statements = (int)(sizeof script / sizeof script[0]);
    int errors = 0, instructions = 0;
    for (int i = 0; i < statements; i++) {
        printf("> %s\n", script[i]);
        errors += !run(script[i], &instructions);
    }
    printf("%d statements, %d instructions, %d error%s\n", statements, instructions, errors,
           errors == 1 ? "" : "s");
    return 0;
}
