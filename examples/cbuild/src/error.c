/* The first error of a statement, kept with its column. */
#include <stdarg.h>
#include <stdio.h>

#include "calc.h"

static char message[160];
static int failed;

void calc_fail(int column, const char *format, ...)
{
    if (failed) {
        return;
    }
    failed = 1;
    int n = snprintf(message, sizeof message, "column %d: ", column);
    if (n < 0 || (size_t)n >= sizeof message) {
        return;
    }
    va_list args;
    va_start(args, format);
    vsnprintf(message + n, sizeof message - (size_t)n, format, args);
    va_end(args);
}

int calc_failed(void)
{
    return failed;
}

const char *calc_message(void)
{
    return message;
}

void calc_reset(void)
{
    failed = 0;
    message[0] = '\0';
}
