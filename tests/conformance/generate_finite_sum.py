"""Generate freestep's `kind: "finite_sum"` fixtures.

A finite-sum fixture states a regularised empirical-risk problem, a method and its settings,
and the problem's optimum; freestep's conformance runner (xtask/src/conform/finite_sum.rs)
runs the method from w = 0 for the stated epochs with its own sampling and passes when the
relative suboptimality (f(w) - f*) / max(1, |f*|) is within the stated bar.

The optima are computed here, independently of freestep, with numpy only:

* L2 logistic regression: Newton's method until the gradient norm is below 1e-15 (or stops
  falling);
* ridge regression: the normal equations (X^T X / n + l2 I) w = X^T y / n;
* the lasso: FISTA, then proximal gradient (ISTA) iterated until it no longer moves.

The data are the breast-cancer set of examples/data/breast_cancer.csv (UCI, CC BY 4.0; see
examples/data/README.md), each column standardised to mean 0 and standard deviation 1
(population form), with labels 0/1 (benign = 1). The regression fixtures use the labels
mapped to -1/+1 as targets.

Running it from the repository root (the output is byte-for-byte reproducible):

    /root/fsvenv/bin/python tests/conformance/generate_finite_sum.py [--out DIR]
"""

import argparse
import json
import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "examples" / "data" / "breast_cancer.csv"


def load_cancer():
    """The standardised features and 0/1 labels."""
    rows = DATA.read_text().strip().splitlines()[1:]
    table = np.array([[float(v) for v in r.split(",")] for r in rows])
    x, y = table[:, :-1], table[:, -1]
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    return x, y


def logistic_objective(x, y01, l2, w):
    m = (2 * y01 - 1) * (x @ w)
    return np.mean(np.logaddexp(0.0, -m)) + 0.5 * l2 * w @ w


def newton_logistic(x, y01, l2):
    """Newton's method on the mean logistic loss plus l2/2 ||w||^2."""
    n, d = x.shape
    s = 2 * y01 - 1
    w = np.zeros(d)
    best = np.inf
    for _ in range(100):
        m = s * (x @ w)
        p = 0.5 * (1.0 + np.tanh(-0.5 * m))  # sigma(-m), without overflow
        g = -(x.T @ (s * p)) / n + l2 * w
        norm = np.linalg.norm(g)
        if norm < 1e-15 or norm >= best:
            break
        best = norm
        h = (x.T * (p * (1 - p))) @ x / n + l2 * np.eye(d)
        w = w - np.linalg.solve(h, g)
    return w


def squared_objective(x, t, l2, l1, w):
    r = x @ w - t
    return 0.5 * np.mean(r * r) + 0.5 * l2 * w @ w + l1 * np.abs(w).sum()


def ridge(x, t, l2):
    n, d = x.shape
    return np.linalg.solve(x.T @ x / n + l2 * np.eye(d), x.T @ t / n)


def lasso(x, t, l1):
    """FISTA to get close, then ISTA until the iterate is a fixed point."""
    n, d = x.shape
    lip = np.linalg.eigvalsh(x.T @ x / n).max()

    def prox_step(v):
        u = v - (x.T @ (x @ v - t) / n) / lip
        return np.sign(u) * np.maximum(np.abs(u) - l1 / lip, 0.0)

    w = z = np.zeros(d)
    k = 1.0
    for _ in range(20000):
        w_next = prox_step(z)
        k_next = 0.5 * (1 + np.sqrt(1 + 4 * k * k))
        z = w_next + ((k - 1) / k_next) * (w_next - w)
        w, k = w_next, k_next
    for _ in range(1_000_000):
        w_next = prox_step(w)
        if np.array_equal(w_next, w):
            break
        w = w_next
    return w


def fixture(optimizer, setting, x, y, loss, l2, l1, epochs, hyper, w_star, f_star, bar):
    return {
        "schema_version": 1,
        "kind": "finite_sum",
        "optimizer": optimizer,
        "setting": setting,
        "dataset": {
            "X": x.tolist(),
            "y": y.tolist(),
            "source": "breast_cancer.csv, standardised (mean 0, std 1 per column)",
        },
        "objective": {"loss": loss, "l2": l2, "l1": l1},
        "epochs": epochs,
        "hyperparameters": hyper,
        "expected": {"w_star": w_star.tolist(), "f_star": float(f_star)},
        "tolerance": {"subopt_rel": bar},
    }


def fixtures():
    x, y = load_cancer()
    out = []

    # L2 logistic regression, l2 = 0.1 on the mean loss: the problem.
    l2 = 0.1
    w = newton_logistic(x, y, l2)
    f = logistic_objective(x, y, l2, w)
    for opt, setting, hyper in [
        ("saga", "cancer-l2", {"sampling": "uniform"}),
        ("sag", "cancer-l2", {"sampling": "uniform"}),
        ("sag", "cancer-l2-lipschitz", {"sampling": "lipschitz"}),
        ("svrg", "cancer-l2", {"step_size": 0.01, "sampling": "uniform"}),
        ("finito", "cancer-l2", {"alpha": 2.0, "sampling": "permutation"}),
        ("point-saga", "cancer-l2", {"sampling": "uniform"}),
    ]:
        out.append(fixture(opt, setting, x, y, "logistic", l2, 0.0, 100, hyper, w, f, 1e-8))

    # Ridge regression on the +-1 labels: the closed form. The largest row norm (||x||^2 = 422
    # against a mean of 30) makes SAGA's 1/(3L) take thousands of epochs here, so SAGA and SVRG
    # get explicit steps (SAGA diverges at 0.01); Point-SAGA's prox needs no such care.
    t = 2 * y - 1
    l2 = 0.05
    w = ridge(x, t, l2)
    f = squared_objective(x, t, l2, 0.0, w)
    for opt, hyper in [
        ("saga", {"step_size": 0.005}),
        ("point-saga", {}),
        ("svrg", {"step_size": 0.005, "inner_steps": 1138}),
    ]:
        out.append(fixture(opt, "ridge", x, t, "squared", l2, 0.0, 100, hyper, w, f, 1e-8))

    # The lasso, a subset of the features.
    l1 = 0.02
    w = lasso(x, t, l1)
    f = squared_objective(x, t, 0.0, l1, w)
    for opt, hyper in [("saga", {}), ("svrg", {"step_size": 0.005})]:
        out.append(fixture(opt, "lasso", x, t, "squared", 0.0, l1, 300, hyper, w, f, 1e-6))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    here = pathlib.Path(__file__).resolve().parent
    parser.add_argument("--out", type=pathlib.Path, default=here / "fixtures")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for f in fixtures():
        path = args.out / f"{f['optimizer']}-{f['setting']}.json"
        path.write_text(json.dumps(f, separators=(",", ":")) + "\n")
        print(f"wrote {path.name}: f* = {f['expected']['f_star']:.17g}")


if __name__ == "__main__":
    main()
