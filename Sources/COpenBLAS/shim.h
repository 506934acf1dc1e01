#ifndef PRUNEBENCH_COPENBLAS_SHIM_H
#define PRUNEBENCH_COPENBLAS_SHIM_H
#include <cblas.h>
#include <stddef.h>

// LAPACK, which OpenBLAS ships (Debian installs no lapack.h for it): the Fortran ABI, every
// argument by pointer, and the hidden length of the character argument last.
// Singular value decomposition by divide and conquer (jobz 'N': values only).
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s,
             double *u, const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork,
             int *iwork, int *info, size_t jobz_len);
// Householder reduction to bidiagonal form.
void dgebrd_(const int *m, const int *n, double *a, const int *lda, double *d, double *e, double *tauq,
             double *taup, double *work, const int *lwork, int *info);
#endif
