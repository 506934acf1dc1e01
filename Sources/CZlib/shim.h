#ifndef PRUNEBENCH_CZLIB_SHIM_H
#define PRUNEBENCH_CZLIB_SHIM_H
#include <zlib.h>
#endif
