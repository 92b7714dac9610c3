package dev.ddpmfarm.common.metrics;

/**
 * Eigenvalues and eigenvectors of a real symmetric matrix by cyclic Jacobi rotations: slow for large matrices but
 * exact to rounding and simple; feature covariances here are at most a few hundred wide.
 *
 * @param values  eigenvalues, unsorted
 * @param vectors column k of this matrix is the unit eigenvector of {@code values[k]}
 */
public record SymmetricEigen(double[] values, double[][] vectors) {
    private static final int MAX_SWEEPS = 100;

    public static SymmetricEigen of(double[][] matrix) {
        int n = matrix.length;
        double[][] a = new double[n][];
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) {
            if (matrix[i].length != n) {
                throw new IllegalArgumentException("matrix must be square, row " + i + " has " + matrix[i].length);
            }
            a[i] = matrix[i].clone();
            v[i][i] = 1;
        }
        for (int sweep = 0; sweep < MAX_SWEEPS && offDiagonal(a) > 1e-22 * (1 + diagonal(a)); sweep++) {
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    if (a[p][q] != 0) {
                        rotate(a, v, p, q);
                    }
                }
            }
        }
        double[] values = new double[n];
        for (int i = 0; i < n; i++) {
            values[i] = a[i][i];
        }
        return new SymmetricEigen(values, v);
    }

    /** Zeroes a[p][q] by the rotation of Golub & Van Loan, Algorithm 8.4.2, and accumulates it into v. */
    private static void rotate(double[][] a, double[][] v, int p, int q) {
        int n = a.length;
        double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        if (theta == 0) {
            t = 1;
        }
        double c = 1 / Math.sqrt(t * t + 1);
        double s = t * c;
        for (int k = 0; k < n; k++) {
            double akp = a[k][p];
            double akq = a[k][q];
            a[k][p] = c * akp - s * akq;
            a[k][q] = s * akp + c * akq;
        }
        for (int k = 0; k < n; k++) {
            double apk = a[p][k];
            double aqk = a[q][k];
            a[p][k] = c * apk - s * aqk;
            a[q][k] = s * apk + c * aqk;
        }
        for (int k = 0; k < n; k++) {
            double vkp = v[k][p];
            double vkq = v[k][q];
            v[k][p] = c * vkp - s * vkq;
            v[k][q] = s * vkp + c * vkq;
        }
    }

    private static double offDiagonal(double[][] a) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a.length; j++) {
                if (i != j) {
                    sum += a[i][j] * a[i][j];
                }
            }
        }
        return sum;
    }

    private static double diagonal(double[][] a) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i][i] * a[i][i];
        }
        return sum;
    }
}
