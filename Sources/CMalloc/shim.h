#ifndef VEIL_CMALLOC_SHIM_H
#define VEIL_CMALLOC_SHIM_H
/* glibc's allocator tunables (mallopt); other C libraries may not have this header. */
#if __has_include(<malloc.h>)
#include <malloc.h>
#endif
#endif
