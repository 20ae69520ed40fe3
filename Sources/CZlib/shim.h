#ifndef VEIL_CZLIB_SHIM_H
#define VEIL_CZLIB_SHIM_H
#include <zlib.h>
#endif
