// OpenBLAS, loaded when the first BLAS function is called instead of when the
// process starts.
//
// libopenblas's library constructor detects the CPU, allocates its buffers and
// starts its thread pool (whose workers spin for a while before sleeping), and
// the library pulls in libgfortran and libquadmath: about 5 ms and a busy
// second core at every start of a program linked against it, even for
// commands that never multiply a matrix (`infoplane plot`, `infoplane grid`).
// Nothing links -lopenblas: the functions CBLAS.h declares dlopen the library
// on first use (once, thread-safely) and forward to it. OpenBLAS therefore
// reads OPENBLAS_NUM_THREADS and OPENBLAS_CORETYPE from the environment as it
// is at the first BLAS call, not at exec.
//
// To call another OpenBLAS function, declare it in CBLAS.h and forward it here.

#include "CBLAS.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

typedef void (*sgemm_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int, float,
                         const float *, int, const float *, int, float, float *, int);
typedef void (*dgemm_fn)(enum CBLAS_ORDER, enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int, double,
                         const double *, int, const double *, int, double, double *, int);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sgemm_fn real_sgemm;
static dgemm_fn real_dgemm;
static set_threads_fn real_set_threads;
static get_threads_fn real_get_threads;

// The names the library goes by: Debian's soname (its alternatives pick the
// pthread, OpenMP or serial variant), the development symlink, Homebrew's.
static const char *const library_names[] = {
#if defined(__APPLE__)
    "libopenblas.dylib",
    "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
    "/usr/local/opt/openblas/lib/libopenblas.dylib",
#else
    "libopenblas.so.0",
    "libopenblas.so",
#endif
};

static void *open_library(int flags) {
    for (size_t i = 0; i < sizeof library_names / sizeof library_names[0]; i++) {
        void *library = dlopen(library_names[i], flags);
        if (library) return library;
    }
    return NULL;
}

static void *symbol(void *library, const char *name) {
    void *f = dlsym(library, name);
    if (!f) {
        fprintf(stderr, "error: OpenBLAS (%s) lacks %s\n", library_names[0], name);
        exit(1);
    }
    return f;
}

static void load(void) {
    void *library = open_library(RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        fprintf(stderr, "error: cannot load OpenBLAS (%s): %s; install libopenblas (Debian: libopenblas0)\n",
                library_names[0], dlerror());
        exit(1);
    }
    // dlsym on the handle searches libopenblas and its dependencies only.
    real_sgemm = (sgemm_fn)symbol(library, "cblas_sgemm");
    real_dgemm = (dgemm_fn)symbol(library, "cblas_dgemm");
    real_set_threads = (set_threads_fn)symbol(library, "openblas_set_num_threads");
    real_get_threads = (get_threads_fn)symbol(library, "openblas_get_num_threads");
}

static inline void ensure_loaded(void) { pthread_once(&once, load); }

int infoplane_openblas_loaded(void) {
    void *library = open_library(RTLD_NOW | RTLD_NOLOAD);
    if (!library) return 0;
    dlclose(library);
    return 1;
}

void cblas_sgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE transA, const enum CBLAS_TRANSPOSE transB,
                 const int m, const int n, const int k, const float alpha, const float *a, const int lda,
                 const float *b, const int ldb, const float beta, float *c, const int ldc) {
    ensure_loaded();
    real_sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void cblas_dgemm(const enum CBLAS_ORDER order, const enum CBLAS_TRANSPOSE transA, const enum CBLAS_TRANSPOSE transB,
                 const int m, const int n, const int k, const double alpha, const double *a, const int lda,
                 const double *b, const int ldb, const double beta, double *c, const int ldc) {
    ensure_loaded();
    real_dgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void openblas_set_num_threads(int threads) {
    ensure_loaded();
    real_set_threads(threads);
}

int openblas_get_num_threads(void) {
    ensure_loaded();
    return real_get_threads();
}
