#ifndef VEIL_CPROCESSCONTROL_SHIM_H
#define VEIL_CPROCESSCONTROL_SHIM_H
/* prctl(2) is variadic, which Swift cannot call: fixed-argument wrappers for the calls Veil makes. */
#if defined(__linux__)
#include <sys/prctl.h>
/* Marks the process not dumpable: no core file, and /proc/PID/mem only for privileged readers. */
static inline int veil_set_not_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }
#else
static inline int veil_set_not_dumpable(void) { return -1; }
#endif
#endif
