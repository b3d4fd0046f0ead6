/*
 * abi_test.c: the C ABI test of freestep.
 *
 * It calls every function declared in include/freestep.h. Good calls check
 * their results by value wherever the value follows by hand (one SGD step is
 * p - lr * g exactly; a phased step equals the one-call step bit for bit;
 * two threads updating disjoint ranges give the one-call bits). Bad calls
 * check that the status is the specific expected one and that parameters,
 * state and the optimizer object are byte-for-byte unchanged.
 *
 * Built and run by `cargo xtask c-abi` (C11, -Wall -Wextra -Werror
 * -pedantic, linked against target/release/libfreestep.a). The last line it
 * prints is "N passed, N failed"; it exits non-zero on any failure.
 */

#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freestep.h"

/* ---- Checks and counters ------------------------------------------------ */

static unsigned passed, failed;

static void check(int ok, const char *what, int line)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr, "abi_test.c:%d: FAILED: %s\n", line, what);
}

#define CHECK(cond) check((cond) != 0, #cond, __LINE__)

static void expect(freestep_status want, freestep_status got,
                   const char *call, int line)
{
    if (want == got) {
        passed++;
        return;
    }
    failed++;
    fprintf(stderr,
            "abi_test.c:%d: FAILED: %s\n  want %u (%s)\n  got  %u (%s)\n",
            line, call, (unsigned)want, freestep_status_message(want),
            (unsigned)got, freestep_status_message(got));
}

/* A call that must succeed. */
#define OK(call) expect(FREESTEP_OK, (call), #call, __LINE__)

/*
 * The watch list: memory that a refused call must leave alone. REFUSE
 * copies every watched region, makes the call, checks the status and then
 * compares each region with its copy.
 */
#define MAX_WATCH 8
static struct {
    const void *at;
    size_t len;
    unsigned char *copy;
} watched[MAX_WATCH];
static int n_watched;

static void unwatch(void) { n_watched = 0; }

static void watch(const void *at, size_t len)
{
    if (n_watched == MAX_WATCH) {
        fprintf(stderr, "abi_test.c: watch list full\n");
        exit(2);
    }
    watched[n_watched].at = at;
    watched[n_watched].len = len;
    n_watched++;
}

static void arm(void)
{
    for (int i = 0; i < n_watched; i++) {
        watched[i].copy = malloc(watched[i].len ? watched[i].len : 1);
        if (watched[i].copy == NULL) {
            fprintf(stderr, "abi_test.c: out of memory\n");
            exit(2);
        }
        memcpy(watched[i].copy, watched[i].at, watched[i].len);
    }
}

static void verify(freestep_status want, freestep_status got,
                   const char *call, int line)
{
    expect(want, got, call, line);
    for (int i = 0; i < n_watched; i++) {
        if (memcmp(watched[i].copy, watched[i].at, watched[i].len) == 0) {
            passed++;
        } else {
            failed++;
            fprintf(stderr, "abi_test.c:%d: FAILED: %s changed watched "
                    "region %d (%zu bytes)\n", line, call, i, watched[i].len);
        }
        free(watched[i].copy);
        watched[i].copy = NULL;
    }
}

/* A call that must be refused with `want` and change nothing watched. */
#define REFUSE(want, call)                                                   \
    do {                                                                     \
        arm();                                                               \
        verify((want), (call), #call, __LINE__);                             \
    } while (0)

/* ---- Memory the caller owns --------------------------------------------- */

typedef struct {
    _Alignas(FREESTEP_OPTIMIZER_MAX_ALIGN)
    unsigned char b[FREESTEP_OPTIMIZER_MAX_SIZE];
} opt_mem;

typedef struct {
    _Alignas(FREESTEP_PARTIAL_MAX_ALIGN)
    unsigned char b[FREESTEP_PARTIAL_MAX_SIZE];
} partial_mem;

#define OPT(m) ((freestep_optimizer *)(void *)(m).b)
#define PART(m) ((freestep_partial *)(void *)(m).b)

/* A buffer whose element pointers can be misaligned on purpose. */
typedef struct {
    _Alignas(16) unsigned char b[4096];
} raw_mem;

#define MISALIGNED_F32(m) ((float *)(void *)((m).b + 1))
#define MISALIGNED_F64(m) ((double *)(void *)((m).b + 1))

/* Deterministic values in [-1, 1). */
static unsigned long long rng = 0x9E3779B97F4A7C15ull;
static double rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0;
}

static void fill_f32(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)rnd();
}

static void fill_f64(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = rnd();
}

static size_t state_len(const freestep_optimizer *opt)
{
    size_t len = (size_t)-1;
    OK(freestep_optimizer_state_len(opt, &len));
    return len;
}

/* ---- Optimizers used by several tests ----------------------------------- */

static freestep_status sgd(opt_mem *m, double lr, double momentum,
                           freestep_precision precision, size_t n)
{
    freestep_sgd_config c;
    OK(freestep_sgd_default_config(&c));
    c.lr = lr;
    c.momentum = momentum;
    return freestep_sgd_init(OPT(*m), sizeof m->b, &c, precision, n, NULL, 0);
}

static freestep_status prodigy(opt_mem *m, freestep_precision precision,
                               size_t n, const freestep_group *groups,
                               size_t n_groups)
{
    freestep_prodigy_config c;
    OK(freestep_prodigy_default_config(&c));
    c.weight_decay = 0.01;
    return freestep_prodigy_init(OPT(*m), sizeof m->b, &c, precision, n,
                                 groups, n_groups);
}

static freestep_status adamw(opt_mem *m, freestep_precision precision,
                             size_t n)
{
    freestep_adam_config c;
    OK(freestep_adamw_default_config(&c));
    c.lr = 0.01;
    return freestep_adam_init(OPT(*m), sizeof m->b, &c, precision, n, NULL, 0);
}

/* ---- Library facts ------------------------------------------------------ */

static void test_version_and_messages(void)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", FREESTEP_VERSION_MAJOR,
             FREESTEP_VERSION_MINOR, FREESTEP_VERSION_PATCH);
    CHECK(strcmp(freestep_version(), want) == 0);

    const char *unknown = freestep_status_message(9999);
    CHECK(unknown != NULL && strlen(unknown) > 0);
    CHECK(strcmp(freestep_status_message(FREESTEP_OK), "success") == 0);
    for (uint32_t s = FREESTEP_OK; s <= FREESTEP_INVALID_NORM; s++) {
        const char *m = freestep_status_message(s);
        CHECK(m != NULL && strcmp(m, unknown) != 0);
    }
    CHECK(strcmp(freestep_status_message(FREESTEP_INVALID_NORM + 1),
                 unknown) == 0);
    CHECK(FREESTEP_OK == 0 && FREESTEP_NULL_POINTER == 1 &&
          FREESTEP_UNSUPPORTED == 18 && FREESTEP_F32 == 1 &&
          FREESTEP_F64 == 2);
}

static int power_of_two(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

static void test_sizes(void)
{
    CHECK(freestep_optimizer_size() > 0);
    CHECK(freestep_optimizer_size() <= FREESTEP_OPTIMIZER_MAX_SIZE);
    CHECK(power_of_two(freestep_optimizer_align()));
    CHECK(freestep_optimizer_align() <= FREESTEP_OPTIMIZER_MAX_ALIGN);
    CHECK(freestep_partial_size() > 0);
    CHECK(freestep_partial_size() <= FREESTEP_PARTIAL_MAX_SIZE);
    CHECK(power_of_two(freestep_partial_align()));
    CHECK(freestep_partial_align() <= FREESTEP_PARTIAL_MAX_ALIGN);
}

static void test_default_configs(void)
{
    freestep_sgd_config sgd_c;
    OK(freestep_sgd_default_config(&sgd_c));
    CHECK(sgd_c.lr == 1e-3 && sgd_c.momentum == 0.0 &&
          sgd_c.dampening == 0.0 && sgd_c.weight_decay == 0.0 &&
          !sgd_c.nesterov && !sgd_c.maximize);

    freestep_adam_config adam_c;
    OK(freestep_adam_default_config(&adam_c));
    CHECK(adam_c.lr == 1e-3 && adam_c.beta1 == 0.9 && adam_c.beta2 == 0.999 &&
          adam_c.eps == 1e-8 && adam_c.weight_decay == 0.0 &&
          !adam_c.amsgrad && !adam_c.maximize &&
          !adam_c.decoupled_weight_decay);
    OK(freestep_adamw_default_config(&adam_c));
    CHECK(adam_c.lr == 1e-3 && adam_c.weight_decay == 1e-2 &&
          adam_c.decoupled_weight_decay);

    freestep_sgd_schedulefree_config sfs;
    OK(freestep_sgd_schedulefree_default_config(&sfs));
    CHECK(sfs.lr == 1.0 && sfs.momentum == 0.9 && sfs.weight_decay == 0.0 &&
          sfs.warmup_steps == 0 && sfs.r == 0.0 && sfs.weight_lr_power == 2.0);

    freestep_adamw_schedulefree_config sfa;
    OK(freestep_adamw_schedulefree_default_config(&sfa));
    CHECK(sfa.lr == 0.0025 && sfa.beta1 == 0.9 && sfa.beta2 == 0.999 &&
          sfa.eps == 1e-8 && sfa.warmup_steps == 0 &&
          sfa.weight_lr_power == 2.0);

    freestep_prodigy_config pc;
    OK(freestep_prodigy_default_config(&pc));
    CHECK(pc.lr == 1.0 && pc.beta1 == 0.9 && pc.beta2 == 0.999 &&
          pc.beta3 < 0.0 && pc.eps == 1e-8 && pc.decouple &&
          !pc.use_bias_correction && !pc.safeguard_warmup && pc.d0 == 1e-6 &&
          pc.d_coef == 1.0 && isinf(pc.growth_rate) && pc.slice_p == 1);

    /* NULL and misaligned out-parameters. */
    raw_mem raw;
    memset(&raw, 0x33, sizeof raw);
    unwatch();
    watch(&raw, sizeof raw);
    REFUSE(FREESTEP_NULL_POINTER, freestep_sgd_default_config(NULL));
    REFUSE(FREESTEP_NULL_POINTER, freestep_adam_default_config(NULL));
    REFUSE(FREESTEP_NULL_POINTER, freestep_adamw_default_config(NULL));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_sgd_schedulefree_default_config(NULL));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_adamw_schedulefree_default_config(NULL));
    REFUSE(FREESTEP_NULL_POINTER, freestep_prodigy_default_config(NULL));
    REFUSE(FREESTEP_MISALIGNED_POINTER,
           freestep_sgd_default_config(
               (freestep_sgd_config *)(void *)(raw.b + 1)));
    REFUSE(FREESTEP_MISALIGNED_POINTER,
           freestep_prodigy_default_config(
               (freestep_prodigy_config *)(void *)(raw.b + 4)));
    unwatch();
}

/* ---- Init --------------------------------------------------------------- */

static void test_init_errors(void)
{
    opt_mem m;
    memset(&m, 0x5A, sizeof m);
    freestep_sgd_config sc;
    OK(freestep_sgd_default_config(&sc));
    const size_t size = freestep_optimizer_size();

    unwatch();
    watch(&m, sizeof m);
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_sgd_init(NULL, size, &sc, FREESTEP_F32, 4, NULL, 0));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_sgd_init(OPT(m), size, NULL, FREESTEP_F32, 4, NULL, 0));
    REFUSE(FREESTEP_MISALIGNED_POINTER,
           freestep_sgd_init((freestep_optimizer *)(void *)(m.b + 1), size,
                             &sc, FREESTEP_F32, 4, NULL, 0));
    REFUSE(FREESTEP_BUFFER_TOO_SMALL,
           freestep_sgd_init(OPT(m), size - 1, &sc, FREESTEP_F32, 4, NULL, 0));
    REFUSE(FREESTEP_BUFFER_TOO_SMALL,
           freestep_sgd_init(OPT(m), 0, &sc, FREESTEP_F32, 4, NULL, 0));
    REFUSE(FREESTEP_INVALID_PRECISION,
           freestep_sgd_init(OPT(m), size, &sc, 0, 4, NULL, 0));
    REFUSE(FREESTEP_INVALID_PRECISION,
           freestep_sgd_init(OPT(m), size, &sc, 7, 4, NULL, 0));

    /* A hyperparameter out of range, for every rule. */
    sc.lr = -1.0;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_sgd_init(OPT(m), size, &sc, FREESTEP_F32, 4, NULL, 0));
    sc.lr = NAN;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_sgd_init(OPT(m), size, &sc, FREESTEP_F64, 4, NULL, 0));
    OK(freestep_sgd_default_config(&sc));
    sc.nesterov = true; /* needs momentum > 0 */
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_sgd_init(OPT(m), size, &sc, FREESTEP_F32, 4, NULL, 0));

    freestep_adam_config ac;
    OK(freestep_adam_default_config(&ac));
    ac.beta1 = 1.0;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_adam_init(OPT(m), size, &ac, FREESTEP_F32, 4, NULL, 0));
    OK(freestep_adamw_default_config(&ac));
    ac.eps = 0.0;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_adam_init(OPT(m), size, &ac, FREESTEP_F64, 4, NULL, 0));

    freestep_sgd_schedulefree_config sfs;
    OK(freestep_sgd_schedulefree_default_config(&sfs));
    sfs.momentum = 0.0;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_sgd_schedulefree_init(OPT(m), size, &sfs, FREESTEP_F32, 4,
                                          NULL, 0));

    freestep_adamw_schedulefree_config sfa;
    OK(freestep_adamw_schedulefree_default_config(&sfa));
    sfa.lr = INFINITY;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_adamw_schedulefree_init(OPT(m), size, &sfa, FREESTEP_F32,
                                            4, NULL, 0));

    freestep_prodigy_config pc;
    OK(freestep_prodigy_default_config(&pc));
    pc.beta3 = 2.0;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_prodigy_init(OPT(m), size, &pc, FREESTEP_F64, 4, NULL, 0));
    pc.beta3 = NAN;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_prodigy_init(OPT(m), size, &pc, FREESTEP_F64, 4, NULL, 0));
    OK(freestep_prodigy_default_config(&pc));
    pc.slice_p = 0;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_prodigy_init(OPT(m), size, &pc, FREESTEP_F32, 4, NULL, 0));

    /* Groups. */
    OK(freestep_sgd_default_config(&sc));
    freestep_group g[FREESTEP_MAX_GROUPS + 1];
    for (size_t i = 0; i < FREESTEP_MAX_GROUPS + 1; i++) {
        g[i].len = 1;
        g[i].lr_scale = 1.0;
        g[i].weight_decay_scale = 1.0;
    }
    REFUSE(FREESTEP_TOO_MANY_GROUPS,
           freestep_sgd_init(OPT(m), size, &sc, FREESTEP_F32,
                             FREESTEP_MAX_GROUPS + 1, g,
                             FREESTEP_MAX_GROUPS + 1));
    REFUSE(FREESTEP_GROUPS_DO_NOT_COVER,
           freestep_sgd_init(OPT(m), size, &sc, FREESTEP_F32, 4, g, 3));
    g[1].lr_scale = -1.0;
    REFUSE(FREESTEP_INVALID_GROUP,
           freestep_sgd_init(OPT(m), size, &sc, FREESTEP_F32, 4, g, 4));
    g[1].lr_scale = 1.0;
    g[2].weight_decay_scale = NAN;
    REFUSE(FREESTEP_INVALID_GROUP,
           freestep_sgd_init(OPT(m), size, &sc, FREESTEP_F32, 4, g, 4));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_sgd_init(OPT(m), size, &sc, FREESTEP_F32, 4, NULL, 2));
    raw_mem raw;
    memset(&raw, 0, sizeof raw);
    REFUSE(FREESTEP_MISALIGNED_POINTER,
           freestep_sgd_init(OPT(m), size, &sc, FREESTEP_F32, 4,
                             (const freestep_group *)(void *)(raw.b + 1), 1));
    unwatch();

    /* The block's old contents do not matter, and a block of exactly
     * freestep_optimizer_size() bytes is enough. */
    OK(freestep_sgd_init(OPT(m), size, &sc, FREESTEP_F32, 4, NULL, 0));
    CHECK(state_len(OPT(m)) == 0);
}

/* ---- SGD: values by hand ------------------------------------------------ */

static void test_sgd_by_hand(void)
{
    opt_mem m;
    float p[4] = {1.0f, -2.0f, 0.5f, 3.0f};
    const float g[4] = {0.25f, 0.5f, -1.0f, 2.0f};

    OK(sgd(&m, 0.5, 0.0, FREESTEP_F32, 4));
    CHECK(state_len(OPT(m)) == 0);
    freestep_rule rule = 0;
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_SGD);

    float want[4];
    for (int i = 0; i < 4; i++)
        want[i] = p[i] - 0.5f * g[i];
    OK(freestep_optimizer_step_f32(OPT(m), p, g, 4, NULL, 0));
    CHECK(memcmp(p, want, sizeof p) == 0);
    CHECK(p[0] == 0.875f && p[1] == -2.25f && p[2] == 1.0f && p[3] == 2.0f);

    freestep_progress pr;
    OK(freestep_optimizer_progress(OPT(m), &pr));
    CHECK(pr.k == 1 && pr.lr == 0.5 && isnan(pr.d));

    /* A new learning rate applies to the next step. */
    OK(freestep_optimizer_set_lr(OPT(m), 0.25));
    OK(freestep_optimizer_step_f32(OPT(m), p, g, 4, NULL, 0));
    CHECK(p[0] == 0.8125f && p[1] == -2.375f && p[2] == 1.25f && p[3] == 1.5f);
    OK(freestep_optimizer_progress(OPT(m), &pr));
    CHECK(pr.k == 2 && pr.lr == 0.25);

    /* Momentum in f64: the first step copies g into the buffer, later
     * steps compute b = mu b + g. The same operations in C give the same
     * bits. */
    double pd[3] = {1.0, 2.0, -3.0}, gd[3] = {0.1, -0.7, 0.3}, sd[3];
    double wp[3], wb[3];
    memset(sd, 0, sizeof sd);
    OK(sgd(&m, 0.1, 0.9, FREESTEP_F64, 3));
    CHECK(state_len(OPT(m)) == 3);
    for (int i = 0; i < 3; i++) {
        wb[i] = gd[i];
        wp[i] = pd[i] - 0.1 * wb[i];
    }
    OK(freestep_optimizer_step_f64(OPT(m), pd, gd, 3, sd, 3));
    CHECK(memcmp(pd, wp, sizeof pd) == 0 && memcmp(sd, wb, sizeof sd) == 0);
    for (int i = 0; i < 3; i++) {
        wb[i] = 0.9 * wb[i] + 1.0 * gd[i];
        wp[i] -= 0.1 * (0.0 * gd[i] + 1.0 * wb[i]);
    }
    OK(freestep_optimizer_step_f64(OPT(m), pd, gd, 3, sd, 3));
    CHECK(memcmp(pd, wp, sizeof pd) == 0 && memcmp(sd, wb, sizeof sd) == 0);

    /* Reset: the next step is a first step again (buffer = g). */
    OK(freestep_optimizer_reset(OPT(m)));
    OK(freestep_optimizer_progress(OPT(m), &pr));
    CHECK(pr.k == 0);
    for (int i = 0; i < 3; i++)
        wp[i] = pd[i] - 0.1 * gd[i];
    OK(freestep_optimizer_step_f64(OPT(m), pd, gd, 3, sd, 3));
    CHECK(memcmp(pd, wp, sizeof pd) == 0 && memcmp(sd, gd, sizeof sd) == 0);

    /* Groups: no decay on the second, frozen third. */
    freestep_sgd_config c;
    OK(freestep_sgd_default_config(&c));
    c.lr = 0.5;
    c.weight_decay = 0.5;
    const freestep_group groups[3] = {
        {1, 1.0, 1.0}, {1, 1.0, 0.0}, {2, 0.0, 1.0}};
    OK(freestep_sgd_init(OPT(m), sizeof m.b, &c, FREESTEP_F32, 4, groups, 3));
    float q[4] = {1.0f, 1.0f, 1.0f, 1.0f};
    const float h[4] = {0.25f, 0.25f, 0.25f, 0.25f};
    OK(freestep_optimizer_step_f32(OPT(m), q, h, 4, NULL, 0));
    CHECK(q[0] == 0.625f && q[1] == 0.875f && q[2] == 1.0f && q[3] == 1.0f);
}

/* ---- Adam and AdamW ----------------------------------------------------- */

static void test_adam(void)
{
    opt_mem m;
    freestep_adam_config c;
    freestep_rule rule = 0;

    OK(freestep_adam_default_config(&c));
    OK(freestep_adam_init(OPT(m), sizeof m.b, &c, FREESTEP_F32, 5, NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_ADAM);
    CHECK(state_len(OPT(m)) == 10);

    /* The first step moves each coordinate by about lr, against g. */
    float p[5] = {1, 1, 1, 1, 1}, g[5] = {4, -4, 0.5f, -0.01f, 100}, s[10];
    memset(s, 0, sizeof s);
    OK(freestep_optimizer_step_f32(OPT(m), p, g, 5, s, 10));
    for (int i = 0; i < 5; i++)
        CHECK(fabs(p[i] - (1.0 - copysign(1e-3, g[i]))) < 1e-6);

    c.amsgrad = true;
    OK(freestep_adam_init(OPT(m), sizeof m.b, &c, FREESTEP_F64, 5, NULL, 0));
    CHECK(state_len(OPT(m)) == 15);

    OK(freestep_adamw_default_config(&c));
    OK(freestep_adam_init(OPT(m), sizeof m.b, &c, FREESTEP_F64, 5, NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_ADAMW);
}

/*
 * AdaGrad and RMSprop, values derived by hand (torch.optim's update):
 * AdaGrad lr 0.5: s = g^2, p -= 0.5 g / (|g| + eps); RMSprop alpha 0.75,
 * lr 0.1, momentum 0.5: v = 0.25 g^2, b = g / (sqrt(v) + eps), p -= lr b;
 * second step v = 0.75 v + 0.25 g^2, b = 0.5 b + g / (sqrt(v) + eps).
 */
static void test_adagrad_rmsprop(void)
{
    opt_mem m;
    freestep_rule rule = 0;
    freestep_adagrad_config a;
    OK(freestep_adagrad_default_config(&a));
    CHECK(a.lr == 1e-2 && a.lr_decay == 0.0 && a.weight_decay == 0.0 &&
          a.initial_accumulator_value == 0.0 && a.eps == 1e-10 && !a.maximize);
    a.lr = 0.5;
    OK(freestep_adagrad_init(OPT(m), sizeof m.b, &a, FREESTEP_F64, 2, NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_ADAGRAD);
    CHECK(state_len(OPT(m)) == 2);
    double p[2] = {1.0, 1.0}, g[2] = {4.0, -1.0}, s[2] = {0, 0};
    OK(freestep_optimizer_step_f64(OPT(m), p, g, 2, s, 2));
    CHECK(s[0] == 16.0 && s[1] == 1.0);
    CHECK(fabs(p[0] - (1.0 - 0.5 * 4.0 / (4.0 + 1e-10))) < 1e-15);
    CHECK(fabs(p[1] - (1.0 + 0.5 / (1.0 + 1e-10))) < 1e-15);
    a.eps = 0.0;
    CHECK(freestep_adagrad_init(OPT(m), sizeof m.b, &a, FREESTEP_F64, 2, NULL,
                                0) == FREESTEP_INVALID_HYPERPARAMETER);

    freestep_rmsprop_config r;
    OK(freestep_rmsprop_default_config(&r));
    CHECK(r.lr == 1e-2 && r.alpha == 0.99 && r.eps == 1e-8 &&
          r.weight_decay == 0.0 && r.momentum == 0.0 && !r.centered &&
          !r.maximize);
    r.lr = 0.1;
    r.alpha = 0.75;
    r.momentum = 0.5;
    OK(freestep_rmsprop_init(OPT(m), sizeof m.b, &r, FREESTEP_F64, 1, NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_RMSPROP);
    CHECK(state_len(OPT(m)) == 2);
    double q[1] = {1.0}, h[1] = {2.0}, t[2] = {0, 0};
    OK(freestep_optimizer_step_f64(OPT(m), q, h, 1, t, 2));
    double b1 = 2.0 / (1.0 + 1e-8);
    CHECK(t[0] == 1.0 && fabs(t[1] - b1) < 1e-15);
    CHECK(fabs(q[0] - (1.0 - 0.1 * b1)) < 1e-15);
    OK(freestep_optimizer_step_f64(OPT(m), q, h, 1, t, 2));
    double b2 = 0.5 * b1 + 2.0 / (sqrt(1.75) + 1e-8);
    CHECK(t[0] == 1.75 && fabs(t[1] - b2) < 1e-15);
    CHECK(fabs(q[0] - (1.0 - 0.1 * b1 - 0.1 * b2)) < 1e-14);
    r.centered = true;
    OK(freestep_rmsprop_init(OPT(m), sizeof m.b, &r, FREESTEP_F32, 5, NULL, 0));
    CHECK(state_len(OPT(m)) == 15);
    r.alpha = 1.5;
    CHECK(freestep_rmsprop_init(OPT(m), sizeof m.b, &r, FREESTEP_F32, 5, NULL,
                                0) == FREESTEP_INVALID_HYPERPARAMETER);

    /*
     * MADGRAD without momentum or eps, lr 0.1, g = 8: nu = 0.1 * 64 = 6.4,
     * s = 0.8, p = 1 - s / cbrt(nu). With the defaults three state values
     * per parameter (nu, s, x0).
     */
    freestep_madgrad_config d;
    OK(freestep_madgrad_default_config(&d));
    CHECK(d.lr == 1e-2 && d.momentum == 0.9 && d.weight_decay == 0.0 &&
          d.eps == 1e-6 && !d.decouple_decay);
    OK(freestep_madgrad_init(OPT(m), sizeof m.b, &d, FREESTEP_F32, 4, NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_MADGRAD);
    CHECK(state_len(OPT(m)) == 12);
    d.lr = 0.1;
    d.momentum = 0.0;
    d.eps = 0.0;
    OK(freestep_madgrad_init(OPT(m), sizeof m.b, &d, FREESTEP_F64, 1, NULL, 0));
    CHECK(state_len(OPT(m)) == 2);
    double x[1] = {1.0}, gx[1] = {8.0}, st[2] = {0, 0};
    OK(freestep_optimizer_step_f64(OPT(m), x, gx, 1, st, 2));
    CHECK(fabs(st[0] - 6.4) < 1e-15 && fabs(st[1] - 0.8) < 1e-15);
    CHECK(fabs(x[0] - (1.0 - 0.8 / cbrt(6.4))) < 1e-12);
    d.momentum = 1.0;
    CHECK(freestep_madgrad_init(OPT(m), sizeof m.b, &d, FREESTEP_F64, 1, NULL,
                                0) == FREESTEP_INVALID_HYPERPARAMETER);

    /* Mirror MADGRAD, k = 0 by hand: nu = g^2, z = 1 - lr g / cbrt(g^2). */
    freestep_mirror_madgrad_config mm;
    OK(freestep_mirror_madgrad_default_config(&mm));
    CHECK(mm.lr == 1e-2 && mm.momentum == 0.9 && mm.weight_decay == 0.0 &&
          mm.eps == 0.0 && !mm.decouple_decay);
    mm.lr = 0.5;
    mm.momentum = 0.0;
    OK(freestep_mirror_madgrad_init(OPT(m), sizeof m.b, &mm, FREESTEP_F64, 1,
                                    NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_MIRROR_MADGRAD);
    CHECK(state_len(OPT(m)) == 2);
    double mp[1] = {1.0}, mg[1] = {8.0}, ms[2];
    OK(freestep_optimizer_step_f64(OPT(m), mp, mg, 1, ms, 2));
    CHECK(ms[0] == 64.0 && mp[0] == 0.0);

    /* Lion's first step moves each coordinate by lr against sign(g). */
    freestep_lion_config l;
    OK(freestep_lion_default_config(&l));
    CHECK(l.lr == 1e-4 && l.beta1 == 0.9 && l.beta2 == 0.99 &&
          l.weight_decay == 0.0 && !l.maximize);
    l.lr = 0.25;
    OK(freestep_lion_init(OPT(m), sizeof m.b, &l, FREESTEP_F32, 3, NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_LION);
    CHECK(state_len(OPT(m)) == 3);
    float lp[3] = {1, 1, 1}, lg[3] = {5, -0.001f, 0}, lm[3];
    OK(freestep_optimizer_step_f32(OPT(m), lp, lg, 3, lm, 3));
    CHECK(lp[0] == 0.75f && lp[1] == 1.25f && lp[2] == 1.0f);
    l.beta2 = 1.5;
    CHECK(freestep_lion_init(OPT(m), sizeof m.b, &l, FREESTEP_F32, 3, NULL, 0) ==
          FREESTEP_INVALID_HYPERPARAMETER);

    /*
     * D-Adaptation Adam: a zero first gradient leaves sum |s| at 0, so the
     * step is not counted and the parameters stay (the reference returns
     * early). The next step, with dlr = d0 = 1e-6 and no bias correction:
     * m = dlr (1 - 0.9) 3, v = (1 - 0.999) 9, p -= m / (sqrt(v) + eps).
     */
    freestep_dadapt_adam_config da;
    OK(freestep_dadapt_adam_default_config(&da));
    CHECK(da.lr == 1.0 && da.beta1 == 0.9 && da.beta2 == 0.999 &&
          da.eps == 1e-8 && da.weight_decay == 0.0 && da.d0 == 1e-6 &&
          isinf(da.growth_rate) && !da.decouple && !da.use_bias_correction);
    OK(freestep_dadapt_adam_init(OPT(m), sizeof m.b, &da, FREESTEP_F64, 2,
                                 NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_DADAPT_ADAM);
    CHECK(state_len(OPT(m)) == 6);
    double dp[2] = {1.0, -1.0}, dz[2] = {0.0, 0.0}, dg[2] = {3.0, -3.0};
    double ds[6];
    OK(freestep_optimizer_step_f64(OPT(m), dp, dz, 2, ds, 6));
    freestep_progress pr;
    OK(freestep_optimizer_progress(OPT(m), &pr));
    CHECK(pr.k == 0 && pr.d == 1e-6 && dp[0] == 1.0 && dp[1] == -1.0);
    OK(freestep_optimizer_step_f64(OPT(m), dp, dg, 2, ds, 6));
    OK(freestep_optimizer_progress(OPT(m), &pr));
    CHECK(pr.k == 1 && pr.d >= 1e-6);
    double move = 1e-6 * (1.0 - 0.9) * 3.0 / (sqrt((1.0 - 0.999) * 9.0) + 1e-8);
    CHECK(fabs(dp[0] - (1.0 - move)) < 1e-15 && fabs(dp[1] - (-1.0 + move)) < 1e-15);
    da.d0 = 0.0;
    CHECK(freestep_dadapt_adam_init(OPT(m), sizeof m.b, &da, FREESTEP_F64, 2,
                                    NULL, 0) == FREESTEP_INVALID_HYPERPARAMETER);

    /*
     * D-Adaptation SGD, first step by hand: g0 = |(3, 4)| = 5, dlr = d0 / 5,
     * p = x0 - dlr g. A zero first gradient (which the reference cannot
     * take) is no step at all.
     */
    freestep_dadapt_sgd_config ds_c;
    OK(freestep_dadapt_sgd_default_config(&ds_c));
    CHECK(ds_c.lr == 1.0 && ds_c.momentum == 0.0 && ds_c.weight_decay == 0.0 &&
          ds_c.d0 == 1e-6 && isinf(ds_c.growth_rate));
    OK(freestep_dadapt_sgd_init(OPT(m), sizeof m.b, &ds_c, FREESTEP_F64, 2,
                                NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_DADAPT_SGD);
    CHECK(state_len(OPT(m)) == 4);
    double sp[2] = {1.0, 1.0}, sz[2] = {0.0, 0.0}, sg[2] = {3.0, 4.0}, ss[4];
    OK(freestep_optimizer_step_f64(OPT(m), sp, sz, 2, ss, 4));
    OK(freestep_optimizer_progress(OPT(m), &pr));
    CHECK(pr.k == 0 && sp[0] == 1.0 && sp[1] == 1.0);
    OK(freestep_optimizer_step_f64(OPT(m), sp, sg, 2, ss, 4));
    OK(freestep_optimizer_progress(OPT(m), &pr));
    CHECK(pr.k == 1 && pr.lr == 1e-6 / 5.0);
    CHECK(sp[0] == 1.0 - 1e-6 / 5.0 * 3.0 && sp[1] == 1.0 - 1e-6 / 5.0 * 4.0);

    /* D-Adaptation Lion's first step moves by dlr = d0 against sign(g). */
    freestep_dadapt_lion_config dl;
    OK(freestep_dadapt_lion_default_config(&dl));
    CHECK(dl.lr == 1.0 && dl.beta1 == 0.9 && dl.beta2 == 0.99 &&
          dl.weight_decay == 0.0 && dl.d0 == 1e-6);
    OK(freestep_dadapt_lion_init(OPT(m), sizeof m.b, &dl, FREESTEP_F64, 2,
                                 NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_DADAPT_LION);
    CHECK(state_len(OPT(m)) == 4);
    double lpp[2] = {1.0, 1.0}, lgg[2] = {-2.0, 0.5}, lss[4];
    OK(freestep_optimizer_step_f64(OPT(m), lpp, lgg, 2, lss, 4));
    CHECK(lpp[0] == 1.0 + 1e-6 && lpp[1] == 1.0 - 1e-6);

    /*
     * D-Adaptation AdaGrad's first step by hand: alpha = 1e-6 + g^2,
     * s = d0 g, p = x0 - s / (sqrt(alpha) + eps), eps = 1e-6.
     */
    freestep_dadapt_adagrad_config dag;
    OK(freestep_dadapt_adagrad_default_config(&dag));
    CHECK(dag.lr == 1.0 && dag.momentum == 0.0 && dag.weight_decay == 0.0 &&
          dag.eps == 1e-6 && dag.d0 == 1e-6 && isinf(dag.growth_rate));
    OK(freestep_dadapt_adagrad_init(OPT(m), sizeof m.b, &dag, FREESTEP_F64, 1,
                                    NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_DADAPT_ADAGRAD);
    CHECK(state_len(OPT(m)) == 3);
    double gp[1] = {2.0}, gg[1] = {3.0}, gs[3];
    OK(freestep_optimizer_step_f64(OPT(m), gp, gg, 1, gs, 3));
    CHECK(gs[0] == 1e-6 + 9.0 && gs[1] == 1e-6 * 3.0 && gs[2] == 2.0);
    CHECK(gp[0] == 2.0 - 1e-6 * 3.0 / (sqrt(1e-6 + 9.0) + 1e-6));

    /*
     * D-Adaptation Adan's first step by hand, without decay: the gradient
     * difference is 0, m = d0 (1 - 0.98) g, v = (1 - 0.99) g^2, so
     * p -= m / (sqrt(v) + eps).
     */
    freestep_dadapt_adan_config dn;
    OK(freestep_dadapt_adan_default_config(&dn));
    CHECK(dn.lr == 1.0 && dn.beta1 == 0.98 && dn.beta2 == 0.92 &&
          dn.beta3 == 0.99 && dn.eps == 1e-8 && dn.weight_decay == 0.02 &&
          dn.d0 == 1e-6 && isinf(dn.growth_rate) && !dn.no_prox);
    dn.weight_decay = 0.0;
    OK(freestep_dadapt_adan_init(OPT(m), sizeof m.b, &dn, FREESTEP_F64, 1, NULL,
                                 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_DADAPT_ADAN);
    CHECK(state_len(OPT(m)) == 5);
    double np_[1] = {1.0}, ng[1] = {4.0}, ns[5];
    OK(freestep_optimizer_step_f64(OPT(m), np_, ng, 1, ns, 5));
    double nm = 1e-6 * (1.0 - 0.98) * 4.0;
    double nv = (1.0 - 0.99) * 16.0;
    CHECK(np_[0] == 1.0 - nm / (sqrt(nv) + 1e-8));
}

/* ---- Rules from papers without official code --------------------------- */

static void test_paper_rules(void)
{
    opt_mem m;
    freestep_rule rule = 0;
    /*
     * The Polyak step reads the loss: g = (3, 4), |g|^2 = 25, loss 6 and
     * f* = 1 give gamma = (6 - 1) / 25 = 0.2, so p = 1 - 0.2 g. It has no
     * state. Without the loss the step is refused.
     */
    freestep_polyak_config pk;
    OK(freestep_polyak_default_config(&pk));
    CHECK(pk.lr == 1.0 && pk.f_star == 0.0 && isinf(pk.max_lr));
    pk.f_star = 1.0;
    OK(freestep_polyak_init(OPT(m), sizeof m.b, &pk, FREESTEP_F64, 2, NULL,
                            0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_POLYAK);
    CHECK(state_len(OPT(m)) == 0);
    double kp[2] = {1.0, 1.0}, kg[2] = {3.0, 4.0};
    CHECK(freestep_optimizer_step_f64(OPT(m), kp, kg, 2, NULL, 0) ==
          FREESTEP_MISSING_LOSS);
    OK(freestep_optimizer_step_loss_f64(OPT(m), kp, kg, 2, 6.0, NULL, 0));
    CHECK(kp[0] == 1.0 - 0.2 * 3.0 && kp[1] == 1.0 - 0.2 * 4.0);
    /* The same step again in phases: the loss goes to the finish. */
    partial_mem part;
    OK(freestep_optimizer_partial_f64(OPT(m), kp, kg, 2, NULL, 0, 0, 2,
                                      PART(part)));
    CHECK(freestep_optimizer_finish_loss(OPT(m), PART(part), NAN) ==
          FREESTEP_NON_FINITE_LOSS);
    OK(freestep_optimizer_finish_loss(OPT(m), PART(part), 6.0));
    OK(freestep_optimizer_update_f64(OPT(m), kp, kg, 2, NULL, 0, 0, 2));
    CHECK(kp[0] == (1.0 - 0.2 * 3.0) - 0.2 * 3.0 &&
          kp[1] == (1.0 - 0.2 * 4.0) - 0.2 * 4.0);
    /* In float, with a loss that is not finite first. */
    OK(freestep_polyak_init(OPT(m), sizeof m.b, &pk, FREESTEP_F32, 2, NULL,
                            0));
    float fp[2] = {1, 1}, fg[2] = {3, 4};
    CHECK(freestep_optimizer_step_loss_f32(OPT(m), fp, fg, 2, INFINITY, NULL,
                                           0) == FREESTEP_NON_FINITE_LOSS);
    CHECK(fp[0] == 1.0f && fp[1] == 1.0f);
    OK(freestep_optimizer_step_loss_f32(OPT(m), fp, fg, 2, 6.0, NULL, 0));
    CHECK(fp[0] == 1.0f - (float)(0.2 * 3.0) &&
          fp[1] == 1.0f - (float)(0.2 * 4.0));
    pk.max_lr = 0.0;
    CHECK(freestep_polyak_init(OPT(m), sizeof m.b, &pk, FREESTEP_F64, 2, NULL,
                               0) == FREESTEP_INVALID_HYPERPARAMETER);

    /*
     * Normalized GD: g = (3, 4), |g| = 5, so every coordinate moves by
     * lr g / 5 (formed in double, as the library does).
     */
    freestep_ngd_config ng;
    OK(freestep_ngd_default_config(&ng));
    CHECK(ng.lr == 1e-2);
    ng.lr = 0.5;
    OK(freestep_ngd_init(OPT(m), sizeof m.b, &ng, FREESTEP_F32, 2, NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_NGD);
    CHECK(state_len(OPT(m)) == 0);
    float np_[2] = {1, 1}, ngr[2] = {3, 4};
    OK(freestep_optimizer_step_f32(OPT(m), np_, ngr, 2, NULL, 0));
    CHECK(np_[0] == 1.0f - (float)(0.5 * (3.0 * (1.0 / 5.0))) &&
          np_[1] == 1.0f - (float)(0.5 * (4.0 * (1.0 / 5.0))));
    ng.lr = -1.0;
    CHECK(freestep_ngd_init(OPT(m), sizeof m.b, &ng, FREESTEP_F32, 2, NULL,
                            0) == FREESTEP_INVALID_HYPERPARAMETER);

    /*
     * Accelerated, L = 4, mu = 1, so beta = (2 - 1) / (2 + 1) = 1/3: from
     * x = y = 1 with g = 4, y = 1 - 4 / 4 = 0 and x = y + beta (y - 1).
     */
    freestep_accelerated_config ac;
    OK(freestep_accelerated_default_config(&ac));
    CHECK(ac.lr == 1.0 && ac.l == 1.0 && ac.mu == 0.01);
    ac.l = 4.0;
    ac.mu = 1.0;
    OK(freestep_accelerated_init(OPT(m), sizeof m.b, &ac, FREESTEP_F64, 1,
                                 NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_ACCELERATED);
    CHECK(state_len(OPT(m)) == 1);
    double ap[1] = {1.0}, ag[1] = {4.0}, ay[1];
    OK(freestep_optimizer_step_f64(OPT(m), ap, ag, 1, ay, 1));
    CHECK(ay[0] == 0.0 && ap[0] == -(1.0 / 3.0));
    ac.mu = 5.0;
    CHECK(freestep_accelerated_init(OPT(m), sizeof m.b, &ac, FREESTEP_F64, 1,
                                    NULL, 0) ==
          FREESTEP_INVALID_HYPERPARAMETER);

    /*
     * Primal averaging, lr 1, momentum 0.75 (c = 0.25): from x = z = 1
     * with g = 2, z = 1 - 2 = -1 and x = 0.75 + 0.25 z = 0.5.
     */
    freestep_primal_averaging_config pa;
    OK(freestep_primal_averaging_default_config(&pa));
    CHECK(pa.lr == 1.0 && pa.momentum == 0.9 && pa.lr_power == 0.0 &&
          !pa.uniform);
    pa.momentum = 0.75;
    OK(freestep_primal_averaging_init(OPT(m), sizeof m.b, &pa, FREESTEP_F64,
                                      1, NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_PRIMAL_AVERAGING);
    CHECK(state_len(OPT(m)) == 1);
    double pp[1] = {1.0}, pg[1] = {2.0}, pz[1];
    OK(freestep_optimizer_step_f64(OPT(m), pp, pg, 1, pz, 1));
    CHECK(pz[0] == -1.0 && pp[0] == 0.5);
    pa.momentum = 1.0;
    CHECK(freestep_primal_averaging_init(OPT(m), sizeof m.b, &pa,
                                         FREESTEP_F64, 1, NULL, 0) ==
          FREESTEP_INVALID_HYPERPARAMETER);

    /*
     * Stochastic heavy ball, constant lr 0.5: the weights are equal, so
     * from x = z = 1 with g = 1, z = 0.5 and x = (1 + z) / 2 = 0.75.
     */
    freestep_shb_config hb;
    OK(freestep_shb_default_config(&hb));
    CHECK(hb.lr == 0.1 && hb.lr_power == 0.0);
    hb.lr = 0.5;
    OK(freestep_shb_init(OPT(m), sizeof m.b, &hb, FREESTEP_F32, 1, NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_SHB);
    CHECK(state_len(OPT(m)) == 1);
    float hp[1] = {1}, hg[1] = {1}, hz[1];
    OK(freestep_optimizer_step_f32(OPT(m), hp, hg, 1, hz, 1));
    CHECK(hz[0] == 0.5f && hp[0] == 0.75f);
    hb.lr_power = 2.0;
    CHECK(freestep_shb_init(OPT(m), sizeof m.b, &hb, FREESTEP_F32, 1, NULL,
                            0) == FREESTEP_INVALID_HYPERPARAMETER);
}

/* ---- Schedule-Free ------------------------------------------------------ */

#define SF_N 300

static void test_schedule_free_f64(void)
{
    opt_mem m;
    freestep_sgd_schedulefree_config c;
    OK(freestep_sgd_schedulefree_default_config(&c));
    c.lr = 0.1;
    OK(freestep_sgd_schedulefree_init(OPT(m), sizeof m.b, &c, FREESTEP_F64,
                                      SF_N, NULL, 0));
    freestep_rule rule = 0;
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_SGD_SCHEDULEFREE);
    CHECK(state_len(OPT(m)) == SF_N);

    static double y[SF_N], g[SF_N], s[SF_N], x[SF_N], saved[SF_N];
    fill_f64(y, SF_N);
    memset(s, 0, sizeof s);
    bool train = false;
    OK(freestep_optimizer_is_train_mode(OPT(m), &train));
    CHECK(train);

    /* Before the first step x = y: eval and train change nothing. */
    memcpy(saved, y, sizeof y);
    OK(freestep_optimizer_eval_f64(OPT(m), y, SF_N, s, SF_N));
    CHECK(memcmp(saved, y, sizeof y) == 0);
    OK(freestep_optimizer_train_f64(OPT(m), y, SF_N, s, SF_N));
    CHECK(memcmp(saved, y, sizeof y) == 0);

    for (int k = 0; k < 5; k++) {
        fill_f64(g, SF_N);
        OK(freestep_optimizer_step_f64(OPT(m), y, g, SF_N, s, SF_N));
    }
    freestep_progress pr;
    OK(freestep_optimizer_progress(OPT(m), &pr));
    CHECK(pr.k == 5 && pr.lr == 0.1 && isnan(pr.d));

    /* eval_params gives the same bits as switching in place. */
    OK(freestep_optimizer_eval_params_f64(OPT(m), y, SF_N, s, SF_N, x, SF_N));
    memcpy(saved, y, sizeof y);
    OK(freestep_optimizer_eval_f64(OPT(m), y, SF_N, s, SF_N));
    CHECK(memcmp(x, y, sizeof y) == 0);
    CHECK(memcmp(x, saved, sizeof y) != 0);
    OK(freestep_optimizer_is_train_mode(OPT(m), &train));
    CHECK(!train);

    /* In eval mode steps are refused, eval is a no-op and eval_params
     * copies. */
    unwatch();
    watch(&m, sizeof m);
    watch(y, sizeof y);
    watch(s, sizeof s);
    REFUSE(FREESTEP_EVAL_MODE,
           freestep_optimizer_step_f64(OPT(m), y, g, SF_N, s, SF_N));
    unwatch();
    OK(freestep_optimizer_eval_f64(OPT(m), y, SF_N, s, SF_N));
    CHECK(memcmp(x, y, sizeof y) == 0);
    memset(x, 0, sizeof x);
    OK(freestep_optimizer_eval_params_f64(OPT(m), y, SF_N, s, SF_N, x, SF_N));
    CHECK(memcmp(x, y, sizeof y) == 0);

    /* Back to y, to within rounding. */
    OK(freestep_optimizer_train_f64(OPT(m), y, SF_N, s, SF_N));
    OK(freestep_optimizer_is_train_mode(OPT(m), &train));
    CHECK(train);
    double worst = 0.0;
    for (int i = 0; i < SF_N; i++) {
        double e = fabs(y[i] - saved[i]) / (fabs(saved[i]) + 1.0);
        worst = e > worst ? e : worst;
    }
    CHECK(worst < 1e-14);
    OK(freestep_optimizer_step_f64(OPT(m), y, g, SF_N, s, SF_N));

    /* Bad switch calls change nothing. */
    unwatch();
    watch(&m, sizeof m);
    watch(y, sizeof y);
    watch(x, sizeof x);
    REFUSE(FREESTEP_BAD_LENGTH,
           freestep_optimizer_eval_f64(OPT(m), y, SF_N - 1, s, SF_N));
    REFUSE(FREESTEP_BAD_STATE_LENGTH,
           freestep_optimizer_train_f64(OPT(m), y, SF_N, s, SF_N - 1));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_eval_f64(OPT(m), NULL, SF_N, s, SF_N));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_eval_f64(NULL, y, SF_N, s, SF_N));
    REFUSE(FREESTEP_OVERLAPPING_BUFFERS,
           freestep_optimizer_eval_f64(OPT(m), y, SF_N, y, SF_N));
    REFUSE(FREESTEP_BAD_LENGTH,
           freestep_optimizer_eval_params_f64(OPT(m), y, SF_N, s, SF_N, x,
                                              SF_N - 1));
    REFUSE(FREESTEP_OVERLAPPING_BUFFERS,
           freestep_optimizer_eval_params_f64(OPT(m), y, SF_N, s, SF_N, s,
                                              SF_N));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_eval_params_f64(OPT(m), y, SF_N, s, SF_N, NULL,
                                              SF_N));
    REFUSE(FREESTEP_WRONG_PRECISION,
           freestep_optimizer_eval_f32(OPT(m), (float *)(void *)y, SF_N,
                                       (const float *)(const void *)s, SF_N));
    REFUSE(FREESTEP_WRONG_PRECISION,
           freestep_optimizer_train_f32(OPT(m), (float *)(void *)y, SF_N,
                                        (const float *)(const void *)s, SF_N));
    REFUSE(FREESTEP_WRONG_PRECISION,
           freestep_optimizer_eval_params_f32(
               OPT(m), (const float *)(const void *)y, SF_N,
               (const float *)(const void *)s, SF_N, (float *)(void *)x,
               SF_N));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_is_train_mode(OPT(m), NULL));
    unwatch();
}

static void test_schedule_free_f32(void)
{
    opt_mem m;
    freestep_adamw_schedulefree_config c;
    OK(freestep_adamw_schedulefree_default_config(&c));
    c.warmup_steps = 10;
    OK(freestep_adamw_schedulefree_init(OPT(m), sizeof m.b, &c, FREESTEP_F32,
                                        SF_N, NULL, 0));
    freestep_rule rule = 0;
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_ADAMW_SCHEDULEFREE);
    CHECK(state_len(OPT(m)) == 2 * SF_N);

    static float y[SF_N], g[SF_N], s[2 * SF_N], x[SF_N], saved[SF_N];
    fill_f32(y, SF_N);
    memset(s, 0, sizeof s);
    for (int k = 0; k < 4; k++) {
        fill_f32(g, SF_N);
        OK(freestep_optimizer_step_f32(OPT(m), y, g, SF_N, s, 2 * SF_N));
    }
    /* Warmup: the fourth step used lr * 4 / 10. */
    freestep_progress pr;
    OK(freestep_optimizer_progress(OPT(m), &pr));
    CHECK(pr.k == 4 && fabs(pr.lr - 0.0025 * 0.4) < 1e-15);

    OK(freestep_optimizer_eval_params_f32(OPT(m), y, SF_N, s, 2 * SF_N, x,
                                          SF_N));
    memcpy(saved, y, sizeof y);
    OK(freestep_optimizer_eval_f32(OPT(m), y, SF_N, s, 2 * SF_N));
    CHECK(memcmp(x, y, sizeof y) == 0);
    OK(freestep_optimizer_train_f32(OPT(m), y, SF_N, s, 2 * SF_N));
    double worst = 0.0;
    for (int i = 0; i < SF_N; i++) {
        double e = fabs((double)y[i] - saved[i]) / (fabs(saved[i]) + 1.0);
        worst = e > worst ? e : worst;
    }
    CHECK(worst < 1e-6);
}

static void test_unsupported(void)
{
    opt_mem m;
    float p[8], s[8], out[8];
    bool train = true;
    fill_f32(p, 8);
    memset(s, 0, sizeof s);
    OK(sgd(&m, 0.1, 0.9, FREESTEP_F32, 8));
    unwatch();
    watch(&m, sizeof m);
    watch(p, sizeof p);
    watch(out, sizeof out);
    watch(&train, sizeof train);
    REFUSE(FREESTEP_UNSUPPORTED,
           freestep_optimizer_eval_f32(OPT(m), p, 8, s, 8));
    REFUSE(FREESTEP_UNSUPPORTED,
           freestep_optimizer_train_f32(OPT(m), p, 8, s, 8));
    REFUSE(FREESTEP_UNSUPPORTED,
           freestep_optimizer_eval_params_f32(OPT(m), p, 8, s, 8, out, 8));
    REFUSE(FREESTEP_UNSUPPORTED,
           freestep_optimizer_is_train_mode(OPT(m), &train));
    unwatch();
}

/* ---- Refused steps ------------------------------------------------------ */

/* One good step, then NaN, +Inf and -Inf gradients are refused. */
static void nonfinite_f32(opt_mem *m, size_t n)
{
    float p[16], g[16], s[64];
    size_t sl = state_len(OPT(*m));
    CHECK(n <= 16 && sl <= 64);
    fill_f32(p, n);
    fill_f32(g, n);
    memset(s, 0, sizeof s);
    OK(freestep_optimizer_step_f32(OPT(*m), p, g, n, s, sl));

    const float bad[3] = {NAN, INFINITY, -INFINITY};
    unwatch();
    watch(m, sizeof *m);
    watch(p, sizeof p);
    watch(s, sizeof s);
    for (int b = 0; b < 3; b++) {
        fill_f32(g, n);
        g[n / 2] = bad[b];
        REFUSE(FREESTEP_NON_FINITE_GRADIENT,
               freestep_optimizer_step_f32(OPT(*m), p, g, n, s, sl));
    }
    unwatch();
}

static void test_nonfinite_gradients(void)
{
    opt_mem m;
    OK(sgd(&m, 0.1, 0.9, FREESTEP_F32, 16));
    nonfinite_f32(&m, 16);
    OK(adamw(&m, FREESTEP_F32, 16));
    nonfinite_f32(&m, 16);
    freestep_sgd_schedulefree_config sfs;
    OK(freestep_sgd_schedulefree_default_config(&sfs));
    OK(freestep_sgd_schedulefree_init(OPT(m), sizeof m.b, &sfs, FREESTEP_F32,
                                      16, NULL, 0));
    nonfinite_f32(&m, 16);
    freestep_adamw_schedulefree_config sfa;
    OK(freestep_adamw_schedulefree_default_config(&sfa));
    OK(freestep_adamw_schedulefree_init(OPT(m), sizeof m.b, &sfa,
                                        FREESTEP_F32, 16, NULL, 0));
    nonfinite_f32(&m, 16);
    OK(prodigy(&m, FREESTEP_F32, 16, NULL, 0));
    nonfinite_f32(&m, 16);

    /* f64 too. */
    double p[4] = {1, 2, 3, 4}, g[4] = {1, NAN, 1, 1}, s[4];
    memset(s, 0, sizeof s);
    OK(sgd(&m, 0.1, 0.5, FREESTEP_F64, 4));
    unwatch();
    watch(&m, sizeof m);
    watch(p, sizeof p);
    watch(s, sizeof s);
    REFUSE(FREESTEP_NON_FINITE_GRADIENT,
           freestep_optimizer_step_f64(OPT(m), p, g, 4, s, 4));
    unwatch();
}

static void test_bad_buffers(void)
{
    opt_mem m;
    raw_mem raw;
    float p[8], g[8], s[8], big[16], big2[16];
    size_t len = 0;
    freestep_rule rule = 0;
    freestep_progress pr;
    bool train = false;

    memset(&raw, 0, sizeof raw);
    fill_f32(p, 8);
    fill_f32(g, 8);
    fill_f32(big, 16);
    fill_f32(big2, 16);
    memset(s, 0, sizeof s);
    OK(sgd(&m, 0.1, 0.9, FREESTEP_F32, 8));

    unwatch();
    watch(&m, sizeof m);
    watch(p, sizeof p);
    watch(s, sizeof s);
    watch(&raw, sizeof raw);
    watch(&len, sizeof len);
    watch(&pr, sizeof pr);

    /* NULL pointers. */
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_step_f32(NULL, p, g, 8, s, 8));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_step_f32(OPT(m), NULL, g, 8, s, 8));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_step_f32(OPT(m), p, NULL, 8, s, 8));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_step_f32(OPT(m), p, g, 8, NULL, 8));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_state_len(NULL, &len));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_state_len(OPT(m), NULL));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_rule(NULL, &rule));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_rule(OPT(m), NULL));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_progress(NULL, &pr));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_progress(OPT(m), NULL));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_is_train_mode(NULL, &train));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_reset(NULL));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_set_lr(NULL, 0.1));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_train_f32(NULL, p, 8, s, 8));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_eval_params_f32(NULL, p, 8, s, 8, big, 8));

    /* Lengths: NULL is fine with length 0, but 0 is not the length. */
    REFUSE(FREESTEP_BAD_LENGTH,
           freestep_optimizer_step_f32(OPT(m), NULL, NULL, 0, s, 8));
    REFUSE(FREESTEP_BAD_LENGTH,
           freestep_optimizer_step_f32(OPT(m), p, g, 7, s, 8));
    REFUSE(FREESTEP_BAD_LENGTH,
           freestep_optimizer_step_f32(OPT(m), big, big2, 9, s, 8));
    REFUSE(FREESTEP_BAD_STATE_LENGTH,
           freestep_optimizer_step_f32(OPT(m), p, g, 8, s, 7));
    REFUSE(FREESTEP_BAD_STATE_LENGTH,
           freestep_optimizer_step_f32(OPT(m), p, g, 8, NULL, 0));

    /* Misaligned pointers. */
    REFUSE(FREESTEP_MISALIGNED_POINTER,
           freestep_optimizer_step_f32(OPT(m), p, g, 8, MISALIGNED_F32(raw),
                                       8));
    REFUSE(FREESTEP_MISALIGNED_POINTER,
           freestep_optimizer_step_f32(OPT(m), MISALIGNED_F32(raw), g, 8, s,
                                       8));
    REFUSE(FREESTEP_MISALIGNED_POINTER,
           freestep_optimizer_step_f32(OPT(m), p, MISALIGNED_F32(raw), 8, s,
                                       8));
    REFUSE(FREESTEP_MISALIGNED_POINTER,
           freestep_optimizer_step_f32((freestep_optimizer *)(void *)(m.b + 4),
                                       p, g, 8, s, 8));
    REFUSE(FREESTEP_MISALIGNED_POINTER,
           freestep_optimizer_state_len(OPT(m),
                                        (size_t *)(void *)(raw.b + 1)));
    REFUSE(FREESTEP_MISALIGNED_POINTER,
           freestep_optimizer_progress(
               OPT(m), (freestep_progress *)(void *)(raw.b + 2)));

    /* Overlapping arrays, and arrays inside the optimizer block. */
    REFUSE(FREESTEP_OVERLAPPING_BUFFERS,
           freestep_optimizer_step_f32(OPT(m), p, p, 8, s, 8));
    REFUSE(FREESTEP_OVERLAPPING_BUFFERS,
           freestep_optimizer_step_f32(OPT(m), p, g, 8, p + 4, 8));
    REFUSE(FREESTEP_OVERLAPPING_BUFFERS,
           freestep_optimizer_step_f32(OPT(m), (float *)(void *)(m.b + 64), g,
                                       8, s, 8));

    /* Wrong precision. */
    REFUSE(FREESTEP_WRONG_PRECISION,
           freestep_optimizer_step_f64(
               OPT(m), (double *)(void *)raw.b,
               (const double *)(const void *)(raw.b + 64), 8,
               (double *)(void *)(raw.b + 128), 8));

    /* A learning rate out of range leaves the optimizer as it was. */
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_optimizer_set_lr(OPT(m), -1.0));
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_optimizer_set_lr(OPT(m), NAN));
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_optimizer_set_lr(OPT(m), INFINITY));
    unwatch();

    /* A byte copy of an optimizer is an optimizer. */
    opt_mem copy;
    memcpy(&copy, &m, sizeof m);
    OK(freestep_optimizer_step_f32(OPT(copy), p, g, 8, s, 8));
    OK(freestep_optimizer_progress(OPT(copy), &pr));
    CHECK(pr.k == 1);
}

/* Every function refuses memory that holds no optimizer or partial. */
static void test_not_an_object(void)
{
    opt_mem m;
    partial_mem pa, pb;
    float p[8], s[8], out[8];
    size_t len = 0;
    freestep_rule rule = 0;
    freestep_progress pr;
    bool train = false;
    fill_f32(p, 8);
    fill_f32(out, 8);
    memset(s, 0, sizeof s);

    for (int fill = 0; fill < 3; fill++) {
        memset(&m, fill == 0 ? 0x00 : fill == 1 ? 0xA5 : 0xFF, sizeof m);
        memset(&pa, fill == 0 ? 0x00 : 0xC3, sizeof pa);
        unwatch();
        watch(&m, sizeof m);
        watch(p, sizeof p);
        watch(s, sizeof s);
        watch(&pa, sizeof pa);
        watch(&len, sizeof len);
        watch(&pr, sizeof pr);
        watch(out, sizeof out);
        const freestep_status no = FREESTEP_NOT_AN_OPTIMIZER;
        REFUSE(no, freestep_optimizer_state_len(OPT(m), &len));
        REFUSE(no, freestep_optimizer_rule(OPT(m), &rule));
        REFUSE(no, freestep_optimizer_progress(OPT(m), &pr));
        REFUSE(no, freestep_optimizer_is_train_mode(OPT(m), &train));
        REFUSE(no, freestep_optimizer_reset(OPT(m)));
        REFUSE(no, freestep_optimizer_set_lr(OPT(m), 0.1));
        REFUSE(no, freestep_optimizer_step_f32(OPT(m), p, out, 8, s, 8));
        REFUSE(no, freestep_optimizer_step_f64(OPT(m), NULL, NULL, 0, NULL, 0));
        REFUSE(no, freestep_optimizer_partial_f32(OPT(m), p, p, 8, s, 8, 0, 8,
                                                  PART(pa)));
        REFUSE(no, freestep_optimizer_partial_f64(OPT(m), NULL, NULL, 0, NULL,
                                                  0, 0, 0, PART(pa)));
        REFUSE(no, freestep_optimizer_update_f32(OPT(m), p, out, 8, s, 8, 0,
                                                 8));
        REFUSE(no, freestep_optimizer_update_f64(OPT(m), NULL, NULL, 0, NULL,
                                                 0, 0, 0));
        REFUSE(no, freestep_optimizer_eval_f32(OPT(m), p, 8, s, 8));
        REFUSE(no, freestep_optimizer_eval_f64(OPT(m), NULL, 0, NULL, 0));
        REFUSE(no, freestep_optimizer_train_f32(OPT(m), p, 8, s, 8));
        REFUSE(no, freestep_optimizer_train_f64(OPT(m), NULL, 0, NULL, 0));
        REFUSE(no, freestep_optimizer_eval_params_f32(OPT(m), p, 8, s, 8, out,
                                                      8));
        REFUSE(no, freestep_optimizer_eval_params_f64(OPT(m), NULL, 0, NULL,
                                                      0, NULL, 0));

        /* A valid partial, so that only the optimizer is at fault. */
        opt_mem good;
        OK(sgd(&good, 0.1, 0.0, FREESTEP_F32, 8));
        OK(freestep_optimizer_partial_f32(OPT(good), p, p, 8, NULL, 0, 0, 8,
                                          PART(pb)));
        REFUSE(no, freestep_optimizer_finish(OPT(m), PART(pb)));

        /* Garbage partials. */
        REFUSE(FREESTEP_NOT_A_PARTIAL,
               freestep_partial_combine(PART(pa), PART(pb), PART(pa)));
        REFUSE(FREESTEP_NOT_A_PARTIAL,
               freestep_partial_combine(PART(pb), PART(pa), PART(pa)));
        REFUSE(FREESTEP_NOT_A_PARTIAL,
               freestep_optimizer_finish(OPT(good), PART(pa)));
        unwatch();
    }
}

/* ---- Phased steps ------------------------------------------------------- */

#define PH_N 600
#define PH_S (4 * PH_N)

/* Prodigy in f64 over two groups: a one-call step and a phased step over
 * three ranges, partials combined in another order and updates applied in
 * another order, give the same bits. */
static void test_phased_f64(void)
{
    static double pa[PH_N], pb[PH_N], g[PH_N], sa[PH_S], sb[PH_S];
    opt_mem a, b;
    partial_mem part[3], total;
    const freestep_group groups[2] = {{300, 1.0, 1.0}, {300, 0.5, 0.0}};
    const size_t cut[4] = {0, 256, 512, PH_N};

    OK(prodigy(&a, FREESTEP_F64, PH_N, groups, 2));
    CHECK(state_len(OPT(a)) == PH_S);
    memcpy(&b, &a, sizeof a);
    fill_f64(pa, PH_N);
    memcpy(pb, pa, sizeof pa);
    memset(sa, 0, sizeof sa);
    memset(sb, 0, sizeof sb);

    for (int k = 0; k < 4; k++) {
        /* The gradient of |p|^2 / 2 plus noise, so that d grows. */
        for (size_t i = 0; i < PH_N; i++)
            g[i] = pa[i] + 0.1 * rnd();
        OK(freestep_optimizer_step_f64(OPT(a), pa, g, PH_N, sa, PH_S));
        for (int r = 2; r >= 0; r--)
            OK(freestep_optimizer_partial_f64(OPT(b), pb, g, PH_N, sb, PH_S,
                                              cut[r], cut[r + 1],
                                              PART(part[r])));
        OK(freestep_partial_combine(PART(part[2]), PART(part[0]),
                                    PART(total)));
        OK(freestep_partial_combine(PART(total), PART(part[1]), PART(total)));
        OK(freestep_optimizer_finish(OPT(b), PART(total)));
        const int order[3] = {1, 2, 0};
        for (int i = 0; i < 3; i++) {
            int r = order[i];
            OK(freestep_optimizer_update_f64(OPT(b), pb, g, PH_N, sb, PH_S,
                                             cut[r], cut[r + 1]));
        }
        CHECK(memcmp(pa, pb, sizeof pa) == 0);
        CHECK(memcmp(sa, sb, sizeof sa) == 0);
    }
    freestep_progress qa, qb;
    OK(freestep_optimizer_progress(OPT(a), &qa));
    OK(freestep_optimizer_progress(OPT(b), &qb));
    CHECK(qa.k == 4 && qa.k == qb.k && qa.d == qb.d && qa.lr == qb.lr);
    /* lr is the last step's d * lr with d from before that step, and d only
       grows here (growth_rate is infinite). */
    CHECK(qa.d > 1e-6 && qa.lr > 0.0 && qa.lr <= qa.d * 1.0);

    /* Bad phased calls change nothing. */
    unwatch();
    watch(&b, sizeof b);
    watch(pb, sizeof pb);
    watch(sb, sizeof sb);
    watch(&total, sizeof total);
    REFUSE(FREESTEP_BAD_RANGE,
           freestep_optimizer_partial_f64(OPT(b), pb, g, PH_N, sb, PH_S, 100,
                                          PH_N, PART(total)));
    REFUSE(FREESTEP_BAD_RANGE,
           freestep_optimizer_partial_f64(OPT(b), pb, g, PH_N, sb, PH_S, 256,
                                          PH_N + 1, PART(total)));
    REFUSE(FREESTEP_BAD_RANGE,
           freestep_optimizer_partial_f64(OPT(b), pb, g, PH_N, sb, PH_S, 512,
                                          256, PART(total)));
    REFUSE(FREESTEP_BAD_RANGE,
           freestep_optimizer_update_f64(OPT(b), pb, g, PH_N, sb, PH_S, 100,
                                         PH_N));
    REFUSE(FREESTEP_BAD_RANGE,
           freestep_optimizer_update_f64(OPT(b), pb, g, PH_N, sb, PH_S, 0,
                                         PH_N + 256));
    REFUSE(FREESTEP_BAD_LENGTH,
           freestep_optimizer_partial_f64(OPT(b), pb, g, PH_N - 1, sb, PH_S, 0,
                                          256, PART(total)));
    REFUSE(FREESTEP_BAD_STATE_LENGTH,
           freestep_optimizer_update_f64(OPT(b), pb, g, PH_N, sb, PH_S - 1, 0,
                                         256));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_partial_f64(OPT(b), pb, g, PH_N, sb, PH_S, 0,
                                          256, NULL));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_partial_f64(NULL, pb, g, PH_N, sb, PH_S, 0, 256,
                                          PART(total)));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_update_f64(NULL, pb, g, PH_N, sb, PH_S, 0, 256));
    REFUSE(FREESTEP_MISALIGNED_POINTER,
           freestep_optimizer_partial_f64(
               OPT(b), pb, g, PH_N, sb, PH_S, 0, 256,
               (freestep_partial *)(void *)(total.b + 1)));
    REFUSE(FREESTEP_OVERLAPPING_BUFFERS,
           freestep_optimizer_update_f64(OPT(b), sb, g, PH_N, sb, PH_S, 0,
                                         256));
    REFUSE(FREESTEP_WRONG_PRECISION,
           freestep_optimizer_partial_f32(OPT(b), (const float *)(void *)pb,
                                          (const float *)(void *)g, PH_N,
                                          (const float *)(void *)sb, PH_S, 0,
                                          256, PART(total)));
    REFUSE(FREESTEP_WRONG_PRECISION,
           freestep_optimizer_update_f32(OPT(b), (float *)(void *)pb,
                                         (const float *)(void *)g, PH_N,
                                         (float *)(void *)sb, PH_S, 0, 256));

    /* finish refuses a partial that misses a range, or saw a NaN. */
    OK(freestep_optimizer_partial_f64(OPT(b), pb, g, PH_N, sb, PH_S, 0, 512,
                                      PART(part[0])));
    REFUSE(FREESTEP_INCOMPLETE_PARTIAL,
           freestep_optimizer_finish(OPT(b), PART(part[0])));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_finish(OPT(b), NULL));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_finish(NULL, PART(part[0])));
    g[520] = NAN;
    OK(freestep_optimizer_partial_f64(OPT(b), pb, g, PH_N, sb, PH_S, 512,
                                      PH_N, PART(part[1])));
    OK(freestep_partial_combine(PART(part[0]), PART(part[1]), PART(part[2])));
    REFUSE(FREESTEP_NON_FINITE_GRADIENT,
           freestep_optimizer_finish(OPT(b), PART(part[2])));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_partial_combine(NULL, PART(part[1]), PART(part[2])));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_partial_combine(PART(part[0]), NULL, PART(part[2])));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_partial_combine(PART(part[0]), PART(part[1]), NULL));

    /* Partials of another precision. */
    opt_mem f;
    static float pf[PH_N], gf[PH_N];
    OK(sgd(&f, 0.1, 0.0, FREESTEP_F32, PH_N));
    OK(freestep_optimizer_partial_f32(OPT(f), pf, gf, PH_N, NULL, 0, 0, PH_N,
                                      PART(part[1])));
    REFUSE(FREESTEP_WRONG_PRECISION,
           freestep_partial_combine(PART(part[0]), PART(part[1]),
                                    PART(total)));
    REFUSE(FREESTEP_WRONG_PRECISION,
           freestep_optimizer_finish(OPT(b), PART(part[1])));
    unwatch();

    /* update before any finish. */
    opt_mem fresh;
    OK(prodigy(&fresh, FREESTEP_F64, PH_N, groups, 2));
    unwatch();
    watch(&fresh, sizeof fresh);
    watch(pb, sizeof pb);
    watch(sb, sizeof sb);
    REFUSE(FREESTEP_NO_PENDING_STEP,
           freestep_optimizer_update_f64(OPT(fresh), pb, g, PH_N, sb, PH_S, 0,
                                         PH_N));
    unwatch();
}

/* AdamW in f32: a phased step over two ranges equals the one-call step. */
static void test_phased_f32(void)
{
    enum { N = 700 };
    static float pa[N], pb[N], g[N], sa[2 * N], sb[2 * N];
    opt_mem a, b;
    partial_mem lo, hi, total;

    OK(adamw(&a, FREESTEP_F32, N));
    OK(adamw(&b, FREESTEP_F32, N));
    fill_f32(pa, N);
    memcpy(pb, pa, sizeof pa);
    memset(sa, 0, sizeof sa);
    memset(sb, 0, sizeof sb);
    for (int k = 0; k < 3; k++) {
        fill_f32(g, N);
        OK(freestep_optimizer_step_f32(OPT(a), pa, g, N, sa, 2 * N));
        OK(freestep_optimizer_partial_f32(OPT(b), pb, g, N, sb, 2 * N, 512, N,
                                          PART(hi)));
        OK(freestep_optimizer_partial_f32(OPT(b), pb, g, N, sb, 2 * N, 0, 512,
                                          PART(lo)));
        OK(freestep_partial_combine(PART(hi), PART(lo), PART(total)));
        OK(freestep_optimizer_finish(OPT(b), PART(total)));
        OK(freestep_optimizer_update_f32(OPT(b), pb, g, N, sb, 2 * N, 512, N));
        OK(freestep_optimizer_update_f32(OPT(b), pb, g, N, sb, 2 * N, 0, 512));
        CHECK(memcmp(pa, pb, sizeof pa) == 0);
        CHECK(memcmp(sa, sb, sizeof sa) == 0);
    }
}

/* ---- Threads ------------------------------------------------------------ */

#define TH_N 1000

typedef struct {
    freestep_optimizer *opt;
    float *params;
    const float *grads;
    float *state;
    size_t state_len, start, end;
    freestep_partial *partial; /* NULL: update phase */
    freestep_status status;
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    if (j->partial != NULL)
        j->status = freestep_optimizer_partial_f32(
            j->opt, j->params, j->grads, TH_N, j->state, j->state_len,
            j->start, j->end, j->partial);
    else
        j->status = freestep_optimizer_update_f32(
            j->opt, j->params, j->grads, TH_N, j->state, j->state_len,
            j->start, j->end);
    return NULL;
}

/* Runs `jobs` on two threads at once and checks both succeeded. */
static void run_two(job jobs[2])
{
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, run_job, &jobs[i]) == 0);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_join(t[i], NULL) == 0);
    OK(jobs[0].status);
    OK(jobs[1].status);
}

/* Prodigy in f32: two threads computing partials and updating disjoint
 * ranges of the same arrays give the one-call bits. */
static void test_threads(void)
{
    static float pa[TH_N], pb[TH_N], g[TH_N], sa[4 * TH_N], sb[4 * TH_N];
    opt_mem a, b;
    partial_mem part[2], total;

    OK(prodigy(&a, FREESTEP_F32, TH_N, NULL, 0));
    memcpy(&b, &a, sizeof a);
    const size_t sl = state_len(OPT(a));
    CHECK(sl == 4 * TH_N);
    fill_f32(pa, TH_N);
    memcpy(pb, pa, sizeof pa);
    memset(sa, 0, sizeof sa);
    memset(sb, 0, sizeof sb);

    for (int k = 0; k < 5; k++) {
        fill_f32(g, TH_N);
        OK(freestep_optimizer_step_f32(OPT(a), pa, g, TH_N, sa, sl));

        job jobs[2] = {
            {OPT(b), pb, g, sb, sl, 0, 512, PART(part[0]), FREESTEP_OK},
            {OPT(b), pb, g, sb, sl, 512, TH_N, PART(part[1]), FREESTEP_OK},
        };
        run_two(jobs);
        OK(freestep_partial_combine(PART(part[0]), PART(part[1]),
                                    PART(total)));
        OK(freestep_optimizer_finish(OPT(b), PART(total)));
        jobs[0].partial = NULL;
        jobs[1].partial = NULL;
        run_two(jobs);

        CHECK(memcmp(pa, pb, sizeof pa) == 0);
        CHECK(memcmp(sa, sb, sizeof sa) == 0);
    }
}

/* ---- Main --------------------------------------------------------------- */

/*
 * Schedules, values derived by hand: linear decay over 4 steps gives
 * 4/4, 3/4, 2/4, 1/4, then 0; warmup 2 of 5 gives 1/2, 2/2, 3/3, 2/3, 1/3.
 * Bad input writes nothing.
 */
static void test_schedules(void)
{
    freestep_schedule s = {FREESTEP_SCHEDULE_LINEAR_DECAY, 0, 4, 0,
                           0.0, 0.0, 0.0};
    double want[5] = {1.0, 0.75, 0.5, 0.25, 0.0};
    for (uint64_t t = 0; t < 5; t++) {
        double m = -1.0;
        CHECK(freestep_schedule_multiplier(&s, t, &m) == FREESTEP_OK);
        CHECK(m == want[t]);
    }
    s.warmup = 2;
    s.total = 5;
    double with_warmup[5] = {0.5, 1.0, 1.0, 2.0 / 3.0, 1.0 / 3.0};
    for (uint64_t t = 0; t < 5; t++) {
        double m = -1.0;
        CHECK(freestep_schedule_multiplier(&s, t, &m) == FREESTEP_OK);
        CHECK(m == with_warmup[t]);
    }
    /* All warmup, and a one-step run: no division by zero. */
    freestep_schedule all = {FREESTEP_SCHEDULE_COSINE, 3, 3, 0,
                             0.0, 0.0, 0.0};
    double m = -1.0;
    CHECK(freestep_schedule_multiplier(&all, 2, &m) == FREESTEP_OK && m == 1.0);
    freestep_schedule one = {FREESTEP_SCHEDULE_POLYNOMIAL, 0, 1, 0,
                             0.0, 2.0, 0.0};
    CHECK(freestep_schedule_multiplier(&one, 0, &m) == FREESTEP_OK && m == 1.0);
    freestep_schedule wsd = {FREESTEP_SCHEDULE_WARMUP_STABLE_DECAY, 2, 8, 3,
                             0.0, 0.0, 0.0};
    CHECK(freestep_schedule_multiplier(&wsd, 4, &m) == FREESTEP_OK && m == 1.0);
    CHECK(freestep_schedule_multiplier(&wsd, 6, &m) == FREESTEP_OK &&
          m == 2.0 / 3.0);

    /* Refusals leave the output alone. */
    double untouched = 42.0;
    freestep_schedule bad = s;
    bad.kind = 99;
    CHECK(freestep_schedule_multiplier(&bad, 0, &untouched) ==
          FREESTEP_INVALID_HYPERPARAMETER);
    bad = s;
    bad.warmup = 6;
    CHECK(freestep_schedule_multiplier(&bad, 0, &untouched) ==
          FREESTEP_INVALID_HYPERPARAMETER);
    bad = all;
    bad.final_value = NAN;
    CHECK(freestep_schedule_multiplier(&bad, 0, &untouched) ==
          FREESTEP_INVALID_HYPERPARAMETER);
    CHECK(untouched == 42.0);
    CHECK(freestep_schedule_multiplier(NULL, 0, &untouched) ==
          FREESTEP_NULL_POINTER);
    CHECK(freestep_schedule_multiplier(&s, 0, NULL) == FREESTEP_NULL_POINTER);
    CHECK(freestep_schedule_multiplier(
              &s, 0, (double *)((char *)&untouched + 1)) ==
          FREESTEP_MISALIGNED_POINTER);
    CHECK(untouched == 42.0);
}

/* ---- Rules that read the loss ----------------------------------------- */

/*
 * MoMo, beta 0.5, lr 10, from x = (2, -1) with g = (1, 3) and loss 5. The
 * averages start at the first values: d = g, mean loss 5, <g, x> = -1,
 * <d, x> = -1, |d|^2 = 10, so the step size is
 * max(5 + (-1) - (-1), 0) / 10 = 0.5 (below the cap 10) and
 * x = x - 0.5 g = (1.5, -2.5).
 */
static void test_momo(void)
{
    opt_mem m;
    partial_mem pa;
    freestep_rule rule = 0;
    freestep_momo_config c;
    OK(freestep_momo_default_config(&c));
    CHECK(c.lr == 1.0 && c.weight_decay == 0.0 && c.beta == 0.9 &&
          c.lb == 0.0 && !c.bias_correction && !c.use_fstar);
    c.beta = 0.5;
    c.lr = 10.0;
    OK(freestep_momo_init(OPT(m), sizeof m.b, &c, FREESTEP_F64, 2, NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_MOMO);
    CHECK(state_len(OPT(m)) == 2);
    double p[2] = {2.0, -1.0}, g[2] = {1.0, 3.0}, s[2] = {7.0, 7.0};
    REFUSE(FREESTEP_MISSING_LOSS,
           freestep_optimizer_step_f64(OPT(m), p, g, 2, s, 2));
    REFUSE(FREESTEP_NON_FINITE_LOSS,
           freestep_optimizer_step_loss_f64(OPT(m), p, g, 2, NAN, s, 2));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_step_loss_f64(OPT(m), NULL, g, 2, 5.0, s, 2));
    CHECK(p[0] == 2.0 && p[1] == -1.0 && s[0] == 7.0 && s[1] == 7.0);
    OK(freestep_optimizer_step_loss_f64(OPT(m), p, g, 2, 5.0, s, 2));
    CHECK(p[0] == 1.5 && p[1] == -2.5 && s[0] == 1.0 && s[1] == 3.0);
    freestep_progress pr;
    OK(freestep_optimizer_progress(OPT(m), &pr));
    CHECK(pr.k == 1 && pr.lr == 0.5 && isnan(pr.d));

    /* The same first step in phases. */
    OK(freestep_momo_init(OPT(m), sizeof m.b, &c, FREESTEP_F64, 2, NULL, 0));
    double q[2] = {2.0, -1.0}, t[2] = {0, 0};
    OK(freestep_optimizer_partial_f64(OPT(m), q, g, 2, t, 2, 0, 2, PART(pa)));
    REFUSE(FREESTEP_MISSING_LOSS, freestep_optimizer_finish(OPT(m), PART(pa)));
    REFUSE(FREESTEP_NON_FINITE_LOSS,
           freestep_optimizer_finish_loss(OPT(m), PART(pa), INFINITY));
    REFUSE(FREESTEP_NULL_POINTER,
           freestep_optimizer_finish_loss(NULL, PART(pa), 5.0));
    OK(freestep_optimizer_finish_loss(OPT(m), PART(pa), 5.0));
    OK(freestep_optimizer_update_f64(OPT(m), q, g, 2, t, 2, 0, 2));
    CHECK(q[0] == 1.5 && q[1] == -2.5);

    /*
     * MoMo-Adam at its defaults, x = 1, g = 2, loss 3: d = 0.2, v = 0.004,
     * D = sqrt(0.004 / 0.001) + 1e-8 = 2 + 1e-8, mean loss 0.3,
     * <g, x> average 0.2, <d, x> = 0.2, so the model's step
     * 0.3 / (0.04 / D) = 15 exceeds the cap lr / (1 - 0.9) = 0.1:
     * x = 1 - 0.1 * 0.2 / D.
     */
    freestep_momo_adam_config a;
    OK(freestep_momo_adam_default_config(&a));
    CHECK(a.lr == 1e-2 && a.beta1 == 0.9 && a.beta2 == 0.999 &&
          a.eps == 1e-8 && a.weight_decay == 0.0 && a.lb == 0.0 &&
          a.divide && !a.use_fstar);
    OK(freestep_momo_adam_init(OPT(m), sizeof m.b, &a, FREESTEP_F32, 1, NULL,
                               0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_MOMO_ADAM);
    CHECK(state_len(OPT(m)) == 2);
    float x[1] = {1.0f}, gx[1] = {2.0f}, st[2] = {0, 0};
    REFUSE(FREESTEP_MISSING_LOSS,
           freestep_optimizer_step_f32(OPT(m), x, gx, 1, st, 2));
    REFUSE(FREESTEP_NON_FINITE_LOSS,
           freestep_optimizer_step_loss_f32(OPT(m), x, gx, 1, -INFINITY, st, 2));
    REFUSE(FREESTEP_WRONG_PRECISION,
           freestep_optimizer_step_loss_f64(OPT(m), p, g, 1, 3.0, s, 2));
    OK(freestep_optimizer_step_loss_f32(OPT(m), x, gx, 1, 3.0, st, 2));
    CHECK(fabs(x[0] - (1.0 - 0.1 * 0.2 / (2.0 + 1e-8))) < 1e-7);
    a.beta1 = 1.0;
    CHECK(freestep_momo_adam_init(OPT(m), sizeof m.b, &a, FREESTEP_F32, 1,
                                  NULL, 0) == FREESTEP_INVALID_HYPERPARAMETER);
    c.lb = NAN;
    CHECK(freestep_momo_init(OPT(m), sizeof m.b, &c, FREESTEP_F64, 2, NULL,
                             0) == FREESTEP_INVALID_HYPERPARAMETER);
    REFUSE(FREESTEP_NULL_POINTER, freestep_momo_default_config(NULL));
    REFUSE(FREESTEP_NULL_POINTER, freestep_momo_adam_default_config(NULL));
}

/* ---- Mechanic ----------------------------------------------------------- */

/*
 * Mechanic over SGD (lr 0.5). Before the first step the scale S is 0 and the
 * parameters are the reference, so the tuner sees h = 0: each beta's scale
 * becomes (beta * 1e-6) * s_init / 6 / eps, and x = x0 - 0.5 g S' with S'
 * their sum.
 */
static void test_mechanic(void)
{
    opt_mem m, sf;
    partial_mem pa;
    freestep_mechanic_config mc;
    OK(freestep_mechanic_default_config(&mc));
    CHECK(mc.s_decay == 0.01 && mc.n_betas == 6 && mc.betas[0] == 0.9 &&
          mc.betas[5] == 0.999999 && mc.s_init == 1e-8 && mc.eps == 1e-8 &&
          !mc.store_delta);
    freestep_sgd_config c;
    OK(freestep_sgd_default_config(&c));
    c.lr = 0.5;
    OK(freestep_sgd_init(OPT(m), sizeof m.b, &c, FREESTEP_F64, 2, NULL, 0));
    double scale = -1.0;
    REFUSE(FREESTEP_UNSUPPORTED, freestep_optimizer_mechanic_scale(OPT(m), &scale));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_mechanize(OPT(m), NULL));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_mechanize(NULL, &mc));
    freestep_mechanic_config bad = mc;
    bad.n_betas = 0;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_optimizer_mechanize(OPT(m), &bad));
    bad = mc;
    bad.betas[2] = 1.5;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_optimizer_mechanize(OPT(m), &bad));
    CHECK(state_len(OPT(m)) == 0);
    OK(freestep_optimizer_mechanize(OPT(m), &mc));
    CHECK(state_len(OPT(m)) == 4);
    OK(freestep_optimizer_mechanic_scale(OPT(m), &scale));
    CHECK(scale == 0.0);
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_mechanic_scale(OPT(m), NULL));

    double want_scale = 0.0;
    for (size_t j = 0; j < 6; j++) {
        want_scale += (mc.betas[j] * 1e-6) * mc.s_init / 6.0 / (0.0 + mc.eps);
    }
    double p[2] = {1.0, -2.0}, g[2] = {0.25, 4.0}, s[4] = {0, 0, 0, 0};
    REFUSE(FREESTEP_BAD_STATE_LENGTH,
           freestep_optimizer_step_f64(OPT(m), p, g, 2, s, 3));
    g[1] = NAN;
    REFUSE(FREESTEP_NON_FINITE_GRADIENT,
           freestep_optimizer_step_f64(OPT(m), p, g, 2, s, 4));
    g[1] = 4.0;
    CHECK(p[0] == 1.0 && p[1] == -2.0);
    OK(freestep_optimizer_step_f64(OPT(m), p, g, 2, s, 4));
    OK(freestep_optimizer_mechanic_scale(OPT(m), &scale));
    CHECK(fabs(scale - want_scale) <= 1e-15 * want_scale);
    CHECK(fabs(p[0] - (1.0 - 0.5 * 0.25 * want_scale)) < 1e-15);
    CHECK(fabs(p[1] - (-2.0 - 0.5 * 4.0 * want_scale)) < 1e-15);
    /* One call only: the split step is not available. */
    REFUSE(FREESTEP_UNSUPPORTED,
           freestep_optimizer_partial_f64(OPT(m), p, g, 2, s, 4, 0, 2, PART(pa)));
    /* Only before the first step. */
    REFUSE(FREESTEP_UNSUPPORTED, freestep_optimizer_mechanize(OPT(m), &mc));
    OK(freestep_optimizer_reset(OPT(m)));
    OK(freestep_optimizer_mechanic_scale(OPT(m), &scale));
    CHECK(scale == 0.0);

    /* With store_delta the state has a third value per parameter. */
    mc.store_delta = true;
    OK(freestep_sgd_init(OPT(m), sizeof m.b, &c, FREESTEP_F32, 3, NULL, 0));
    OK(freestep_optimizer_mechanize(OPT(m), &mc));
    CHECK(state_len(OPT(m)) == 9);

    /* Schedule-Free rules cannot be tuned. */
    freestep_sgd_schedulefree_config sc;
    OK(freestep_sgd_schedulefree_default_config(&sc));
    OK(freestep_sgd_schedulefree_init(OPT(sf), sizeof sf.b, &sc, FREESTEP_F32,
                                      3, NULL, 0));
    REFUSE(FREESTEP_UNSUPPORTED, freestep_optimizer_mechanize(OPT(sf), &mc));
    REFUSE(FREESTEP_NULL_POINTER, freestep_mechanic_default_config(NULL));
}

/* ---- Schedule-Free RAdam ------------------------------------------------ */

/*
 * Without the silent phase the first step is plain: rho_1 = 1 <= 4, so the
 * lr is not rectified and g not normalised, the averaging weight is 1, and
 * y = z = y0 - lr g. With it, the first four steps (rho_4 = 3.997) move
 * nothing and the fifth does.
 */
static void test_radam_schedulefree(void)
{
    opt_mem m;
    freestep_rule rule = 0;
    freestep_radam_schedulefree_config c;
    OK(freestep_radam_schedulefree_default_config(&c));
    CHECK(c.lr == 0.0025 && c.beta1 == 0.9 && c.beta2 == 0.999 &&
          c.eps == 1e-8 && c.weight_decay == 0.0 && c.r == 0.0 &&
          c.weight_lr_power == 2.0 && c.silent_sgd_phase);
    OK(freestep_radam_schedulefree_init(OPT(m), sizeof m.b, &c, FREESTEP_F64,
                                        1, NULL, 0));
    OK(freestep_optimizer_rule(OPT(m), &rule));
    CHECK(rule == FREESTEP_RULE_RADAM_SCHEDULEFREE);
    CHECK(state_len(OPT(m)) == 2);
    double y[1] = {1.0}, g[1] = {2.0}, s[2] = {0, 0};
    for (int k = 0; k < 4; k++) {
        OK(freestep_optimizer_step_f64(OPT(m), y, g, 1, s, 2));
    }
    CHECK(y[0] == 1.0);
    OK(freestep_optimizer_step_f64(OPT(m), y, g, 1, s, 2));
    CHECK(y[0] < 1.0);
    OK(freestep_optimizer_eval_f64(OPT(m), y, 1, s, 2));
    REFUSE(FREESTEP_EVAL_MODE, freestep_optimizer_step_f64(OPT(m), y, g, 1, s, 2));
    OK(freestep_optimizer_train_f64(OPT(m), y, 1, s, 2));

    c.silent_sgd_phase = false;
    OK(freestep_radam_schedulefree_init(OPT(m), sizeof m.b, &c, FREESTEP_F32,
                                        1, NULL, 0));
    float yf[1] = {1.0f}, gf[1] = {2.0f}, sf[2] = {0, 0};
    OK(freestep_optimizer_step_f32(OPT(m), yf, gf, 1, sf, 2));
    CHECK(yf[0] == 1.0f - 0.0025f * 2.0f && sf[0] == yf[0]);
    c.beta1 = 0.0;
    CHECK(freestep_radam_schedulefree_init(OPT(m), sizeof m.b, &c, FREESTEP_F32,
                                           1, NULL,
                                           0) == FREESTEP_INVALID_HYPERPARAMETER);
    REFUSE(FREESTEP_NULL_POINTER, freestep_radam_schedulefree_default_config(NULL));
}

/* ---- Schedule-Free wrapper ---------------------------------------------- */

/*
 * The wrapper over SGD at lr 0.5 (momentum 0.9). Step 1: z = x = y0, the
 * rule steps z to z1 = y0 - 0.5 g1, the averaging weight is the whole sum
 * (c = 1), so x1 = y1 = z1. Step 2: z2 = z1 - 0.5 g2, c = 1/2,
 * x2 = (z1 + z2) / 2 and y2 = x2 + 0.1 (z2 - x2).
 */
static void test_schedulefree_wrapper(void)
{
    opt_mem m, sf;
    partial_mem pa;
    freestep_schedulefree_wrapper_config w;
    OK(freestep_schedulefree_wrapper_default_config(&w));
    CHECK(w.momentum == 0.9 && w.weight_decay_at_y == 0.0 && w.r == 0.0 &&
          w.weight_lr_power == 2.0);
    freestep_sgd_config c;
    OK(freestep_sgd_default_config(&c));
    c.lr = 0.5;
    OK(freestep_sgd_init(OPT(m), sizeof m.b, &c, FREESTEP_F64, 1, NULL, 0));
    bool train = false;
    REFUSE(FREESTEP_UNSUPPORTED, freestep_optimizer_is_train_mode(OPT(m), &train));
    freestep_schedulefree_wrapper_config bad = w;
    bad.momentum = 1.0;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_optimizer_schedulefree_wrap(OPT(m), &bad));
    REFUSE(FREESTEP_NULL_POINTER, freestep_optimizer_schedulefree_wrap(OPT(m), NULL));
    OK(freestep_optimizer_schedulefree_wrap(OPT(m), &w));
    CHECK(state_len(OPT(m)) == 1);
    OK(freestep_optimizer_is_train_mode(OPT(m), &train));
    CHECK(train);
    freestep_mechanic_config mc;
    OK(freestep_mechanic_default_config(&mc));
    REFUSE(FREESTEP_UNSUPPORTED, freestep_optimizer_mechanize(OPT(m), &mc));

    double y[1] = {2.0}, g1[1] = {1.0}, g2[1] = {-3.0}, z[1] = {0.0};
    OK(freestep_optimizer_step_f64(OPT(m), y, g1, 1, z, 1));
    double z1 = 2.0 - 0.5 * 1.0;
    CHECK(y[0] == z1 && z[0] == z1);
    OK(freestep_optimizer_step_f64(OPT(m), y, g2, 1, z, 1));
    double z2 = z1 - 0.5 * -3.0, x2 = (z1 + z2) / 2.0;
    double y2 = x2 + 0.1 * (z2 - x2);
    CHECK(fabs(y[0] - y2) < 1e-15 * fabs(y2) && z[0] == z2);
    double x[1] = {0.0};
    OK(freestep_optimizer_eval_params_f64(OPT(m), y, 1, z, 1, x, 1));
    CHECK(fabs(x[0] - x2) < 1e-15 * fabs(x2));
    REFUSE(FREESTEP_UNSUPPORTED,
           freestep_optimizer_partial_f64(OPT(m), y, g1, 1, z, 1, 0, 1, PART(pa)));
    REFUSE(FREESTEP_BAD_STATE_LENGTH, freestep_optimizer_eval_f64(OPT(m), y, 1, z, 0));
    OK(freestep_optimizer_eval_f64(OPT(m), y, 1, z, 1));
    CHECK(fabs(y[0] - x2) < 1e-15 * fabs(x2));
    OK(freestep_optimizer_is_train_mode(OPT(m), &train));
    CHECK(!train);
    REFUSE(FREESTEP_EVAL_MODE, freestep_optimizer_step_f64(OPT(m), y, g1, 1, z, 1));
    OK(freestep_optimizer_train_f64(OPT(m), y, 1, z, 1));
    CHECK(fabs(y[0] - y2) < 1e-14 * fabs(y2));
    REFUSE(FREESTEP_UNSUPPORTED, freestep_optimizer_schedulefree_wrap(OPT(m), &w));

    /* Not over a rule that is Schedule-Free already, nor after Mechanic. */
    freestep_sgd_schedulefree_config sc;
    OK(freestep_sgd_schedulefree_default_config(&sc));
    OK(freestep_sgd_schedulefree_init(OPT(sf), sizeof sf.b, &sc, FREESTEP_F32,
                                      3, NULL, 0));
    REFUSE(FREESTEP_UNSUPPORTED, freestep_optimizer_schedulefree_wrap(OPT(sf), &w));
    OK(freestep_sgd_init(OPT(m), sizeof m.b, &c, FREESTEP_F32, 2, NULL, 0));
    OK(freestep_optimizer_mechanize(OPT(m), &mc));
    REFUSE(FREESTEP_UNSUPPORTED, freestep_optimizer_schedulefree_wrap(OPT(m), &w));
    REFUSE(FREESTEP_NULL_POINTER, freestep_schedulefree_wrapper_default_config(NULL));
}

/* ---- Finite sums -------------------------------------------------------- */

/* Least squares on three rows, solved exactly by w = (1, 2). */
static const double FS_X[3][2] = {{1, 0}, {0, 2}, {1, 1}};
static const double FS_Y[3] = {1, 4, 3};

static freestep_sample_f64 fs_sample(const double *w, int i)
{
    freestep_sample_f64 s;
    s.values = FS_X[i];
    s.len = 2;
    s.scalar = FS_X[i][0] * w[0] + FS_X[i][1] * w[1] - FS_Y[i];
    return s;
}

static void fs_config(freestep_finite_sum_config *c, uint32_t method,
                      uint32_t form)
{
    memset(c, 0, sizeof *c);
    c->method = method;
    c->form = form;
    c->loss = FREESTEP_LOSS_SQUARED;
    c->n = 3;
    c->d = 2;
    c->step_size = 0.2;
}

static void test_finite_sum(void)
{
    freestep_finite_sum fs;
    freestep_finite_sum_config c;
    double w[2] = {0, 0}, state[16], step = 0;
    size_t len = 0;

    /* SAGA with a compact table solves the problem. */
    fs_config(&c, FREESTEP_SAGA, FREESTEP_TABLE_LINEAR);
    OK(freestep_finite_sum_init(&fs, &c, FREESTEP_F64));
    OK(freestep_finite_sum_state_len(&fs, &len));
    CHECK(len == 2 + 3);
    OK(freestep_finite_sum_begin_f64(&fs, w, 2, state, len));
    for (int k = 0; k < 600; k++) {
        freestep_sample_f64 g = fs_sample(w, k % 3);
        OK(freestep_finite_sum_step_f64(&fs, w, 2, state, len,
                                        (size_t)(k % 3), &g, NULL));
    }
    CHECK(fabs(w[0] - 1) < 1e-10 && fabs(w[1] - 2) < 1e-10);

    /* Refusals change nothing: index, table length, NaN, wrong call. */
    freestep_sample_f64 g = fs_sample(w, 0), nan_g = g;
    nan_g.scalar = NAN;
    unwatch();
    watch(w, sizeof w);
    watch(state, len * sizeof state[0]);
    watch(&fs, sizeof fs);
    REFUSE(FREESTEP_SAMPLE_INDEX,
           freestep_finite_sum_step_f64(&fs, w, 2, state, len, 3, &g, NULL));
    REFUSE(FREESTEP_BAD_TABLE_LENGTH,
           freestep_finite_sum_step_f64(&fs, w, 2, state, len - 1, 0, &g,
                                        NULL));
    REFUSE(FREESTEP_NON_FINITE_GRADIENT,
           freestep_finite_sum_step_f64(&fs, w, 2, state, len, 0, &nan_g,
                                        NULL));
    REFUSE(FREESTEP_UNSUPPORTED,
           freestep_finite_sum_add_f64(&fs, w, 2, state, len, 0, &g));
    REFUSE(FREESTEP_UNSUPPORTED,
           freestep_finite_sum_prox_step_f64(&fs, w, 2, state, len, 0,
                                             FS_X[0], 2, 1.0));
    REFUSE(FREESTEP_WRONG_PRECISION,
           freestep_finite_sum_begin_f32(&fs, NULL, 0, NULL, 0));
    REFUSE(FREESTEP_NULL_POINTER, freestep_finite_sum_state_len(&fs, NULL));
    unwatch();

    /* SVRG in f32: a step before the snapshot is complete is refused. */
    float wf[2] = {0, 0}, sf[4];
    float row[2] = {1, 0};
    freestep_sample_f32 gf = {row, 2, -1.0f};
    fs_config(&c, FREESTEP_SVRG, FREESTEP_TABLE_LINEAR);
    OK(freestep_finite_sum_init(&fs, &c, FREESTEP_F32));
    OK(freestep_finite_sum_begin_f32(&fs, wf, 2, sf, 4));
    OK(freestep_finite_sum_add_f32(&fs, wf, 2, sf, 4, 0, &gf));
    REFUSE(FREESTEP_SAMPLE_INDEX,
           freestep_finite_sum_add_f32(&fs, wf, 2, sf, 4, 2, &gf));
    REFUSE(FREESTEP_NOT_READY,
           freestep_finite_sum_step_f32(&fs, wf, 2, sf, 4, 0, &gf, &gf));
    OK(freestep_finite_sum_add_f32(&fs, wf, 2, sf, 4, 1, &gf));
    OK(freestep_finite_sum_add_f32(&fs, wf, 2, sf, 4, 2, &gf));
    OK(freestep_finite_sum_step_f32(&fs, wf, 2, sf, 4, 0, &gf, &gf));

    /* Point-SAGA, dense only; its f32 prox step. */
    fs_config(&c, FREESTEP_POINT_SAGA, FREESTEP_TABLE_LINEAR);
    REFUSE(FREESTEP_WRONG_TABLE_FORM,
           freestep_finite_sum_init(&fs, &c, FREESTEP_F64));
    c.form = FREESTEP_TABLE_DENSE;
    OK(freestep_finite_sum_init(&fs, &c, FREESTEP_F32));
    float sp[2 + 6] = {0};
    OK(freestep_finite_sum_prox_step_f32(&fs, wf, 2, sp, 8, 1, row, 2, 1.0));
    REFUSE(FREESTEP_NON_FINITE_GRADIENT,
           freestep_finite_sum_prox_step_f32(&fs, wf, 2, sp, 8, 1, row, 2,
                                             NAN));
    c.form = FREESTEP_TABLE_DENSE;
    OK(freestep_finite_sum_init(&fs, &c, FREESTEP_F64));
    OK(freestep_finite_sum_prox_step_f64(&fs, w, 2, state, 8, 0, FS_X[0], 2,
                                         1.0));

    /* Theory: ||x||^2 / 4 + l2 for the logistic loss; SAGA's 1/(3L). */
    double l_max = 0, l_mean = 0, xs[4] = {2, 0, 0, 1};
    OK(freestep_finite_sum_lipschitz(FREESTEP_LOSS_LOGISTIC, xs, 4, 2, 0.5,
                                     &l_max, &l_mean));
    CHECK(l_max == 1.5 && l_mean == 1.125);
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_finite_sum_lipschitz(FREESTEP_LOSS_HINGE, xs, 4, 2, 0.5,
                                         &l_max, &l_mean));
    OK(freestep_finite_sum_default_step(FREESTEP_SAGA, 2, 1.5, 0.5, 2.0,
                                        &step));
    CHECK(fabs(step - 1.0 / 4.5) < 1e-15);
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_finite_sum_default_step(FREESTEP_SAGA, 2, 0.0, 0.5, 2.0,
                                            &step));

    /* Sampling. */
    freestep_rng r;
    size_t i = 0;
    uint32_t order[5];
    double weights[3] = {0, 2, 0}, cumulative[3];
    OK(freestep_rng_seed(&r, 7));
    OK(freestep_rng_below(&r, 4, &i));
    CHECK(i < 4);
    REFUSE(FREESTEP_BAD_LENGTH, freestep_rng_below(&r, 0, &i));
    OK(freestep_rng_shuffle(&r, order, 5));
    unsigned seen = 0;
    for (int k = 0; k < 5; k++)
        seen |= 1u << order[k];
    CHECK(seen == 31);
    REFUSE(FREESTEP_NULL_POINTER, freestep_rng_shuffle(NULL, order, 5));
    OK(freestep_weighted_init(weights, cumulative, 3));
    OK(freestep_weighted_sample(cumulative, 3, &r, &i));
    CHECK(i == 1);
    weights[0] = -1;
    REFUSE(FREESTEP_INVALID_HYPERPARAMETER,
           freestep_weighted_init(weights, cumulative, 3));
    REFUSE(FREESTEP_BAD_LENGTH,
           freestep_weighted_sample(cumulative, 0, &r, &i));

    /* SPS: loss 1/2, gradient -(1, 1) at 0 give the step 1/4. */
    freestep_sps_config sps = {1.0, INFINITY, 0.0};
    double one[2] = {1, 1}, ws[2] = {0, 0};
    float wsf[2] = {0, 0}, onef[2] = {1, 1};
    freestep_sample_f64 gs = {one, 2, -1.0};
    freestep_sample_f32 gsf = {onef, 2, -1.0f};
    OK(freestep_sps_step_f64(&sps, ws, 2, 0.5, &gs, FREESTEP_TABLE_LINEAR,
                             &step));
    CHECK(step == 0.25 && ws[0] == 0.25 && ws[1] == 0.25);
    OK(freestep_sps_step_f32(&sps, wsf, 2, 0.5, &gsf, FREESTEP_TABLE_LINEAR,
                             &step));
    CHECK(wsf[0] == 0.25f);
    REFUSE(FREESTEP_NON_FINITE_LOSS,
           freestep_sps_step_f64(&sps, ws, 2, NAN, &gs,
                                 FREESTEP_TABLE_LINEAR, &step));
    REFUSE(FREESTEP_BAD_LENGTH,
           freestep_sps_step_f32(&sps, wsf, 1, 0.5, &gsf,
                                 FREESTEP_TABLE_LINEAR, &step));
}

/*
 * The refined schedule, by hand: norms 2, 1, 1, 2 without filtering
 * (tau 0) give weights 1/4, 1, 1, 1/4 (1 / norm^2, scaled by the smallest
 * norm), tail sums from the end 1/4, 5/4, 9/4, 10/4, products 5/8, 9/4,
 * 5/4, 1/16, and over the peak 9/4: 5/18, 1, 5/9, 1/36. Bad input writes
 * nothing.
 */
static void test_refined_schedule(void)
{
    const double norms[4] = {2.0, 1.0, 1.0, 2.0};
    double out[4] = {0};
    OK(freestep_schedule_refine_f64(norms, 4, 0.0, out, 4));
    CHECK(out[0] == 5.0 / 18.0 && out[1] == 1.0 && out[2] == 5.0 / 9.0 &&
          out[3] == 1.0 / 36.0);
    const float norms32[4] = {2.0f, 1.0f, 1.0f, 2.0f};
    float out32[4] = {0};
    OK(freestep_schedule_refine_f32(norms32, 4, 0.0, out32, 4));
    CHECK(out32[0] == (float)(5.0 / 18.0) && out32[1] == 1.0f);

    double kept[4] = {7.0, 7.0, 7.0, 7.0};
    const double nan_norm[4] = {1.0, NAN, 1.0, 1.0};
    const double zero_norm[4] = {1.0, 0.0, 1.0, 1.0};
    CHECK(freestep_schedule_refine_f64(nan_norm, 4, 0.1, kept, 4) ==
          FREESTEP_INVALID_NORM);
    CHECK(freestep_schedule_refine_f64(zero_norm, 4, 0.1, kept, 4) ==
          FREESTEP_INVALID_NORM);
    CHECK(freestep_schedule_refine_f64(norms, 4, 1.5, kept, 4) ==
          FREESTEP_INVALID_HYPERPARAMETER);
    CHECK(freestep_schedule_refine_f64(norms, 4, 0.1, kept, 3) ==
          FREESTEP_BAD_LENGTH);
    CHECK(freestep_schedule_refine_f64(norms, 0, 0.1, kept, 0) ==
          FREESTEP_BAD_LENGTH);
    CHECK(freestep_schedule_refine_f64(NULL, 4, 0.1, kept, 4) ==
          FREESTEP_NULL_POINTER);
    CHECK(freestep_schedule_refine_f64(kept, 4, 0.1, kept + 1, 3) ==
          FREESTEP_OVERLAPPING_BUFFERS);
    CHECK(kept[0] == 7.0 && kept[1] == 7.0 && kept[2] == 7.0 &&
          kept[3] == 7.0);
}

/*
 * Factorial powers, by hand: 5^(3) = 5 * 4 * 3 = 60; 3^(-2) = 1 / (4 * 5).
 * The schedule with power 1 and offset 1 after a warmup of 2 is
 * (s + 1)^(-1) / 1^(-1) = 2 / (s + 2) at s = t - 2. With r = 1 the
 * momentum of step 3 is 3 / (3 + 3) and the averaging weight 2 / (3 + 2).
 */
static void test_factorial_powers(void)
{
    double v = -1.0;
    OK(freestep_schedule_factorial_power(5.0, 3.0, &v));
    CHECK(v == 60.0);
    OK(freestep_schedule_factorial_power(3.0, -2.0, &v));
    CHECK(v == 1.0 / 20.0);
    freestep_schedule s = {FREESTEP_SCHEDULE_FACTORIAL_POWER, 2, 0, 0,
                           0.0, 1.0, 1.0};
    double want[5] = {0.5, 1.0, 1.0, 2.0 / 3.0, 0.5};
    for (uint64_t t = 0; t < 5; t++) {
        double m = -1.0;
        CHECK(freestep_schedule_multiplier(&s, t, &m) == FREESTEP_OK);
        CHECK(m == want[t]);
    }
    double beta = -1.0, c = -1.0;
    OK(freestep_schedule_factorial_momentum(3, 1.0, &beta, &c));
    CHECK(beta == 0.5 && c == 2.0 / 5.0);

    double untouched = 42.0, other = 42.0;
    CHECK(freestep_schedule_factorial_power(2.0, 3.0, &untouched) ==
          FREESTEP_INVALID_HYPERPARAMETER);
    CHECK(freestep_schedule_factorial_momentum(0, -1.0, &untouched, &other) ==
          FREESTEP_INVALID_HYPERPARAMETER);
    CHECK(freestep_schedule_factorial_momentum(0, 1.0, &untouched,
                                               &untouched) ==
          FREESTEP_OVERLAPPING_BUFFERS);
    s.offset = -1.0;
    CHECK(freestep_schedule_multiplier(&s, 3, &untouched) ==
          FREESTEP_INVALID_HYPERPARAMETER);
    CHECK(untouched == 42.0 && other == 42.0);
}

/*
 * The geometric-mean initialisation, by hand: fans 3 and 3 with gain 4 give
 * the bound a = sqrt(3 * 4 / sqrt(9)) = 2, so a weight is 4u - 2 with u the
 * top 53 bits of a SplitMix64 output over 2^53. Seed 0's first output is
 * 0xe220a8397b1dcdaf, and after two draws the state is twice the
 * generator's step 0x9e3779b97f4a7c15 (mod 2^64). Bad input writes nothing.
 */
static void test_init_geometric(void)
{
    double w[2] = {0.0, 0.0};
    uint64_t rng = 0;
    OK(freestep_init_geometric_f64(w, 2, 3, 3, 4.0, &rng));
    double u0 = (double)(UINT64_C(0xe220a8397b1dcdaf) >> 11) * 0x1p-53;
    CHECK(w[0] == 4.0 * u0 - 2.0);
    CHECK(w[1] >= -2.0 && w[1] < 2.0);
    CHECK(rng == UINT64_C(0x9e3779b97f4a7c15) * 2u);
    float w32[1] = {0.0f};
    rng = 0;
    OK(freestep_init_geometric_f32(w32, 1, 3, 3, 4.0, &rng));
    CHECK(w32[0] == (float)(4.0 * u0 - 2.0));

    double kept[2] = {7.0, 7.0};
    uint64_t seed = 5;
    CHECK(freestep_init_geometric_f64(kept, 2, 0, 3, 2.0, &seed) ==
          FREESTEP_INVALID_HYPERPARAMETER);
    CHECK(freestep_init_geometric_f64(kept, 2, 3, 3, 0.0, &seed) ==
          FREESTEP_INVALID_HYPERPARAMETER);
    CHECK(freestep_init_geometric_f64(kept, 2, 3, 3, 2.0, NULL) ==
          FREESTEP_NULL_POINTER);
    CHECK(freestep_init_geometric_f64(NULL, 2, 3, 3, 2.0, &seed) ==
          FREESTEP_NULL_POINTER);
    CHECK(freestep_init_geometric_f64(kept, 2, 3, 3, 2.0,
                                      (uint64_t *)(void *)&kept[1]) ==
          FREESTEP_OVERLAPPING_BUFFERS);
    CHECK(kept[0] == 7.0 && kept[1] == 7.0 && seed == 5);
}

int main(void)
{
    test_version_and_messages();
    test_sizes();
    test_default_configs();
    test_init_errors();
    test_sgd_by_hand();
    test_adam();
    test_adagrad_rmsprop();
    test_paper_rules();
    test_schedule_free_f64();
    test_schedule_free_f32();
    test_unsupported();
    test_nonfinite_gradients();
    test_bad_buffers();
    test_not_an_object();
    test_phased_f64();
    test_phased_f32();
    test_threads();
    test_schedules();
    test_momo();
    test_mechanic();
    test_radam_schedulefree();
    test_schedulefree_wrapper();
    test_finite_sum();
    test_refined_schedule();
    test_factorial_powers();
    test_init_geometric();

    printf("freestep %s, C ABI test\n", freestep_version());
    printf("%u passed, %u failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
