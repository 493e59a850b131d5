// The part of OpenBLAS's CBLAS interface InfoPlane calls (Tensors/BLAS.swift),
// declared as in OpenBLAS's cblas.h (default build: int-sized enums, blasint =
// int). The definitions in openblas_loader.c load libopenblas on first use.
#ifndef INFOPLANE_CBLAS_H
#define INFOPLANE_CBLAS_H

typedef enum CBLAS_ORDER {CblasRowMajor=101, CblasColMajor=102} CBLAS_ORDER;
typedef enum CBLAS_TRANSPOSE {CblasNoTrans=111, CblasTrans=112, CblasConjTrans=113, CblasConjNoTrans=114} CBLAS_TRANSPOSE;

void cblas_sgemm(const enum CBLAS_ORDER Order, const enum CBLAS_TRANSPOSE TransA, const enum CBLAS_TRANSPOSE TransB,
                 const int M, const int N, const int K, const float alpha, const float *A, const int lda,
                 const float *B, const int ldb, const float beta, float *C, const int ldc);
void cblas_dgemm(const enum CBLAS_ORDER Order, const enum CBLAS_TRANSPOSE TransA, const enum CBLAS_TRANSPOSE TransB,
                 const int M, const int N, const int K, const double alpha, const double *A, const int lda,
                 const double *B, const int ldb, const double beta, double *C, const int ldc);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

/// 1 once libopenblas is loaded into the process, else 0.
int infoplane_openblas_loaded(void);

#endif
