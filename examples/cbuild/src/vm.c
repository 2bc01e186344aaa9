/* The stack machine: runs a chunk, with overflow and division checks. */
#include "vm.h"

struct machine {
    num stack[VM_STACK_MAX];
    int depth;
};

static int push(struct machine *vm, num value, int column)
{
    if (vm->depth == VM_STACK_MAX) {
        calc_fail(column, "the stack is full (%d values)", VM_STACK_MAX);
        return 0;
    }
    vm->stack[vm->depth++] = value;
    return 1;
}

static num pop(struct machine *vm)
{
    return vm->stack[--vm->depth];
}

static int power(num base, num exponent, int column, num *result)
{
    if (exponent < 0) {
        calc_fail(column, "a negative exponent (%lld)", (long long)exponent);
        return 0;
    }
    num value = 1;
    for (num i = 0; i < exponent; i++) {
        if (__builtin_mul_overflow(value, base, &value)) {
            calc_fail(column, "%lld ^ %lld overflows", (long long)base, (long long)exponent);
            return 0;
        }
    }
    *result = value;
    return 1;
}

static int arithmetic(enum opcode op, num a, num b, int column, num *result)
{
    int overflow = 0;
    switch (op) {
    case OP_ADD: overflow = __builtin_add_overflow(a, b, result); break;
    case OP_SUB: overflow = __builtin_sub_overflow(a, b, result); break;
    case OP_MUL: overflow = __builtin_mul_overflow(a, b, result); break;
    case OP_DIV:
    case OP_MOD:
        if (b == 0) {
            calc_fail(column, "division by zero");
            return 0;
        }
        if (a == INT64_MIN && b == -1) {
            overflow = 1;
            break;
        }
        *result = op == OP_DIV ? a / b : a % b;
        break;
    default:
        return power(a, b, column, result);
    }
    if (overflow) {
        calc_fail(column, "the result overflows 64 bits");
        return 0;
    }
    return 1;
}

static int call(struct machine *vm, const struct instruction *at)
{
    num result;
    vm->depth -= at->argc;
    if (!builtin_call(at->operand, &vm->stack[vm->depth], at->argc, at->column, &result)) {
        return 0;
    }
    return push(vm, result, at->column);
}

static int step(struct machine *vm, const struct chunk *chunk, const struct instruction *at,
                num *globals)
{
    switch (at->op) {
    case OP_CONST:
        return push(vm, chunk->constants[at->operand], at->column);
    case OP_LOAD:
        return push(vm, globals[at->operand], at->column);
    case OP_STORE:
        globals[at->operand] = vm->stack[vm->depth - 1];
        return 1;
    case OP_NEG:
        if (vm->stack[vm->depth - 1] == INT64_MIN) {
            calc_fail(at->column, "the result overflows 64 bits");
            return 0;
        }
        vm->stack[vm->depth - 1] = -vm->stack[vm->depth - 1];
        return 1;
    case OP_CALL:
        return call(vm, at);
    case OP_RETURN:
        return 1;
    default: {
        num b = pop(vm), a = pop(vm), result;
        return arithmetic(at->op, a, b, at->column, &result) && push(vm, result, at->column);
    }
    }
}

int vm_run(const struct chunk *chunk, num *globals, num *result)
{
    struct machine vm = { .depth = 0 };
    for (int pc = 0; pc < chunk->count; pc++) {
        const struct instruction *at = &chunk->code[pc];
        if (!step(&vm, chunk, at, globals)) {
            return 0;
        }
        if (at->op == OP_RETURN) {
            *result = vm.depth > 0 ? vm.stack[vm.depth - 1] : 0;
            return 1;
        }
    }
    calc_fail(0, "the chunk has no return");
    return 0;
}
