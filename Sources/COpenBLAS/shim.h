#ifndef PRUNEBENCH_COPENBLAS_SHIM_H
#define PRUNEBENCH_COPENBLAS_SHIM_H
#include <cblas.h>
#endif
