#ifndef PRUNEBENCH_CDNNL_SHIM_H
#define PRUNEBENCH_CDNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>
#endif
