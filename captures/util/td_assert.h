/* td_assert: executable invariants for the debug build. TD_ASSERT(cond) checks cond when built with
 * -DTD_DEBUG (the Makefile sets it for every `make SANITIZE=...` build, so the ASan+UBSan run of the
 * suite checks them) and costs nothing otherwise: the condition is then only type-checked, never
 * evaluated, so it must not have side effects. For states a correct program cannot reach (a state
 * machine's transitions, counters that must balance) — never for bad input, which gets an error. */
#ifndef TAPEDECK_TD_ASSERT_H
#define TAPEDECK_TD_ASSERT_H

#ifdef TD_DEBUG
#include <stdio.h>
#include <stdlib.h>
#define TD_ASSERT(cond)                                                                                        \
    do {                                                                                                       \
        if (!(cond)) {                                                                                         \
            fprintf(stderr, "%s:%d: %s: invariant broken: %s\n", __FILE__, __LINE__, __func__, #cond);          \
            abort();                                                                                           \
        }                                                                                                      \
    } while (0)
#else
#define TD_ASSERT(cond) ((void)sizeof(!(cond)))
#endif

#endif
