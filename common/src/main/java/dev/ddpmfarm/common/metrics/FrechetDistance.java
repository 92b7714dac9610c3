package dev.ddpmfarm.common.metrics;

/**
 * The Fréchet distance between two Gaussians fitted to feature vectors (Heusel et al. 2017, "FID"):
 * d² = ‖μ₁ − μ₂‖² + tr(Σ₁ + Σ₂ − 2 (Σ₁^{½} Σ₂ Σ₁^{½})^{½}). The matrix square roots come from a Jacobi
 * eigendecomposition of symmetric matrices, in double precision; the features are a classifier's penultimate layer.
 */
public final class FrechetDistance {
    private FrechetDistance() {
    }

    /** Mean and covariance (unbiased, n − 1) of the rows of {@code features}. */
    public record Gaussian(double[] mean, double[][] covariance) {
        public static Gaussian fit(float[][] features) {
            int n = features.length;
            if (n < 2) {
                throw new IllegalArgumentException("need at least 2 feature vectors, got " + n);
            }
            int d = features[0].length;
            double[] mean = new double[d];
            for (float[] f : features) {
                for (int i = 0; i < d; i++) {
                    mean[i] += f[i];
                }
            }
            for (int i = 0; i < d; i++) {
                mean[i] /= n;
            }
            double[][] cov = new double[d][d];
            double[] centred = new double[d];
            for (float[] f : features) {
                for (int i = 0; i < d; i++) {
                    centred[i] = f[i] - mean[i];
                }
                for (int i = 0; i < d; i++) {
                    double ci = centred[i];
                    double[] row = cov[i];
                    for (int j = i; j < d; j++) {
                        row[j] += ci * centred[j];
                    }
                }
            }
            for (int i = 0; i < d; i++) {
                for (int j = i; j < d; j++) {
                    cov[i][j] /= n - 1;
                    cov[j][i] = cov[i][j];
                }
            }
            return new Gaussian(mean, cov);
        }
    }

    public static double between(float[][] a, float[][] b) {
        return between(Gaussian.fit(a), Gaussian.fit(b));
    }

    public static double between(Gaussian a, Gaussian b) {
        int d = a.mean().length;
        double meanTerm = 0;
        for (int i = 0; i < d; i++) {
            double diff = a.mean()[i] - b.mean()[i];
            meanTerm += diff * diff;
        }
        double[][] rootA = sqrtPsd(a.covariance());
        double[][] inner = multiply(multiply(rootA, b.covariance()), rootA);
        double traceRoot = 0;
        for (double lambda : SymmetricEigen.of(inner).values()) {
            traceRoot += Math.sqrt(Math.max(lambda, 0));
        }
        return meanTerm + trace(a.covariance()) + trace(b.covariance()) - 2 * traceRoot;
    }

    /** The symmetric positive semi-definite square root V·diag(√max(λ, 0))·Vᵀ. */
    static double[][] sqrtPsd(double[][] m) {
        SymmetricEigen eig = SymmetricEigen.of(m);
        int d = m.length;
        double[][] out = new double[d][d];
        for (int k = 0; k < d; k++) {
            double s = Math.sqrt(Math.max(eig.values()[k], 0));
            for (int i = 0; i < d; i++) {
                double vik = eig.vectors()[i][k] * s;
                for (int j = 0; j < d; j++) {
                    out[i][j] += vik * eig.vectors()[j][k];
                }
            }
        }
        return out;
    }

    static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        int m = b[0].length;
        double[][] out = new double[n][m];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < b.length; k++) {
                double aik = a[i][k];
                for (int j = 0; j < m; j++) {
                    out[i][j] += aik * b[k][j];
                }
            }
        }
        return out;
    }

    private static double trace(double[][] m) {
        double t = 0;
        for (int i = 0; i < m.length; i++) {
            t += m[i][i];
        }
        return t;
    }
}
