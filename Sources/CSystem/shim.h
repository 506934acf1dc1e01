#ifndef PRUNEBENCH_CSYSTEM_SHIM_H
#define PRUNEBENCH_CSYSTEM_SHIM_H
#include <sys/prctl.h>
#include <signal.h>

/// Asks the kernel to send `sig` to the calling process when its parent dies (Linux
/// PR_SET_PDEATHSIG): a job process must not outlive the process that launched it. prctl is
/// variadic, which Swift cannot call, hence this wrapper. Returns 0 or -1 with errno.
static inline int prunebench_set_parent_death_signal(int sig) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0UL, 0UL, 0UL);
}

// The OpenMP runtime (libgomp) that oneDNN runs on; the engine's own parallel loops join the
// same thread team through its C ABI, so the two never compete for the cores.
void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);
void omp_set_num_threads(int);
#endif
