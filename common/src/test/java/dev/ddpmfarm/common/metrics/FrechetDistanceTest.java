package dev.ddpmfarm.common.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

class FrechetDistanceTest {

    @Test
    @DisplayName("eigenvectors and eigenvalues reconstruct a symmetric matrix")
    void eigenReconstructs() {
        double[][] m = {{4, 1, 0.5}, {1, 3, -1}, {0.5, -1, 2}};
        SymmetricEigen e = SymmetricEigen.of(m);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                double r = 0;
                for (int k = 0; k < 3; k++) {
                    r += e.vectors()[i][k] * e.values()[k] * e.vectors()[j][k];
                }
                assertEquals(m[i][j], r, 1e-12);
            }
        }
    }

    @Test
    @DisplayName("the distance between diagonal Gaussians has its closed form Σ(μ₁−μ₂)² + (σ₁−σ₂)²")
    void diagonalClosedForm() {
        var a = new FrechetDistance.Gaussian(new double[] {0, 1}, new double[][] {{4, 0}, {0, 1}});
        var b = new FrechetDistance.Gaussian(new double[] {1, 1}, new double[][] {{1, 0}, {0, 9}});
        assertEquals(1 + (2 - 1) * (2 - 1) + (1 - 3) * (1 - 3), FrechetDistance.between(a, b), 1e-9);
    }

    @Test
    @DisplayName("the distance is symmetric, zero for identical sets and positive for shifted ones")
    void sampleProperties() {
        SplittableRandom random = new SplittableRandom(1);
        float[][] a = new float[500][8];
        float[][] b = new float[500][8];
        for (int i = 0; i < 500; i++) {
            for (int j = 0; j < 8; j++) {
                a[i][j] = (float) random.nextGaussian();
                b[i][j] = (float) (random.nextGaussian() * (1 + j * 0.1) + 0.5);
            }
        }
        assertEquals(0, FrechetDistance.between(a, a), 1e-6);
        assertEquals(FrechetDistance.between(a, b), FrechetDistance.between(b, a), 1e-6);
        assertEquals(8 * 0.25 + sumSquaredStdShift(), FrechetDistance.between(a, b), 0.5);
    }

    private static double sumSquaredStdShift() {
        double s = 0;
        for (int j = 0; j < 8; j++) {
            s += (j * 0.1) * (j * 0.1);
        }
        return s;
    }
}
