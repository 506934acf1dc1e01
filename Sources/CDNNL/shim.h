#ifndef PRUNEBENCH_CDNNL_SHIM_H
#define PRUNEBENCH_CDNNL_SHIM_H
#include <oneapi/dnnl/dnnl.h>

// oneDNN runs on the OpenMP runtime (libgomp); the engine's own parallel loops join the
// same thread team through its C ABI, so the two never compete for the cores.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);
void omp_set_num_threads(int);
#endif
