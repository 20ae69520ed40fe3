#ifndef VEIL_CBLAS_SHIM_H
#define VEIL_CBLAS_SHIM_H
#include <cblas.h>
#endif
