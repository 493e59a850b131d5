"""The scikit-learn baseline of `INFOPLANE_BENCH_KSG=columns infoplane-bench ksg`:
`mutual_info_regression` (KSG algorithm 1, k = 3) of 20 columns of 65536 rows, each
against the same 1-D target, on data of the same law (x_j standard normal,
y = sum_j tanh(x_j) + 0.5 noise; NumPy's generator, so not the same draws):

    python3 scripts/bench_sklearn.py

Prints the best of three wall times with n_jobs=1 and n_jobs=2 (scikit-learn
parallelizes over the columns) and the mean estimate, in nats."""
import time

import numpy as np
from sklearn.feature_selection import mutual_info_regression


def main():
    rng = np.random.default_rng(2)
    n, d = 65536, 20
    x = rng.standard_normal((n, d))
    y = np.tanh(x).sum(axis=1) + 0.5 * rng.standard_normal(n)
    for jobs in (1, 2):
        best, values = float("inf"), None
        for _ in range(3):
            start = time.perf_counter()
            values = mutual_info_regression(x, y, n_neighbors=3, random_state=0, n_jobs=jobs)
            best = min(best, time.perf_counter() - start)
        print(f"scikit-learn mutual_info_regression, 20 columns of 65536 rows, n_jobs={jobs}: "
              f"best {best * 1e3:.0f} ms, mean I(x_j; y) = {values.mean():.4f} nats")


if __name__ == "__main__":
    main()
