/* The functions a statement may call: abs, gcd, max, min, fact. */
#include <string.h>

#include "vm.h"

typedef int (*builtin_fn)(const num *args, int argc, int column, num *result);

static int need(const char *name, int argc, int at_least, int column)
{
    if (argc < at_least) {
        calc_fail(column, "%s takes at least %d argument%s", name, at_least,
                  at_least == 1 ? "" : "s");
        return 0;
    }
    return 1;
}

static int b_abs(const num *args, int argc, int column, num *result)
{
    if (!need("abs", argc, 1, column)) {
        return 0;
    }
    *result = args[0] < 0 ? -args[0] : args[0];
    return 1;
}

static num gcd2(num a, num b)
{
    a = a < 0 ? -a : a;
    b = b < 0 ? -b : b;
    while (b != 0) {
        num t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int b_gcd(const num *args, int argc, int column, num *result)
{
    if (!need("gcd", argc, 2, column)) {
        return 0;
    }
    num g = args[0];
    for (int i = 1; i < argc; i++) {
        g = gcd2(g, args[i]);
    }
    *result = g;
    return 1;
}

static int b_max(const num *args, int argc, int column, num *result)
{
    if (!need("max", argc, 1, column)) {
        return 0;
    }
    *result = args[0];
    for (int i = 1; i < argc; i++) {
        *result = args[i] > *result ? args[i] : *result;
    }
    return 1;
}

static int b_min(const num *args, int argc, int column, num *result)
{
    if (!need("min", argc, 1, column)) {
        return 0;
    }
    *result = args[0];
    for (int i = 1; i < argc; i++) {
        *result = args[i] < *result ? args[i] : *result;
    }
    return 1;
}

static int b_fact(const num *args, int argc, int column, num *result)
{
    if (!need("fact", argc, 1, column)) {
        return 0;
    }
    if (args[0] < 0 || args[0] > 20) {
        calc_fail(column, "fact(%lld) is out of range (0 to 20)", (long long)args[0]);
        return 0;
    }
    num value = 1;
    for (num i = 2; i <= args[0]; i++) {
        value *= i;
    }
    *result = value;
    return 1;
}

static const struct {
    const char *name;
    builtin_fn fn;
} builtins[] = {
    { "abs", b_abs }, { "gcd", b_gcd }, { "max", b_max }, { "min", b_min }, { "fact", b_fact },
};

#define BUILTIN_COUNT ((int)(sizeof builtins / sizeof builtins[0]))

int builtin_find(const char *name)
{
    for (int i = 0; i < BUILTIN_COUNT; i++) {
        if (strcmp(builtins[i].name, name) == 0) {
            return i;
        }
    }
    return -1;
}

const char *builtin_name(int builtin)
{
    return builtin >= 0 && builtin < BUILTIN_COUNT ? builtins[builtin].name : "?";
}

int builtin_call(int builtin, const num *args, int argc, int column, num *result)
{
    return builtins[builtin].fn(args, argc, column, result);
}
