/*
 * L2-regularised logistic regression on the breast-cancer data, with every
 * finite-sum method of freestep and, for comparison, plain SGD.
 *
 * What it shows: the finite-sum C ABI (freestep_finite_sum_*), the compact
 * linear-model table (one double per sample instead of one per sample and
 * feature), the sampling helpers (freestep_rng_*, freestep_weighted_*) and
 * the papers' step sizes (freestep_finite_sum_default_step).
 *
 * The problem: the 569 rows of examples/data/breast_cancer.csv, each of the
 * 30 columns standardised to mean 0 and standard deviation 1, labels mapped
 * to -1/+1, and
 *
 *     f(w) = (1/n) sum_i log(1 + exp(-y_i x_i.w)) + (l2/2) ||w||^2,
 *
 * l2 = 0.1, no bias. Its optimum f* is computed here by Newton's method,
 * independently of the library. Each method starts from w = 0 and runs 100
 * epochs; the program prints (f(w) - f*) / max(1, |f*|) after each epoch,
 * one column per method, then for each method the first epoch at which it
 * was at most 1e-8 and the bytes of state it used. SAGA runs twice, with
 * the compact table and with the dense one, and the program checks that
 * both give the same weights, bit for bit.
 *
 * An epoch is n sampled steps; for SVRG one snapshot (a full gradient pass,
 * then n inner steps: two passes of gradient evaluations); Finito first
 * fills its table with one pass at w = 0, not counted.
 *
 * Usage: logreg_cancer [path/to/breast_cancer.csv]
 * Exit status 0 when every finite-sum method reached 1e-8 within 100
 * epochs, 1 otherwise (or on an error).
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freestep.h"

#define N 569
#define D 30
#define EPOCHS 100
#define L2 0.1
#define BAR 1e-8
#define METHODS 7

static double X[N * D];
static double Y[N];
/* The largest state: Finito's, 2d + n d + n values with a compact table
 * (Point-SAGA's dense one is d + n d). */
static double STATE[2 * D + N * D + N];
/* Row 7 is SAGA again with a dense table, to compare with row 0. */
static double W[METHODS + 1][D];
static double SUBOPT[METHODS + 1][EPOCHS];
static double LIPSCHITZ[N];
static double CUMULATIVE[N];
static uint32_t ORDER[N];

static const char *NAMES[METHODS] = {
    "saga", "sag", "sag-lipschitz", "svrg", "finito", "point-saga", "sgd",
};

static double margin(const double *w, int i) {
    double t = 0.0;
    for (int k = 0; k < D; k++)
        t += X[i * D + k] * w[k];
    return t;
}

/* d/dt log(1 + exp(-y t)) = -y / (1 + exp(y t)). */
static double dloss(const double *w, int i) {
    return -Y[i] / (1.0 + exp(Y[i] * margin(w, i)));
}

static double objective(const double *w) {
    double sum = 0.0, sq = 0.0;
    for (int i = 0; i < N; i++) {
        double m = Y[i] * margin(w, i);
        sum += m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m));
    }
    for (int k = 0; k < D; k++)
        sq += w[k] * w[k];
    return sum / N + 0.5 * L2 * sq;
}

/* Reads the CSV: a header line, then 30 features and a 0/1 label a row. */
static int load(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    char line[4096];
    int ok = fgets(line, sizeof line, f) != NULL;
    for (int i = 0; ok && i < N; i++) {
        for (int k = 0; ok && k <= D; k++) {
            double v;
            ok = fscanf(f, k < D ? "%lf," : "%lf", &v) == 1;
            if (k < D)
                X[i * D + k] = v;
            else
                Y[i] = v > 0.5 ? 1.0 : -1.0;
        }
    }
    fclose(f);
    if (!ok) {
        fprintf(stderr, "%s: not %d rows of %d features and a label\n", path,
                N, D);
        return 1;
    }
    for (int k = 0; k < D; k++) {
        double mean = 0.0, var = 0.0;
        for (int i = 0; i < N; i++)
            mean += X[i * D + k] / N;
        for (int i = 0; i < N; i++)
            var += (X[i * D + k] - mean) * (X[i * D + k] - mean) / N;
        for (int i = 0; i < N; i++)
            X[i * D + k] = (X[i * D + k] - mean) / sqrt(var);
    }
    return 0;
}

/* Newton's method for f*, with Gaussian elimination on the Hessian. */
static double newton(void) {
    static double h[D][D + 1];
    double w[D] = {0};
    for (int iter = 0; iter < 50; iter++) {
        double g[D], norm = 0.0;
        for (int k = 0; k < D; k++)
            g[k] = L2 * w[k];
        memset(h, 0, sizeof h);
        for (int i = 0; i < N; i++) {
            double s = 1.0 / (1.0 + exp(-Y[i] * margin(w, i)));
            double c = s * (1.0 - s) / N, gi = -Y[i] * (1.0 - s) / N;
            for (int r = 0; r < D; r++) {
                g[r] += gi * X[i * D + r];
                for (int q = 0; q < D; q++)
                    h[r][q] += c * X[i * D + r] * X[i * D + q];
            }
        }
        for (int r = 0; r < D; r++) {
            h[r][r] += L2;
            h[r][D] = g[r];
            norm += g[r] * g[r];
        }
        if (sqrt(norm) < 1e-15)
            break;
        for (int c = 0; c < D; c++) {
            int p = c;
            for (int r = c + 1; r < D; r++)
                if (fabs(h[r][c]) > fabs(h[p][c]))
                    p = r;
            for (int q = 0; q <= D; q++) {
                double t = h[c][q];
                h[c][q] = h[p][q];
                h[p][q] = t;
            }
            for (int r = c + 1; r < D; r++) {
                double m = h[r][c] / h[c][c];
                for (int q = c; q <= D; q++)
                    h[r][q] -= m * h[c][q];
            }
        }
        for (int r = D - 1; r >= 0; r--) {
            double s = h[r][D];
            for (int q = r + 1; q < D; q++)
                s -= h[r][q] * h[q][D];
            h[r][D] = s / h[r][r];
            w[r] -= h[r][D];
        }
    }
    return objective(w);
}

static freestep_sample_f64 linear(const double *w, int i) {
    freestep_sample_f64 s = {&X[i * D], D, dloss(w, i)};
    return s;
}

/* The same gradient as a dense vector, s * x_i element by element. */
static freestep_sample_f64 dense(const double *w, int i, double *buf) {
    double s = dloss(w, i);
    for (int k = 0; k < D; k++)
        buf[k] = s * X[i * D + k];
    freestep_sample_f64 g = {buf, D, 0.0};
    return g;
}

/* Draws the next index for method `m`. */
static freestep_status draw(int m, freestep_rng *rng, int step, size_t *i) {
    if (m == 2)
        return freestep_weighted_sample(CUMULATIVE, N, rng, i);
    if (m == 4) {
        freestep_status st = FREESTEP_OK;
        if (step % N == 0)
            st = freestep_rng_shuffle(rng, ORDER, N);
        *i = ORDER[step % N];
        return st;
    }
    return freestep_rng_below(rng, N, i);
}

/* Runs finite-sum method `m` for EPOCHS epochs, recording suboptimality;
 * m = 7 is SAGA with a dense table. */
static freestep_status run(int m, double l_max, double l_mean, double f_star,
                           size_t *state_bytes) {
    static const freestep_finite_sum_method method[8] = {
        FREESTEP_SAGA,   FREESTEP_SAG,        FREESTEP_SAG,
        FREESTEP_SVRG,   FREESTEP_FINITO,     FREESTEP_POINT_SAGA,
        FREESTEP_SAGA, /* unused: SGD */ FREESTEP_SAGA,
    };
    double buf[D];
    double *w = W[m];
    freestep_finite_sum fs;
    freestep_finite_sum_config cfg = {0};
    freestep_rng rng;
    size_t len = 0;
    /* Both SAGA runs draw the same indices. */
    freestep_status st = freestep_rng_seed(&rng, 2014 + (uint64_t)(m % 7));
    cfg.method = method[m];
    cfg.form = m == 5 || m == 7 ? FREESTEP_TABLE_DENSE : FREESTEP_TABLE_LINEAR;
    cfg.loss = FREESTEP_LOSS_LOGISTIC;
    cfg.n = N;
    cfg.d = D;
    cfg.l2 = L2;
    /* The papers' steps, but SVRG's 1/(10L) is too timid here: it takes
     * 0.01, about 1/L (one outlying row makes L = 105.6 while the mean
     * L_i is 7.6). SAG with Lipschitz sampling takes 1/mean(L_i). */
    if (st == FREESTEP_OK)
        st = freestep_finite_sum_default_step(method[m], N,
                                              m == 2 ? l_mean : l_max, L2, 2.0,
                                              &cfg.step_size);
    if (m == 3)
        cfg.step_size = 0.01;
    if (st == FREESTEP_OK)
        st = freestep_finite_sum_init(&fs, &cfg, FREESTEP_F64);
    if (st == FREESTEP_OK)
        st = freestep_finite_sum_state_len(&fs, &len);
    if (st == FREESTEP_OK && len > sizeof STATE / sizeof STATE[0])
        st = FREESTEP_BAD_TABLE_LENGTH;
    *state_bytes = len * sizeof(double);
    memset(w, 0, sizeof W[m]);
    if (st == FREESTEP_OK && m != 3)
        st = freestep_finite_sum_begin_f64(&fs, w, D, STATE, len);
    for (int i = 0; st == FREESTEP_OK && m == 4 && i < N; i++) {
        freestep_sample_f64 g = linear(w, i);
        st = freestep_finite_sum_add_f64(&fs, w, D, STATE, len, (size_t)i, &g);
    }
    for (int e = 0; st == FREESTEP_OK && e < EPOCHS; e++) {
        double snapshot[D] = {0};
        if (m == 3) { /* SVRG: a new snapshot and its full gradient. */
            memcpy(snapshot, w, sizeof snapshot);
            st = freestep_finite_sum_begin_f64(&fs, w, D, STATE, len);
            for (int i = 0; st == FREESTEP_OK && i < N; i++) {
                freestep_sample_f64 g = linear(snapshot, i);
                st = freestep_finite_sum_add_f64(&fs, w, D, STATE, len,
                                                 (size_t)i, &g);
            }
        }
        for (int k = 0; st == FREESTEP_OK && k < N; k++) {
            size_t i = 0;
            st = draw(m, &rng, e * N + k, &i);
            if (st != FREESTEP_OK)
                break;
            if (m == 5) {
                st = freestep_finite_sum_prox_step_f64(
                    &fs, w, D, STATE, len, i, &X[i * D], D, Y[i]);
            } else {
                freestep_sample_f64 g =
                    m == 7 ? dense(w, (int)i, buf) : linear(w, (int)i);
                freestep_sample_f64 gs = linear(snapshot, (int)i);
                st = freestep_finite_sum_step_f64(&fs, w, D, STATE, len, i, &g,
                                                  m == 3 ? &gs : NULL);
            }
        }
        SUBOPT[m][e] = (objective(w) - f_star) / fmax(1.0, fabs(f_star));
    }
    return st;
}

/* Plain SGD, step 1 / (L + l2 k) at step k: 1/L at first, about
 * 1/(l2 k) later, the classical rate for strongly convex problems. */
static freestep_status run_sgd(double l_max, double f_star) {
    double *w = W[6];
    freestep_rng rng;
    freestep_status st = freestep_rng_seed(&rng, 2014 + 6);
    memset(w, 0, sizeof W[6]);
    for (int e = 0; st == FREESTEP_OK && e < EPOCHS; e++) {
        for (int k = 0; st == FREESTEP_OK && k < N; k++) {
            size_t i = 0;
            double step = 1.0 / (l_max + L2 * (double)(e * N + k));
            st = freestep_rng_below(&rng, N, &i);
            double s = dloss(w, (int)i);
            for (int q = 0; q < D; q++)
                w[q] -= step * (s * X[i * D + q] + L2 * w[q]);
        }
        SUBOPT[6][e] = (objective(w) - f_star) / fmax(1.0, fabs(f_star));
    }
    return st;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "examples/data/breast_cancer.csv";
    freestep_status st = FREESTEP_OK;
    size_t bytes[METHODS] = {0};
    double l_max = 0.0, l_mean = 0.0;
    int missed = 0;

    if (load(path) != 0)
        return 1;
    double f_star = newton();
    st = freestep_finite_sum_lipschitz(FREESTEP_LOSS_LOGISTIC, X, N * D, D, L2,
                                       &l_max, &l_mean);
    for (int i = 0; st == FREESTEP_OK && i < N; i++)
        LIPSCHITZ[i] = 0.25 * margin(&X[i * D], i) + L2; /* ||x_i||^2/4+l2 */
    if (st == FREESTEP_OK)
        st = freestep_weighted_init(LIPSCHITZ, CUMULATIVE, N);
    printf("f* = %.17g (Newton), L = %.4f (largest), mean L_i = %.4f\n",
           f_star, l_max, l_mean);
    for (int m = 0; st == FREESTEP_OK && m < 6; m++)
        st = run(m, l_max, l_mean, f_star, &bytes[m]);
    size_t dense_bytes = 0;
    if (st == FREESTEP_OK)
        st = run(7, l_max, l_mean, f_star, &dense_bytes);
    if (st == FREESTEP_OK)
        st = run_sgd(l_max, f_star);
    if (st != FREESTEP_OK)
        goto fail;

    printf("epoch");
    for (int m = 0; m < METHODS; m++)
        printf(" %13s", NAMES[m]);
    printf("\n");
    for (int e = 0; e < EPOCHS; e++) {
        printf("%5d", e + 1);
        for (int m = 0; m < METHODS; m++)
            printf(" %13.3e", SUBOPT[m][e]);
        printf("\n");
    }
    for (int m = 0; m < METHODS; m++) {
        int first = 0;
        for (int e = 0; e < EPOCHS && !first; e++)
            if (SUBOPT[m][e] <= BAR)
                first = e + 1;
        if (first)
            printf("REACHED %s epoch=%d", NAMES[m], first);
        else
            printf("MISSED %s final=%.3e", NAMES[m], SUBOPT[m][EPOCHS - 1]);
        printf(" state_bytes=%zu\n", bytes[m]);
        if (!first && m < 6)
            missed = 1;
    }
    int same = memcmp(W[0], W[7], sizeof W[0]) == 0;
    printf("SAGA dense table: state_bytes=%zu, weights %s the compact "
           "table's\n",
           dense_bytes, same ? "bit for bit equal to" : "DIFFERENT from");
    return missed || !same;

fail:
    fprintf(stderr, "freestep: %s\n", freestep_status_message(st));
    return 1;
}
