/*
 * train_digits: a C program that trains a small neural network with
 * freestep, without allocating.
 *
 * It shows how a C trainer uses the freestep C ABI:
 * - every parameter of the model lives in one flat float array that the
 *   program owns, and so do the gradients, the optimizer's state buffer and
 *   the optimizer object itself (static arrays; there is no malloc);
 * - the parameters are split into freestep groups, one per tensor, so that
 *   weights get weight decay and biases do not;
 * - sixteen update rules are driven through the same calls, chosen by
 *   name;
 * - the weights are initialised by freestep_init_geometric_f32, and a
 *   learning-rate schedule can come from freestep_schedule_multiplier or,
 *   refined from a first run's gradient norms, freestep_schedule_refine_f32;
 * - a Schedule-Free rule is switched to its averaged weights (eval mode) to
 *   measure accuracy, and back to train mode to go on training;
 * - every freestep call's status is checked, and a failure is reported
 *   through freestep_status_message at the one exit of the program.
 *
 * The model is a multilayer perceptron for the 8x8 handwritten digits of
 * examples/data/digits.csv (embedded through digits_data.h): 64 inputs
 * (pixels scaled to 0..1), one hidden layer of ReLU units, 10 softmax
 * outputs, cross-entropy loss, minibatches shuffled every epoch.
 *
 * The run is deterministic and meant to give the same bits on every target
 * and C library: the random numbers come from seeded generators (the
 * library's for the weights, one of its own for the split and the batch
 * order), exp and log are computed here instead of by libm, and the program
 * is compiled with -ffp-contract=off so that no multiply-add is fused. Its
 * last line is a digest of the final weights for comparing targets.
 *
 * Usage: train_digits [--optimizer NAME] [--schedule KIND] [--epochs N]
 * with NAME one of the rules listed in `usage` below (default
 * adamw-schedulefree). It prints the settings, then one line per epoch,
 *   epoch <e> loss <mean training loss> train_acc <a> lr <lr> d <d or ->
 * where the loss is taken at the weights being trained and the accuracy at
 * the eval weights once the epoch is over, and lr and d are what the
 * optimizer reports; then `test accuracy: <a>` on the 300 held-out rows and
 * `weights digest: <hex>`. With `--schedule refined` a first run records
 * its gradient norms and ends with `recording run test accuracy:` and
 * `recording run weights digest:`; a line describes the refined schedule
 * made from the norms, and the second run, trained on it, ends as above.
 *
 * Build and run from the repository root (what `cargo xtask demo` does):
 *   cargo build -p freestep-ffi --release
 *   cc -std=c11 -Wall -Wextra -Werror -pedantic -O2 -ffp-contract=off \
 *      -Iinclude -Iexamples/c examples/c/train_digits.c \
 *      target/release/libfreestep.a -lgcc_s -lutil -lrt -lpthread -lm \
 *      -ldl -lc -o train_digits
 * The libraries after libfreestep.a are the ones a Rust static library
 * needs on Linux; this program itself calls nothing outside libc.
 */

#include <math.h> /* isnan only: a macro, so there is no libm to link */
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits_data.h"
#include "freestep.h"

/* The model: sizes, and where each tensor sits in the flat arrays. */
#define INPUTS DIGITS_PIXELS
#define HIDDEN 64
#define CLASSES 10

#define W1 0                        /* HIDDEN x INPUTS, row-major */
#define B1 (W1 + HIDDEN * INPUTS)   /* HIDDEN */
#define W2 (B1 + HIDDEN)            /* CLASSES x HIDDEN, row-major */
#define B2 (W2 + CLASSES * HIDDEN)  /* CLASSES */
#define N_PARAMS (B2 + CLASSES)
#define N_GROUPS 4

/* The data split and the training loop. */
#define N_TRAIN 1497
#define N_TEST (DIGITS_ROWS - N_TRAIN)
#define BATCH 32
#define DEFAULT_EPOCHS 30
#define MAX_EPOCHS 100000

/* Fixed seeds: the same split, initial weights and batch order every run. */
#define SPLIT_SEED 20240501u
#define INIT_SEED 1u
#define SHUFFLE_SEED 2u

/*
 * The optimizer object and its state. The object's real size and alignment
 * are known only at run time, so the block takes the header's bounds for
 * every target (and init refuses a block that is too small). The state
 * length is checked at run time against this capacity: five values per
 * parameter is the most any rule needs (D-Adaptation Adan). Static arrays
 * start zeroed, which is all the state needs before the first step.
 */
#define STATE_CAPACITY (5 * N_PARAMS)

static alignas(FREESTEP_OPTIMIZER_MAX_ALIGN) unsigned char
    opt_memory[FREESTEP_OPTIMIZER_MAX_SIZE];
static float params[N_PARAMS];
static double base_lr; /* the rule's configured lr, for --schedule */
static float grads[N_PARAMS];
static float state[STATE_CAPACITY];
static size_t state_len;

static uint16_t order[DIGITS_ROWS]; /* rows: N_TRAIN train, then test */
static uint16_t batch_order[N_TRAIN];

/* The first failure, reported once at the exit of main. */
static struct {
    const char *what;
    freestep_status status;
    bool has_status;
} failure;

static bool fail(const char *what)
{
    if (failure.what == NULL) {
        failure.what = what;
    }
    return false;
}

static bool fail_status(const char *call, freestep_status status)
{
    if (failure.what == NULL) {
        failure.what = call;
        failure.status = status;
        failure.has_status = true;
    }
    return false;
}

/* Runs a freestep call; on failure records it and returns false. */
#define TRY(call)                                                            \
    do {                                                                     \
        freestep_status try_status_ = (call);                                \
        if (try_status_ != FREESTEP_OK) {                                    \
            return fail_status(#call, try_status_);                          \
        }                                                                    \
    } while (0)

static freestep_optimizer *optimizer(void)
{
    return (freestep_optimizer *)(void *)opt_memory;
}

/* ---- Random numbers: splitmix64, one stream per purpose. ---- */

typedef struct {
    uint64_t s;
} rng;

static uint64_t rng_next(rng *r)
{
    uint64_t z = (r->s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in 0..n-1 for n < 2^32, by multiplying instead of dividing. */
static uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

static void shuffle(uint16_t *v, size_t n, rng *r)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rng_below(r, (uint32_t)i);
        uint16_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}

/* ---- exp and log of our own, so that every libc gives the same bits. ---- */

static float float_from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static uint32_t bits_from_float(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ln 2 as a sum: LN2_HI has 15 significant bits, so n * LN2_HI is exact. */
#define LN2_HI 0.693145751953125f
#define LN2_LO 1.42860682e-06f
#define LOG2_E 1.44269504f

/*
 * e^x for x <= 0, which is all softmax needs once the largest logit is
 * subtracted. x = n ln 2 + r with |r| <= ln 2 / 2, then e^r from its Taylor
 * polynomial to r^7 times 2^n built from bits. The polynomial's own error
 * is below 1e-8, so the result is within about two ulps of e^x. Below -87,
 * e^x is under the smallest normal float and 0 is returned.
 */
static float exp_nonpositive(float x)
{
    if (!(x >= -87.0f)) {
        return 0.0f;
    }
    int n = (int)(x * LOG2_E - 0.5f);
    float r = x - (float)n * LN2_HI - (float)n * LN2_LO;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * float_from_bits((uint32_t)(n + 127) << 23);
}

/*
 * ln x for a normal positive float. x = m 2^e with m in [sqrt(1/2),
 * sqrt(2)), and ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.172, from
 * the odd series to s^9. Only the loss uses it: printed, and read by MoMo
 * and the Polyak step.
 */
static float log_positive(float x)
{
    uint32_t u = bits_from_float(x);
    int e = (int)(u >> 23) - 127;
    float m = float_from_bits((u & 0x007fffffu) | 0x3f800000u);
    if (m > 1.41421356f) {
        m *= 0.5f;
        e += 1;
    }
    float s = (m - 1.0f) / (m + 1.0f);
    float s2 = s * s;
    float q = 1.0f / 9.0f;
    q = q * s2 + 1.0f / 7.0f;
    q = q * s2 + 1.0f / 5.0f;
    q = q * s2 + 1.0f / 3.0f;
    q = q * s2 + 1.0f;
    return (float)e * LN2_HI + ((float)e * LN2_LO + 2.0f * s * q);
}

/* sqrt by Newton's method, for the gradient norms of --schedule refined. */
static double sqrt_newton(double a)
{
    double x = a > 1.0 ? a : 1.0;
    for (int i = 0; i < 64; i++) {
        x = 0.5 * (x + a / x);
    }
    return x;
}

/* ---- The model. ---- */

/* Pixels 0..16 scaled to 0..1; multiplying by 1/16 is exact. */
static void load_input(size_t row, float *x)
{
    for (size_t i = 0; i < INPUTS; i++) {
        x[i] = (float)digits_pixels[row][i] * 0.0625f;
    }
}

/*
 * The weights by freestep's geometric-mean rule (Defazio and Bottou):
 * variance 2 / sqrt(fan_in * fan_out), uniform, gain 2 for a ReLU network,
 * both matrices from one generator stream seeded with INIT_SEED; the
 * biases start at 0.
 */
static bool init_params(void)
{
    uint64_t rng_state = INIT_SEED;
    memset(params, 0, sizeof params);
    TRY(freestep_init_geometric_f32(&params[W1], HIDDEN * INPUTS, INPUTS,
                                    HIDDEN, 2.0, &rng_state));
    TRY(freestep_init_geometric_f32(&params[W2], CLASSES * HIDDEN, HIDDEN,
                                    CLASSES, 2.0, &rng_state));
    return true;
}

/* Hidden activations h and output logits z for input x. */
static void forward(const float *x, float *h, float *z)
{
    for (size_t j = 0; j < HIDDEN; j++) {
        const float *w = &params[W1 + j * INPUTS];
        float s = params[B1 + j];
        for (size_t i = 0; i < INPUTS; i++) {
            s += w[i] * x[i];
        }
        h[j] = s > 0.0f ? s : 0.0f;
    }
    for (size_t o = 0; o < CLASSES; o++) {
        const float *w = &params[W2 + o * HIDDEN];
        float s = params[B2 + o];
        for (size_t j = 0; j < HIDDEN; j++) {
            s += w[j] * h[j];
        }
        z[o] = s;
    }
}

static size_t argmax(const float *z)
{
    size_t best = 0;
    for (size_t o = 1; o < CLASSES; o++) {
        if (z[o] > z[best]) {
            best = o;
        }
    }
    return best;
}

/*
 * Turns logits z into softmax probabilities in place and returns the
 * cross-entropy -ln p[label] = ln(sum) - (z[label] - max).
 */
static float softmax_loss(float *z, size_t label)
{
    float max = z[argmax(z)];
    float shifted_label = z[label] - max;
    float sum = 0.0f;
    for (size_t o = 0; o < CLASSES; o++) {
        z[o] = exp_nonpositive(z[o] - max);
        sum += z[o];
    }
    for (size_t o = 0; o < CLASSES; o++) {
        z[o] /= sum;
    }
    return log_positive(sum) - shifted_label;
}

/*
 * Adds one sample's gradient, scaled by `scale` (1 / batch size), to grads:
 * dz = p - onehot(label), then back through the output layer and the ReLU.
 */
static void backward(const float *x, const float *h, const float *p,
                     size_t label, float scale)
{
    float dz[CLASSES];
    float dh[HIDDEN];
    for (size_t o = 0; o < CLASSES; o++) {
        dz[o] = (p[o] - (o == label ? 1.0f : 0.0f)) * scale;
    }
    for (size_t o = 0; o < CLASSES; o++) {
        float *g = &grads[W2 + o * HIDDEN];
        for (size_t j = 0; j < HIDDEN; j++) {
            g[j] += dz[o] * h[j];
        }
        grads[B2 + o] += dz[o];
    }
    for (size_t j = 0; j < HIDDEN; j++) {
        float s = 0.0f;
        for (size_t o = 0; o < CLASSES; o++) {
            s += params[W2 + o * HIDDEN + j] * dz[o];
        }
        dh[j] = h[j] > 0.0f ? s : 0.0f;
    }
    for (size_t j = 0; j < HIDDEN; j++) {
        float *g = &grads[W1 + j * INPUTS];
        for (size_t i = 0; i < INPUTS; i++) {
            g[i] += dh[j] * x[i];
        }
        grads[B1 + j] += dh[j];
    }
}

/* Fraction of rows[0..n) that the current parameters classify right. */
static double accuracy(const uint16_t *rows, size_t n)
{
    float x[INPUTS], h[HIDDEN], z[CLASSES];
    size_t right = 0;
    for (size_t k = 0; k < n; k++) {
        load_input(rows[k], x);
        forward(x, h, z);
        right += argmax(z) == digits_labels[rows[k]];
    }
    return (double)right / (double)n;
}

/* FNV-1a 64 over the little-endian bytes of every parameter. */
static uint64_t digest(void)
{
    uint64_t hash = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < N_PARAMS; i++) {
        uint32_t u = bits_from_float(params[i]);
        for (int b = 0; b < 4; b++) {
            hash ^= (u >> (8 * b)) & 0xffu;
            hash *= UINT64_C(0x100000001b3);
        }
    }
    return hash;
}

/* ---- The optimizers. ---- */

/* One group per tensor; the biases are exempt from weight decay. */
static const freestep_group groups[N_GROUPS] = {
    {HIDDEN * INPUTS, 1.0, 1.0},
    {HIDDEN, 1.0, 0.0},
    {CLASSES * HIDDEN, 1.0, 1.0},
    {CLASSES, 1.0, 0.0},
};

/*
 * Each rule starts from its reference implementation's defaults and changes
 * only what this problem needs; the comment above each says why. Two
 * changes are common to all:
 * - Every rule gets some weight decay (1e-4 unless its defaults have one),
 *   so that the groups above matter: it keeps the weights small, and the
 *   biases are left alone.
 * - A run is short (30 epochs of 47 steps), and several defaults are meant
 *   for long runs of deep nets. Where a default lr left the training loss
 *   well above where a larger lr takes it within the run, the lr is raised.
 *   The choices were made on the training loss, not on the test rows.
 */

/*
 * Schedule-Free AdamW. At the default lr of 0.0025 the training loss ends
 * near 0.04; at 0.01 near 0.003. No warmup (the default): on this net it
 * made no difference.
 */
static bool init_adamw_schedulefree(void)
{
    freestep_adamw_schedulefree_config c;
    TRY(freestep_adamw_schedulefree_default_config(&c));
    c.lr = 0.01;
    c.weight_decay = 1e-4;
    printf("config lr %g beta1 %g beta2 %g eps %g weight_decay %g "
           "warmup_steps %llu r %g weight_lr_power %g\n",
           c.lr, c.beta1, c.beta2, c.eps, c.weight_decay,
           (unsigned long long)c.warmup_steps, c.r, c.weight_lr_power);
    base_lr = c.lr;
    TRY(freestep_adamw_schedulefree_init(optimizer(), sizeof opt_memory, &c,
                                         FREESTEP_F32, N_PARAMS, groups,
                                         N_GROUPS));
    return true;
}

/*
 * Schedule-Free RAdam: the lr of Schedule-Free AdamW above; RAdam's
 * rectification replaces warmup (the first four steps only gather v).
 */
static bool init_radam_schedulefree(void)
{
    freestep_radam_schedulefree_config c;
    TRY(freestep_radam_schedulefree_default_config(&c));
    c.lr = 0.01;
    c.weight_decay = 1e-4;
    printf("config lr %g beta1 %g beta2 %g eps %g weight_decay %g r %g "
           "weight_lr_power %g silent_sgd_phase %d\n",
           c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, c.r,
           c.weight_lr_power, (int)c.silent_sgd_phase);
    base_lr = c.lr;
    TRY(freestep_radam_schedulefree_init(optimizer(), sizeof opt_memory, &c,
                                         FREESTEP_F32, N_PARAMS, groups,
                                         N_GROUPS));
    return true;
}

/*
 * Schedule-Free SGD: the reference's defaults (lr 1.0, no warmup) suit this
 * net as they are.
 */
static bool init_sgd_schedulefree(void)
{
    freestep_sgd_schedulefree_config c;
    TRY(freestep_sgd_schedulefree_default_config(&c));
    c.weight_decay = 1e-4;
    printf("config lr %g momentum %g weight_decay %g warmup_steps %llu "
           "r %g weight_lr_power %g\n",
           c.lr, c.momentum, c.weight_decay,
           (unsigned long long)c.warmup_steps, c.r, c.weight_lr_power);
    base_lr = c.lr;
    TRY(freestep_sgd_schedulefree_init(optimizer(), sizeof opt_memory, &c,
                                       FREESTEP_F32, N_PARAMS, groups,
                                       N_GROUPS));
    return true;
}

/*
 * AdamW: torch's defaults (decoupled decay 1e-2) with lr 3e-3 instead of
 * 1e-3, at which the training loss is still near 0.07 when the run ends.
 */
static bool init_adamw(void)
{
    freestep_adam_config c;
    TRY(freestep_adamw_default_config(&c));
    c.lr = 3e-3;
    printf("config lr %g beta1 %g beta2 %g eps %g weight_decay %g "
           "amsgrad %d decoupled_weight_decay %d\n",
           c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, (int)c.amsgrad,
           (int)c.decoupled_weight_decay);
    base_lr = c.lr;
    TRY(freestep_adam_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                           N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * Adam: torch's defaults, the lr of AdamW above, and a small L2 penalty
 * (coupled: added to the gradient, so it passes through Adam's scaling).
 */
static bool init_adam(void)
{
    freestep_adam_config c;
    TRY(freestep_adam_default_config(&c));
    c.lr = 3e-3;
    c.weight_decay = 1e-4;
    printf("config lr %g beta1 %g beta2 %g eps %g weight_decay %g "
           "amsgrad %d decoupled_weight_decay %d\n",
           c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, (int)c.amsgrad,
           (int)c.decoupled_weight_decay);
    base_lr = c.lr;
    TRY(freestep_adam_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                           N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * SGD: torch's defaults (lr 1e-3, no momentum) reach only 48% training
 * accuracy in 30 epochs. The common lr 0.1 with momentum 0.9 trains well.
 */
static bool init_sgd(void)
{
    freestep_sgd_config c;
    TRY(freestep_sgd_default_config(&c));
    c.lr = 0.1;
    c.momentum = 0.9;
    c.weight_decay = 1e-4;
    printf("config lr %g momentum %g dampening %g weight_decay %g "
           "nesterov %d\n",
           c.lr, c.momentum, c.dampening, c.weight_decay, (int)c.nesterov);
    base_lr = c.lr;
    TRY(freestep_sgd_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                          N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * Prodigy estimates its own step size d, so lr stays at the default 1 ("use
 * the estimate as it is") and only weight decay is added. Its decay is
 * decoupled and scaled by the step size d * lr.
 */
static bool init_prodigy(void)
{
    freestep_prodigy_config c;
    TRY(freestep_prodigy_default_config(&c));
    c.weight_decay = 1e-4;
    printf("config lr %g beta1 %g beta2 %g beta3 %g eps %g weight_decay %g "
           "d0 %g d_coef %g\n",
           c.lr, c.beta1, c.beta2, c.beta3, c.eps, c.weight_decay, c.d0,
           c.d_coef);
    base_lr = c.lr;
    TRY(freestep_prodigy_init(optimizer(), sizeof opt_memory, &c,
                              FREESTEP_F32, N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * AdaGrad: at torch's default lr of 1e-2 the training loss is still 0.12
 * after 30 epochs (the sum of squares only grows); at 0.05 it ends at
 * 0.025.
 */
static bool init_adagrad(void)
{
    freestep_adagrad_config c;
    TRY(freestep_adagrad_default_config(&c));
    c.lr = 0.05;
    c.weight_decay = 1e-4;
    printf("config lr %g lr_decay %g weight_decay %g "
           "initial_accumulator_value %g eps %g\n",
           c.lr, c.lr_decay, c.weight_decay, c.initial_accumulator_value,
           c.eps);
    base_lr = c.lr;
    TRY(freestep_adagrad_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                              N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * RMSprop: at torch's default lr of 1e-2 the training accuracy swings from
 * epoch to epoch (0.99 at epoch 9, 0.94 at epoch 10, 0.97 at epoch 19: the
 * steps stay large); at 1e-3 it rises steadily to 0.995.
 */
static bool init_rmsprop(void)
{
    freestep_rmsprop_config c;
    TRY(freestep_rmsprop_default_config(&c));
    c.lr = 1e-3;
    c.weight_decay = 1e-4;
    printf("config lr %g alpha %g eps %g weight_decay %g momentum %g "
           "centered %d\n",
           c.lr, c.alpha, c.eps, c.weight_decay, c.momentum, (int)c.centered);
    base_lr = c.lr;
    TRY(freestep_rmsprop_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                              N_PARAMS, groups, N_GROUPS));
    return true;
}

/* MADGRAD: the reference's defaults (lr 1e-2, momentum 0.9). */
static bool init_madgrad(void)
{
    freestep_madgrad_config c;
    TRY(freestep_madgrad_default_config(&c));
    printf("config lr %g momentum %g weight_decay %g eps %g decouple_decay %d\n",
           c.lr, c.momentum, c.weight_decay, c.eps, (int)c.decouple_decay);
    base_lr = c.lr;
    TRY(freestep_madgrad_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                              N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * Lion: the paper's betas, and an lr a tenth of AdamW's above (3e-4), as
 * the paper advises for sign updates.
 */
static bool init_lion(void)
{
    freestep_lion_config c;
    TRY(freestep_lion_default_config(&c));
    c.lr = 3e-4;
    printf("config lr %g beta1 %g beta2 %g weight_decay %g\n", c.lr, c.beta1,
           c.beta2, c.weight_decay);
    base_lr = c.lr;
    TRY(freestep_lion_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                           N_PARAMS, groups, N_GROUPS));
    return true;
}

/* D-Adaptation Adam: the reference's defaults (it estimates its own step). */
static bool init_dadapt_adam(void)
{
    freestep_dadapt_adam_config c;
    TRY(freestep_dadapt_adam_default_config(&c));
    printf("config lr %g beta1 %g beta2 %g eps %g weight_decay %g d0 %g "
           "decouple %d use_bias_correction %d\n",
           c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, c.d0,
           (int)c.decouple, (int)c.use_bias_correction);
    base_lr = c.lr;
    TRY(freestep_dadapt_adam_init(optimizer(), sizeof opt_memory, &c,
                                  FREESTEP_F32, N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * D-Adaptation SGD: momentum 0.9 (the reference's default of 0 is plain
 * dual averaging). At lr 1 its estimate d reaches 4.0 and training is
 * rough (train accuracy 0.94, test 0.96 after 30 epochs); lr 0.5, half the
 * estimated step, ends at 1.00 and 0.997.
 */
static bool init_dadapt_sgd(void)
{
    freestep_dadapt_sgd_config c;
    TRY(freestep_dadapt_sgd_default_config(&c));
    c.momentum = 0.9;
    c.lr = 0.5;
    printf("config lr %g momentum %g weight_decay %g d0 %g\n", c.lr,
           c.momentum, c.weight_decay, c.d0);
    base_lr = c.lr;
    TRY(freestep_dadapt_sgd_init(optimizer(), sizeof opt_memory, &c,
                                 FREESTEP_F32, N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * D-Adaptation Lion: at the reference's defaults its estimate d explodes
 * on this net (2e19 by the fourth epoch); the official DAdaptLion's did
 * the same when this net, with its earlier He initialisation, was trained
 * the same way in PyTorch. lr 0.03 keeps d small (it grows from 1e-6 to
 * 0.08 over the run, so training only starts near epoch 20) and reaches a
 * test accuracy of 0.94, short of the other rules.
 */
static bool init_dadapt_lion(void)
{
    freestep_dadapt_lion_config c;
    TRY(freestep_dadapt_lion_default_config(&c));
    c.lr = 0.03;
    printf("config lr %g beta1 %g beta2 %g weight_decay %g d0 %g\n", c.lr,
           c.beta1, c.beta2, c.weight_decay, c.d0);
    base_lr = c.lr;
    TRY(freestep_dadapt_lion_init(optimizer(), sizeof opt_memory, &c,
                                  FREESTEP_F32, N_PARAMS, groups, N_GROUPS));
    return true;
}

/* D-Adaptation AdaGrad: the reference's defaults. */
static bool init_dadapt_adagrad(void)
{
    freestep_dadapt_adagrad_config c;
    TRY(freestep_dadapt_adagrad_default_config(&c));
    printf("config lr %g momentum %g weight_decay %g eps %g d0 %g\n", c.lr,
           c.momentum, c.weight_decay, c.eps, c.d0);
    base_lr = c.lr;
    TRY(freestep_dadapt_adagrad_init(optimizer(), sizeof opt_memory, &c,
                                     FREESTEP_F32, N_PARAMS, groups, N_GROUPS));
    return true;
}

/* D-Adaptation Adan: the reference's defaults (weight decay 0.02). */
static bool init_dadapt_adan(void)
{
    freestep_dadapt_adan_config c;
    TRY(freestep_dadapt_adan_default_config(&c));
    printf("config lr %g beta1 %g beta2 %g beta3 %g eps %g weight_decay %g "
           "d0 %g no_prox %d\n",
           c.lr, c.beta1, c.beta2, c.beta3, c.eps, c.weight_decay, c.d0,
           (int)c.no_prox);
    base_lr = c.lr;
    TRY(freestep_dadapt_adan_init(optimizer(), sizeof opt_memory, &c,
                                  FREESTEP_F32, N_PARAMS, groups, N_GROUPS));
    return true;
}

/* Mirror MADGRAD: the reference's defaults (lr 1e-2, momentum 0.9, eps 0). */
static bool init_mirror_madgrad(void)
{
    freestep_mirror_madgrad_config c;
    TRY(freestep_mirror_madgrad_default_config(&c));
    printf("config lr %g momentum %g weight_decay %g eps %g decouple_decay %d\n",
           c.lr, c.momentum, c.weight_decay, c.eps, (int)c.decouple_decay);
    base_lr = c.lr;
    TRY(freestep_mirror_madgrad_init(optimizer(), sizeof opt_memory, &c,
                                     FREESTEP_F32, N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * MoMo: the reference's defaults (lr 1 caps the step, beta 0.9, lower bound
 * 0, which the cross-entropy loss has). It reads each minibatch's loss.
 */
static bool init_momo(void)
{
    freestep_momo_config c;
    TRY(freestep_momo_default_config(&c));
    printf("config lr %g weight_decay %g beta %g lb %g bias_correction %d "
           "use_fstar %d\n",
           c.lr, c.weight_decay, c.beta, c.lb, (int)c.bias_correction,
           (int)c.use_fstar);
    base_lr = c.lr;
    TRY(freestep_momo_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                           N_PARAMS, groups, N_GROUPS));
    return true;
}

/* MoMo-Adam: the reference's defaults (lr 1e-2, betas 0.9/0.999). */
static bool init_momo_adam(void)
{
    freestep_momo_adam_config c;
    TRY(freestep_momo_adam_default_config(&c));
    printf("config lr %g beta1 %g beta2 %g eps %g weight_decay %g lb %g "
           "divide %d use_fstar %d\n",
           c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, c.lb, (int)c.divide,
           (int)c.use_fstar);
    base_lr = c.lr;
    TRY(freestep_momo_adam_init(optimizer(), sizeof opt_memory, &c,
                                FREESTEP_F32, N_PARAMS, groups, N_GROUPS));
    return true;
}

/* Puts Mechanic, at mechanize's defaults, over the rule just initialised. */
static bool mechanize(void)
{
    freestep_mechanic_config m;
    TRY(freestep_mechanic_default_config(&m));
    printf("mechanic s_decay %g betas %lu s_init %g eps %g store_delta %d\n",
           m.s_decay, (unsigned long)m.n_betas, m.s_init, m.eps,
           (int)m.store_delta);
    TRY(freestep_optimizer_mechanize(optimizer(), &m));
    return true;
}

/* Mechanic over AdamW, both at their defaults (AdamW's lr 1e-3). */
static bool init_mechanic_adamw(void)
{
    freestep_adam_config c;
    TRY(freestep_adamw_default_config(&c));
    printf("config lr %g beta1 %g beta2 %g eps %g weight_decay %g\n", c.lr,
           c.beta1, c.beta2, c.eps, c.weight_decay);
    base_lr = c.lr;
    TRY(freestep_adam_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                           N_PARAMS, groups, N_GROUPS));
    return mechanize();
}

/* Mechanic over SGD at torch's default lr of 1e-3, which it scales up. */
static bool init_mechanic_sgd(void)
{
    freestep_sgd_config c;
    TRY(freestep_sgd_default_config(&c));
    printf("config lr %g momentum %g weight_decay %g\n", c.lr, c.momentum,
           c.weight_decay);
    base_lr = c.lr;
    TRY(freestep_sgd_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                          N_PARAMS, groups, N_GROUPS));
    return mechanize();
}

/*
 * The Schedule-Free wrapper (momentum 0.9) over plain SGD at lr 0.5: the
 * wrapper's interpolation stands in for momentum.
 */
static bool init_schedulefree_wrapper_sgd(void)
{
    freestep_sgd_config c;
    TRY(freestep_sgd_default_config(&c));
    c.lr = 0.5;
    freestep_schedulefree_wrapper_config w;
    TRY(freestep_schedulefree_wrapper_default_config(&w));
    printf("config lr %g wrapper momentum %g weight_decay_at_y %g r %g "
           "weight_lr_power %g\n",
           c.lr, w.momentum, w.weight_decay_at_y, w.r, w.weight_lr_power);
    base_lr = c.lr;
    TRY(freestep_sgd_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                          N_PARAMS, groups, N_GROUPS));
    TRY(freestep_optimizer_schedulefree_wrap(optimizer(), &w));
    return true;
}

/*
 * Polyak step size at its defaults: the paper's step with f* = 0, the
 * lower bound of the cross-entropy. It reads the minibatch loss, which the
 * training loop passes with every step.
 */
static bool init_polyak(void)
{
    freestep_polyak_config c;
    TRY(freestep_polyak_default_config(&c));
    printf("config lr %g f_star %g max_lr %g\n", c.lr, c.f_star, c.max_lr);
    base_lr = c.lr;
    TRY(freestep_polyak_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                             N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * Normalized gradient descent: steps of a fixed length lr. At the default
 * 1e-2 the training loss is still 0.36 after 30 epochs; at 0.2 it ends at
 * 0.023 (at 0.1, 0.042).
 */
static bool init_ngd(void)
{
    freestep_ngd_config c;
    TRY(freestep_ngd_default_config(&c));
    c.lr = 0.2;
    printf("config lr %g\n", c.lr);
    base_lr = c.lr;
    TRY(freestep_ngd_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                          N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * Nesterov's accelerated method needs L and mu, which a network does not
 * come with. L = 10 makes the gradient step 0.1, SGD's lr in the sgd row,
 * and mu = 0.01 the momentum 0.94. At the defaults (L = 1, a step of 1)
 * the training loss does not fall at all.
 */
static bool init_accelerated(void)
{
    freestep_accelerated_config c;
    TRY(freestep_accelerated_default_config(&c));
    c.l = 10.0;
    c.mu = 0.01;
    printf("config lr %g l %g mu %g\n", c.lr, c.l, c.mu);
    base_lr = c.lr;
    TRY(freestep_accelerated_init(optimizer(), sizeof opt_memory, &c,
                                  FREESTEP_F32, N_PARAMS, groups, N_GROUPS));
    return true;
}

/*
 * Primal averaging at its defaults, c = 0.1 and lr 1: SGD with momentum
 * 0.9 at lr 0.1, the sgd row's setting without its weight decay.
 */
static bool init_primal_averaging(void)
{
    freestep_primal_averaging_config c;
    TRY(freestep_primal_averaging_default_config(&c));
    printf("config lr %g momentum %g lr_power %g uniform %d\n", c.lr,
           c.momentum, c.lr_power, (int)c.uniform);
    base_lr = c.lr;
    TRY(freestep_primal_averaging_init(optimizer(), sizeof opt_memory, &c,
                                       FREESTEP_F32, N_PARAMS, groups,
                                       N_GROUPS));
    return true;
}

/*
 * Stochastic heavy ball: its weights are the average of every SGD iterate
 * since the start. At the default lr of 0.1 the training loss is still
 * 0.11 after 30 epochs; at lr 2 it ends at 0.003 (at lr 1, 0.009).
 */
static bool init_shb(void)
{
    freestep_shb_config c;
    TRY(freestep_shb_default_config(&c));
    c.lr = 2.0;
    printf("config lr %g lr_power %g\n", c.lr, c.lr_power);
    base_lr = c.lr;
    TRY(freestep_shb_init(optimizer(), sizeof opt_memory, &c, FREESTEP_F32,
                          N_PARAMS, groups, N_GROUPS));
    return true;
}

typedef struct {
    const char *name;
    bool (*init)(void);
    bool schedule_free; /* has eval weights distinct from train weights */
} rule;

static const rule rules[] = {
    {"adamw-schedulefree", init_adamw_schedulefree, true},
    {"radam-schedulefree", init_radam_schedulefree, true},
    {"sgd-schedulefree", init_sgd_schedulefree, true},
    {"adamw", init_adamw, false},
    {"adam", init_adam, false},
    {"sgd", init_sgd, false},
    {"prodigy", init_prodigy, false},
    {"adagrad", init_adagrad, false},
    {"rmsprop", init_rmsprop, false},
    {"madgrad", init_madgrad, false},
    {"lion", init_lion, false},
    {"dadapt-adam", init_dadapt_adam, false},
    {"dadapt-sgd", init_dadapt_sgd, false},
    {"dadapt-lion", init_dadapt_lion, false},
    {"dadapt-adagrad", init_dadapt_adagrad, false},
    {"dadapt-adan", init_dadapt_adan, false},
    {"mirror-madgrad", init_mirror_madgrad, false},
    {"momo", init_momo, false},
    {"momo-adam", init_momo_adam, false},
    {"mechanic-adamw", init_mechanic_adamw, false},
    {"mechanic-sgd", init_mechanic_sgd, false},
    {"schedulefree-wrapper-sgd", init_schedulefree_wrapper_sgd, true},
    {"polyak", init_polyak, false},
    {"ngd", init_ngd, false},
    {"accelerated", init_accelerated, false},
    {"primal-averaging", init_primal_averaging, false},
    {"shb", init_shb, false},
};
#define N_RULES (sizeof rules / sizeof rules[0])

/* Builds the optimizer in opt_memory and sizes its state. */
static bool setup_optimizer(const rule *r)
{
    if (!r->init()) {
        return false;
    }
    TRY(freestep_optimizer_state_len(optimizer(), &state_len));
    if (state_len > STATE_CAPACITY) {
        return fail("the state array is shorter than "
                    "freestep_optimizer_state_len: raise STATE_CAPACITY");
    }
    return true;
}

/* Switches a Schedule-Free rule to its averaged weights; no-op otherwise. */
static bool eval_mode(const rule *r)
{
    if (r->schedule_free) {
        TRY(freestep_optimizer_eval_f32(optimizer(), params, N_PARAMS, state,
                                        state_len));
    }
    return true;
}

static bool train_mode(const rule *r)
{
    if (r->schedule_free) {
        TRY(freestep_optimizer_train_f32(optimizer(), params, N_PARAMS, state,
                                         state_len));
    }
    return true;
}

/* ---- Learning-rate schedules (--schedule). ---- */

/*
 * With a schedule other than "constant", every step sets the rule's lr to
 * base_lr times the schedule's multiplier at that step. The run's total
 * steps are known once the epochs are: warmup takes 5% of them, the final
 * decay of warmup-stable-decay 20%. The factorial-power decay (exponent
 * 1/2) is offset by one epoch, so it falls gently from 1 to about 0.18.
 *
 * "refined" is two runs. The first trains at the rule's constant lr and
 * records the norm of every step's minibatch gradient; freestep turns the
 * recorded norms into one multiplier per step (refined_lr, median filter a
 * tenth of the run wide), and the second run, from the same initial
 * weights and batch order, trains with them.
 */
typedef struct {
    const char *name;
    uint32_t kind; /* a freestep_schedule_kind, or SCHEDULE_REFINED */
} schedule_name;

#define SCHEDULE_REFINED 0u /* not a freestep kind: a table of multipliers */
#define REFINE_TAU 0.1
/* The refined schedule's arrays: room for 64 epochs of steps. */
#define STEPS_PER_EPOCH ((N_TRAIN + BATCH - 1) / BATCH)
#define REFINE_CAPACITY (64 * STEPS_PER_EPOCH)

static const schedule_name schedule_names[] = {
    {"constant", FREESTEP_SCHEDULE_CONSTANT},
    {"warmup", FREESTEP_SCHEDULE_LINEAR_WARMUP},
    {"linear-decay", FREESTEP_SCHEDULE_LINEAR_DECAY},
    {"cosine", FREESTEP_SCHEDULE_COSINE},
    {"wsd", FREESTEP_SCHEDULE_WARMUP_STABLE_DECAY},
    {"polynomial", FREESTEP_SCHEDULE_POLYNOMIAL},
    {"factorial", FREESTEP_SCHEDULE_FACTORIAL_POWER},
    {"refined", SCHEDULE_REFINED},
};
#define N_SCHEDULES (sizeof schedule_names / sizeof schedule_names[0])

static freestep_schedule lr_schedule = {FREESTEP_SCHEDULE_CONSTANT, 0, 0, 0,
                                        0.0, 0.0, 0.0};
static uint64_t step_count; /* steps taken so far */

/* What the steps of the current run do with the refined schedule. */
static enum { NOT_REFINED, RECORD_NORMS, FOLLOW_REFINED } refine_mode;
static float grad_norms[REFINE_CAPACITY]; /* recorded by the first run */
static float refined_lr[REFINE_CAPACITY]; /* multipliers for the second */

static const schedule_name *find_schedule(const char *name)
{
    for (size_t i = 0; i < N_SCHEDULES; i++) {
        if (strcmp(schedule_names[i].name, name) == 0) {
            return &schedule_names[i];
        }
    }
    return NULL;
}

/* Fills lr_schedule for a run of `epochs` and prints it. */
static void plan_schedule(const schedule_name *s, size_t epochs)
{
    uint64_t total = STEPS_PER_EPOCH * (uint64_t)epochs;
    bool formula = s->kind != FREESTEP_SCHEDULE_CONSTANT &&
                   s->kind != SCHEDULE_REFINED;
    lr_schedule.kind = formula ? s->kind : FREESTEP_SCHEDULE_CONSTANT;
    lr_schedule.total = total;
    lr_schedule.warmup = formula ? (total / 20 > 0 ? total / 20 : 1) : 0;
    lr_schedule.decay = total / 5;
    lr_schedule.final_value = 0.0;
    lr_schedule.power = s->kind == FREESTEP_SCHEDULE_FACTORIAL_POWER ? 0.5
                                                                     : 2.0;
    lr_schedule.offset = STEPS_PER_EPOCH;
    if (formula) {
        printf("schedule %s warmup %llu total %llu\n", s->name,
               (unsigned long long)lr_schedule.warmup,
               (unsigned long long)total);
    }
}

/*
 * Before each step: sets its lr from the schedule, or records the norm of
 * its gradient for the refined schedule.
 */
static bool schedule_next_step(void)
{
    if (refine_mode == RECORD_NORMS) {
        double sum = 0.0;
        for (size_t i = 0; i < N_PARAMS; i++) {
            sum += (double)grads[i] * (double)grads[i];
        }
        grad_norms[step_count] = (float)sqrt_newton(sum);
        return true;
    }
    if (refine_mode == FOLLOW_REFINED) {
        TRY(freestep_optimizer_set_lr(optimizer(),
                                      base_lr * refined_lr[step_count]));
        return true;
    }
    if (lr_schedule.kind == FREESTEP_SCHEDULE_CONSTANT) {
        return true;
    }
    double m;
    TRY(freestep_schedule_multiplier(&lr_schedule, step_count, &m));
    TRY(freestep_optimizer_set_lr(optimizer(), base_lr * m));
    return true;
}

/*
 * Between the two runs of "refined": the schedule from the recorded norms,
 * and a line saying where it peaks and how it starts and ends.
 */
static bool refine_schedule(size_t steps)
{
    TRY(freestep_schedule_refine_f32(grad_norms, steps, REFINE_TAU,
                                     refined_lr, steps));
    size_t peak = 0;
    for (size_t t = 1; t < steps; t++) {
        if (refined_lr[t] > refined_lr[peak]) {
            peak = t;
        }
    }
    printf("schedule refined tau %g from %lu recorded norms: first %.6g "
           "peak at step %lu last %.6g\n",
           REFINE_TAU, (unsigned long)steps, refined_lr[0],
           (unsigned long)peak, refined_lr[steps - 1]);
    return true;
}

/* ---- Training. ---- */

/* One pass over the shuffled training rows; returns the mean loss. */
static bool train_epoch(rng *shuffler, double *mean_loss)
{
    float x[INPUTS], h[HIDDEN], z[CLASSES];
    double loss = 0.0;
    shuffle(batch_order, N_TRAIN, shuffler);
    for (size_t start = 0; start < N_TRAIN; start += BATCH) {
        size_t n = N_TRAIN - start < BATCH ? N_TRAIN - start : BATCH;
        float scale = 1.0f / (float)n;
        double batch_loss = 0.0;
        memset(grads, 0, sizeof grads);
        for (size_t k = 0; k < n; k++) {
            size_t row = batch_order[start + k];
            size_t label = digits_labels[row];
            load_input(row, x);
            forward(x, h, z);
            batch_loss += softmax_loss(z, label);
            backward(x, h, z, label, scale);
        }
        loss += batch_loss;
        if (!schedule_next_step()) {
            return false;
        }
        /*
         * The minibatch's mean loss goes with every step: the rules that
         * read it (MoMo, the Polyak step) need it, the others ignore it.
         */
        TRY(freestep_optimizer_step_loss_f32(optimizer(), params, grads,
                                             N_PARAMS, batch_loss / (double)n,
                                             state, state_len));
        step_count++;
    }
    *mean_loss = loss / N_TRAIN;
    return true;
}

/*
 * Counts are printed as unsigned long, not with %zu: some C libraries for
 * microcontrollers (newlib built without its C99 formats) print "zu".
 */
static bool print_epoch(size_t epoch, double loss, double train_acc)
{
    freestep_progress p;
    TRY(freestep_optimizer_progress(optimizer(), &p));
    printf("epoch %lu loss %.6f train_acc %.4f lr %.6g d ",
           (unsigned long)epoch, loss, train_acc, p.lr);
    if (!isnan(p.d)) {
        printf("%.6g\n", p.d);
    } else {
        printf("-\n");
    }
    return true;
}

/* One training run; its result lines start with `prefix`. */
static bool run(const rule *r, const schedule_name *schedule, size_t epochs,
                const char *prefix)
{
    rng splitter = {SPLIT_SEED};
    rng shuffler = {SHUFFLE_SEED};
    for (size_t i = 0; i < DIGITS_ROWS; i++) {
        order[i] = (uint16_t)i;
    }
    shuffle(order, DIGITS_ROWS, &splitter);
    memcpy(batch_order, order, sizeof batch_order);
    if (!init_params()) {
        return false;
    }
    step_count = 0;

    printf("optimizer %s epochs %lu batch %d hidden %d params %d "
           "train %d test %d\n",
           r->name, (unsigned long)epochs, BATCH, HIDDEN, N_PARAMS, N_TRAIN,
           N_TEST);
    if (!setup_optimizer(r)) {
        return false;
    }
    plan_schedule(schedule, epochs);
    for (size_t epoch = 1; epoch <= epochs; epoch++) {
        double loss;
        if (!train_epoch(&shuffler, &loss) || !eval_mode(r)) {
            return false;
        }
        double train_acc = accuracy(order, N_TRAIN);
        if (!print_epoch(epoch, loss, train_acc)) {
            return false;
        }
        if (epoch < epochs && !train_mode(r)) {
            return false;
        }
    }
    /* The parameters hold the eval weights here (for every rule). */
    printf("%stest accuracy: %.4f\n", prefix,
           accuracy(order + N_TRAIN, N_TEST));
    printf("%sweights digest: %016llx\n", prefix,
           (unsigned long long)digest());
    return true;
}

/*
 * A plain run, or the two runs of the refined schedule: the first, at a
 * constant lr, records the gradient norms and prints its results as the
 * "recording run"; the second trains on the schedule made from them.
 */
static bool train(const rule *r, const schedule_name *schedule, size_t epochs)
{
    if (schedule->kind != SCHEDULE_REFINED) {
        refine_mode = NOT_REFINED;
        return run(r, schedule, epochs, "");
    }
    size_t steps = STEPS_PER_EPOCH * epochs;
    if (steps > REFINE_CAPACITY) {
        return fail("the refined schedule records at most 64 epochs: raise "
                    "REFINE_CAPACITY or train fewer epochs");
    }
    printf("schedule refined: recording run at the constant lr\n");
    refine_mode = RECORD_NORMS;
    if (!run(r, schedule, epochs, "recording run ") ||
        !refine_schedule(steps)) {
        return false;
    }
    refine_mode = FOLLOW_REFINED;
    return run(r, schedule, epochs, "");
}

/* ---- Command line. ---- */

static const char usage[] =
    "usage: train_digits [--optimizer NAME] [--schedule KIND] [--epochs N]\n"
    "  NAME: adamw-schedulefree (default), sgd-schedulefree, adamw, adam,\n"
    "        sgd, prodigy, adagrad, rmsprop, madgrad, lion, dadapt-adam,\n"
    "        dadapt-sgd, dadapt-lion, dadapt-adagrad, dadapt-adan,\n"
    "        mirror-madgrad, momo, momo-adam, mechanic-adamw, mechanic-sgd,\n"
    "        radam-schedulefree, schedulefree-wrapper-sgd, polyak, ngd,\n"
    "        accelerated, primal-averaging, shb\n"
    "  KIND: constant (default), warmup, linear-decay, cosine, wsd,\n"
    "        polynomial, factorial: the lr of every step is the rule's\n"
    "        times the schedule's multiplier (5% warmup where there is\n"
    "        one); refined: a run at the rule's lr records the gradient\n"
    "        norms, then a second run trains on the refined schedule made\n"
    "        from them (at most 64 epochs)\n"
    "  N:    number of epochs, 1..100000 (default 30)\n";

static const rule *find_rule(const char *name)
{
    for (size_t i = 0; i < N_RULES; i++) {
        if (strcmp(rules[i].name, name) == 0) {
            return &rules[i];
        }
    }
    return NULL;
}

static bool parse_epochs(const char *s, size_t *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > MAX_EPOCHS) {
        return false;
    }
    *out = (size_t)v;
    return true;
}

/* Reads the options; on a bad one, says which and returns false. */
static bool parse_args(int argc, char **argv, const rule **r,
                       const schedule_name **schedule, size_t *epochs)
{
    *r = &rules[0];
    *schedule = &schedule_names[0];
    *epochs = DEFAULT_EPOCHS;
    for (int i = 1; i < argc; i += 2) {
        const char *flag = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool optimizer_flag = strcmp(flag, "--optimizer") == 0;
        bool schedule_flag = strcmp(flag, "--schedule") == 0;
        bool ok;
        if (!optimizer_flag && !schedule_flag &&
            strcmp(flag, "--epochs") != 0) {
            fprintf(stderr, "train_digits: unexpected argument `%s`\n", flag);
            return false;
        } else if (value == NULL) {
            fprintf(stderr, "train_digits: %s needs a value\n", flag);
            return false;
        } else if (optimizer_flag) {
            ok = (*r = find_rule(value)) != NULL;
        } else if (schedule_flag) {
            ok = (*schedule = find_schedule(value)) != NULL;
        } else {
            ok = parse_epochs(value, epochs);
        }
        if (!ok) {
            fprintf(stderr, "train_digits: bad value `%s` for %s\n", value,
                    flag);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    const rule *r;
    const schedule_name *schedule;
    size_t epochs;
    if (!parse_args(argc, argv, &r, &schedule, &epochs)) {
        fputs(usage, stderr);
        return 2;
    }
    int code = train(r, schedule, epochs) ? EXIT_SUCCESS : EXIT_FAILURE;
    fflush(stdout);
    if (failure.has_status) {
        fprintf(stderr, "train_digits: %s failed: %s\n", failure.what,
                freestep_status_message(failure.status));
    } else if (failure.what != NULL) {
        fprintf(stderr, "train_digits: %s\n", failure.what);
    }
    return code;
}
