#include <cblas.h>
#include <stddef.h>

/* LAPACK's symmetric eigensolver (divide and conquer), which libopenblas
   carries but whose header (lapack.h) the Debian package does not install:
   the Fortran interface, with gfortran's hidden lengths of the two
   character arguments last. Used by Tensors/SymmetricEigen.swift. */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info,
             size_t jobz_length, size_t uplo_length);
