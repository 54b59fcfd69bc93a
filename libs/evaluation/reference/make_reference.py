"""Builds reference.json: deterministic datasets and the values scikit-learn, fairlearn and
statsmodels compute on them. The TypeScript specs assert @mrw/evaluation against this file.

    pip install scikit-learn==1.9.1 fairlearn==0.15.0 statsmodels==0.15.0 numpy==2.4.6 scipy==1.17.1 pandas==3.1.1
    python libs/evaluation/reference/make_reference.py

Conventions shared with the library:
- class labels are 0..k-1, metrics are computed with `labels=range(k)` where sklearn needs
  the full class set (log_loss, roc_auc multiclass) and sklearn's defaults elsewhere;
- integer row weights mean "this row appears w times" (a bootstrap resample): the expected
  values of weighted datasets are computed on the expanded rows (np.repeat), which is what
  the library's weighted path is defined to equal;
- NaN is written as null (JSON has no NaN);
- `flags` lists the metrics the library must report in `undefinedMetrics`: the sklearn calls
  that raised UndefinedMetricWarning (zero division, one class present, r2 on < 2 samples)
  plus the documented conventions (r2 on constant y_true, a roc_auc sklearn refuses, a
  fairness rate fairlearn sets to 0).
"""

import json
import math
import os
import warnings

import fairlearn
import numpy as np
import pandas
import scipy
import sklearn
import statsmodels
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    root_mean_squared_error,
)
from statsmodels.stats.contingency_tables import mcnemar

SEED = 20261127
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")


def num(x):
    x = float(x)
    return None if math.isnan(x) else x


def call(fn):
    """Runs one metric; returns (value or None, warned-undefined?, raised?)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn()
        except ValueError:
            return None, False, True
    warned = any(issubclass(w.category, UndefinedMetricWarning) for w in caught)
    return num(value), warned, False


def expand(arrays, weights):
    idx = np.repeat(np.arange(len(weights)), weights)
    return [None if a is None else a[idx] for a in arrays]


# ---------------------------------------------------------------- classification


def classification_case(name, task, k, y_true, y_pred, proba=None, weights=None, groups=None,
                        group_names=None, cost_matrix=None, note=None):
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    proba = None if proba is None else np.asarray(proba, dtype=np.float64)
    groups = None if groups is None else np.asarray(groups, dtype=np.int64)
    yt, yp, pr, gr = y_true, y_pred, proba, groups
    if weights is not None:
        weights = np.asarray(weights, dtype=np.int64)
        yt, yp, pr, gr = expand([y_true, y_pred, proba, groups], weights)

    expected, flags, reasons = {}, [], {}

    def put(metric, fn):
        value, warned, raised = call(fn)
        expected[metric] = value
        if warned:
            flags.append(metric)
        if raised:
            flags.append(metric)
            reasons[metric] = "sklearn raises"

    put("accuracy", lambda: accuracy_score(yt, yp))
    put("balanced_accuracy", lambda: balanced_accuracy_score(yt, yp))
    if task == "binary":
        put("precision", lambda: precision_score(yt, yp))
        put("recall", lambda: recall_score(yt, yp))
        put("f1", lambda: f1_score(yt, yp))
    for avg in ("macro", "micro", "weighted"):
        put(f"precision_{avg}", lambda: precision_score(yt, yp, average=avg))
        put(f"recall_{avg}", lambda: recall_score(yt, yp, average=avg))
        put(f"f1_{avg}", lambda: f1_score(yt, yp, average=avg))
    if pr is not None:
        labels = list(range(k))
        if task == "binary":
            positive = pr if pr.ndim == 1 else pr[:, 1]
            put("roc_auc", lambda: roc_auc_score(yt, positive))
        else:
            for avg in ("macro", "micro", "weighted"):
                put(f"roc_auc_{avg}", lambda: roc_auc_score(
                    yt, pr, multi_class="ovr", average=avg, labels=labels))
        put("log_loss", lambda: log_loss(yt, pr, labels=labels))

    case = {
        "name": name,
        "task": task,
        "k": k,
        "yTrue": y_true.tolist(),
        "yPred": y_pred.tolist(),
        "confusionMatrix": confusion_matrix(yt, yp, labels=list(range(k))).tolist(),
    }
    if note:
        case["note"] = note
    if proba is not None:
        case["proba"] = proba.reshape(-1).tolist()
    if weights is not None:
        case["weights"] = weights.tolist()

    if cost_matrix is not None:
        cm = confusion_matrix(yt, yp, labels=list(range(k)))
        expected["business_kpi"] = float((cm * np.asarray(cost_matrix)).sum() / cm.sum())
        case["costMatrix"] = cost_matrix

    if groups is not None:
        case["groups"] = groups.tolist()
        case["groupNames"] = group_names
        sf = np.asarray(group_names, dtype=object)[gr]
        slices = []
        if task == "binary":
            fns = {
                "count": lambda t, p: len(t),
                "selection_rate": selection_rate,
                "accuracy": accuracy_score,
                "true_positive_rate": true_positive_rate,
                "false_positive_rate": false_positive_rate,
            }
            expected["demographic_parity_difference"] = float(
                demographic_parity_difference(yt, yp, sensitive_features=sf))
            expected["equalized_odds_difference"] = float(
                equalized_odds_difference(yt, yp, sensitive_features=sf))
            for g in sorted(set(gr.tolist())):
                mask = gr == g
                if not (yt[mask] == 1).any() or not (yt[mask] == 0).any():
                    flags.append("equalized_odds_difference")
                    reasons["equalized_odds_difference"] = "a group lacks positives or negatives"
        else:
            fns = {"count": lambda t, p: len(t), "accuracy": accuracy_score}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = MetricFrame(metrics=fns, y_true=yt, y_pred=yp, sensitive_features=sf)
        by_group = frame.by_group
        for name_ in group_names:
            if name_ in by_group.index:
                row = by_group.loc[name_]
                slices.append({"name": name_, **{m: num(row[m]) for m in fns}})
            else:
                slices.append({"name": name_, "count": 0})
        case["slices"] = slices

    case["expected"] = expected
    case["flags"] = sorted(set(flags))
    return case


def binary_proba(rng, y, strength, decimals=None):
    logits = strength * (2 * y - 1) + rng.normal(0, 1.2, size=len(y))
    p = 1 / (1 + np.exp(-logits))
    return np.round(p, decimals) if decimals is not None else p


def classification_cases(rng):
    cases = []
    n = 500
    y = (rng.random(n) < 0.35).astype(int)
    groups = rng.choice(3, size=n, p=[0.7, 0.25, 0.05])
    p = binary_proba(rng, y, 1.1, decimals=3)  # rounding makes ties
    value = [[0.0, -1.0], [-5.0, 10.0]]
    cases.append(classification_case(
        "binary_random", "binary", 2, y, (p >= 0.5).astype(int), p, groups=groups,
        group_names=["north", "south", "islands"], cost_matrix=value))

    w = rng.multinomial(n, np.full(n, 1 / n))
    cases.append(classification_case(
        "binary_weighted", "binary", 2, y, (p >= 0.5).astype(int), p, weights=w, groups=groups,
        group_names=["north", "south", "islands"], cost_matrix=value,
        note="integer weights = bootstrap counts; expected values are on the expanded rows"))

    m = 120
    y2 = (rng.random(m) < 0.5).astype(int)
    p1 = binary_proba(rng, y2, 0.8)
    p0 = 1 - p1 + rng.normal(0, 0.01, m).clip(-0.005, 0.005)  # columns not exactly complementary
    p0 = p0.clip(0, 1)
    cases.append(classification_case(
        "binary_proba_two_columns", "binary", 2, y2, (p1 >= 0.5).astype(int),
        np.stack([p0, p1], axis=1)))

    y3 = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0])
    cases.append(classification_case(
        "binary_perfect_extreme_proba", "binary", 2, y3, y3, y3.astype(float)))

    p4 = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.9, 1.0, 0.0, 0.5, 0.5])
    y4 = np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0])
    cases.append(classification_case(
        "binary_confident_mistakes", "binary", 2, y4, (p4 >= 0.5).astype(int), p4,
        note="probabilities exactly 0 and 1 on wrong rows: log_loss clips at float64 eps"))

    y5 = np.zeros(8, dtype=int)
    p5 = np.array([0.1, 0.7, 0.2, 0.9, 0.4, 0.4, 0.05, 0.6])
    cases.append(classification_case(
        "binary_one_class_in_y_true", "binary", 2, y5, (p5 >= 0.5).astype(int), p5))

    y6 = np.ones(6, dtype=int)
    cases.append(classification_case(
        "binary_only_positives_everywhere", "binary", 2, y6, y6,
        np.array([0.9, 0.8, 0.99, 0.7, 0.6, 0.95])))

    y7 = np.array([0, 1, 0, 1, 1, 0, 0])
    cases.append(classification_case(
        "binary_never_predicts_positive", "binary", 2, y7, np.zeros(7, dtype=int),
        np.array([0.1, 0.4, 0.2, 0.45, 0.3, 0.05, 0.49])))

    cases.append(classification_case(
        "binary_all_negative", "binary", 2, np.zeros(5, dtype=int), np.zeros(5, dtype=int)))

    y8 = np.array([0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1])
    p8 = np.array([0.5] * 4 + [0.2, 0.2, 0.8, 0.8, 0.8, 0.3, 0.3, 0.3])
    cases.append(classification_case(
        "binary_tied_scores", "binary", 2, y8, (p8 > 0.5).astype(int), p8))
    cases.append(classification_case(
        "binary_all_scores_equal", "binary", 2, y8, np.ones(12, dtype=int), np.full(12, 0.5)))

    # fairness: imbalanced groups; one with no positives, one declared but absent
    nf = 300
    gf = rng.choice(3, size=nf, p=[0.8, 0.15, 0.05])
    yf = (rng.random(nf) < np.where(gf == 0, 0.4, 0.25)).astype(int)
    yf[gf == 2] = 0
    pf = binary_proba(rng, yf, 1.0)
    ypf = (pf >= np.where(gf == 1, 0.4, 0.5)).astype(int)
    cases.append(classification_case(
        "fairness_imbalanced_groups", "binary", 2, yf, ypf, pf, groups=gf,
        group_names=["a", "b", "c", "d"],
        note="group c has no positives (fairlearn: its TPR is 0); group d has no rows"))

    # multiclass
    k, nm = 4, 600
    ym = rng.choice(k, size=nm, p=[0.4, 0.3, 0.2, 0.1])
    logits = rng.normal(0, 1, size=(nm, k))
    logits[np.arange(nm), ym] += 1.3
    pm = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    gm = rng.choice(2, size=nm, p=[0.6, 0.4])
    value4 = [[1.0, -1.0, -1.0, -2.0], [-1.0, 2.0, -1.0, -2.0], [-1.0, -1.0, 3.0, -2.0],
              [-4.0, -4.0, -4.0, 8.0]]
    cases.append(classification_case(
        "multiclass_random", "multiclass", k, ym, pm.argmax(axis=1), pm, groups=gm,
        group_names=["web", "store"], cost_matrix=value4))

    wm = rng.multinomial(nm, np.full(nm, 1 / nm))
    cases.append(classification_case(
        "multiclass_weighted", "multiclass", k, ym, pm.argmax(axis=1), pm, weights=wm,
        note="integer weights = bootstrap counts; expected values are on the expanded rows"))

    nc = 200
    yc = rng.choice(3, size=nc)
    counts = rng.multinomial(10, [0.2, 0.2, 0.2], size=nc)
    counts[np.arange(nc), yc] += rng.integers(0, 8, size=nc)
    pc = counts / counts.sum(axis=1, keepdims=True)  # coarse: ties and exact zeros
    cases.append(classification_case(
        "multiclass_coarse_ties_zeros", "multiclass", 3, yc, pc.argmax(axis=1), pc))

    yn = rng.choice(3, size=60)
    pn = rng.dirichlet([1, 1, 1], size=60)
    ypn = np.where(yn == 2, 1, yn)
    ypn[::7] = 0
    cases.append(classification_case(
        "multiclass_class_never_predicted", "multiclass", 3, yn, ypn, pn,
        note="class 2 is never predicted: its precision divides by zero"))

    ya = rng.choice(3, size=50)
    pa = rng.dirichlet([2, 2, 2, 1], size=50)
    ypa = pa.argmax(axis=1)
    ypa[:3] = 3
    cases.append(classification_case(
        "multiclass_class_absent_from_y_true", "multiclass", 4, ya, ypa, pa,
        note="class 3 is predicted but never true: its recall divides by zero, its OvR AUC is "
             "undefined (roc_auc_macro NaN; weighted gives it weight 0)"))

    yu = rng.choice(3, size=40)
    pu = rng.dirichlet([1, 1, 1], size=40) * 0.9
    cases.append(classification_case(
        "multiclass_proba_not_normalized", "multiclass", 3, yu, pu.argmax(axis=1), pu,
        note="rows sum to 0.9: sklearn refuses multiclass roc_auc (raises); log_loss only warns"))
    return cases


# ---------------------------------------------------------------- regression


def regression_case(name, y_true, y_pred, weights=None, groups=None, group_names=None,
                    note=None, library=None):
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    yt, yp, gr = y_true, y_pred, groups
    if weights is not None:
        weights = np.asarray(weights, dtype=np.int64)
        yt, yp, gr = expand([y_true, y_pred, None if groups is None else np.asarray(groups)],
                            weights)
    expected, flags = {}, []
    for metric, fn in (("mae", mean_absolute_error), ("mse", mean_squared_error),
                       ("rmse", root_mean_squared_error), ("r2", r2_score)):
        value, warned, raised = call(lambda: fn(yt, yp))
        expected[metric] = value
        if warned or raised:
            flags.append(metric)
    if len(yt) >= 2 and np.all(yt == yt[0]):
        flags.append("r2")  # constant y_true: force_finite convention
    case = {"name": name, "task": "regression", "yTrue": y_true.tolist(),
            "yPred": y_pred.tolist(), "expected": expected, "flags": sorted(set(flags))}
    if note:
        case["note"] = note
    if library:
        case["library"] = library
    if weights is not None:
        case["weights"] = weights.tolist()
    if groups is not None:
        case["groups"] = np.asarray(groups).tolist()
        case["groupNames"] = group_names
        sf = np.asarray(group_names, dtype=object)[gr]
        frame = MetricFrame(
            metrics={"count": lambda t, p: len(t), "mae": mean_absolute_error,
                     "rmse": root_mean_squared_error, "r2": r2_score},
            y_true=yt, y_pred=yp, sensitive_features=sf)
        case["slices"] = [{"name": g, **{m: num(frame.by_group.loc[g][m])
                                         for m in ("count", "mae", "rmse", "r2")}}
                          for g in group_names]
    return case


def regression_cases(rng):
    n = 400
    x = rng.normal(0, 1, n)
    y = 3.0 * x + rng.normal(0, 1, n) + 10
    pred = 2.7 * x + 10.2 + rng.normal(0, 0.5, n)
    g = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    w = rng.multinomial(n, np.full(n, 1 / n))
    return [
        regression_case("regression_random", y, pred, groups=g, group_names=["s", "m", "l"]),
        regression_case("regression_weighted", y, pred, weights=w,
                        note="integer weights = bootstrap counts; expected on expanded rows"),
        regression_case("regression_constant_y_perfect", [3.0] * 5, [3.0] * 5,
                        note="constant y_true, perfect predictions: r2 = 1.0 (force_finite)"),
        regression_case("regression_constant_y_imperfect", [3.0] * 5, [3.0, 3.5, 2.0, 3.0, 3.0],
                        note="constant y_true, imperfect predictions: r2 = 0.0 (force_finite)"),
        regression_case("regression_constant_y_not_representable", [0.1] * 3, [0.2] * 3,
                        note="sklearn's mean of [0.1]*3 is 0.10000000000000002, so its "
                             "denominator is 1e-34 instead of 0 and r2 = -5e31; the library "
                             "detects constant y_true exactly and returns 0.0 (force_finite)",
                        library={"r2": 0.0}),
        regression_case("regression_single_row", [2.0], [1.5],
                        note="r2 is undefined on fewer than two samples: NaN"),
    ]


# ---------------------------------------------------------------- McNemar, PRNG, bootstrap


def mcnemar_cases():
    out = []
    for b, c in [(0, 0), (1, 0), (3, 5), (0, 7), (10, 12), (12, 12), (24, 0), (20, 5), (13, 12),
                 (30, 12), (100, 80), (250, 310), (4000, 4210)]:
        table = [[50, b], [c, 40]]
        ex = mcnemar(table, exact=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ch = mcnemar(table, exact=False, correction=True)
        out.append({"b": b, "c": c,
                    "exact": {"statistic": float(ex.statistic), "pvalue": float(ex.pvalue)},
                    "chi2": {"statistic": num(ch.statistic) if np.isfinite(ch.statistic) else None,
                             "pvalue": num(ch.pvalue)}})
    return out


M32 = 0xFFFFFFFF


class Xoshiro128ss:
    """xoshiro128** 1.1, state seeded by four splitmix32 outputs: the library's PRNG."""

    def __init__(self, seed):
        a = seed & M32

        def splitmix32():
            nonlocal a
            a = (a + 0x9E3779B9) & M32
            t = a ^ (a >> 16)
            t = (t * 0x21F0AAAD) & M32
            t ^= t >> 15
            t = (t * 0x735A2D97) & M32
            return t ^ (t >> 15)

        self.s = [splitmix32() for _ in range(4)]

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (32 - k))) & M32
        result = (rotl((s[1] * 5) & M32, 7) * 9) & M32
        t = (s[1] << 9) & M32
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 11)
        return result

    def counts(self, n):
        c = np.zeros(n, dtype=np.int64)
        for _ in range(n):
            c[(self.next() * n) >> 32] += 1
        return c


def bootstrap_case(rng):
    n, resamples, seed = 300, 200, 7
    y = (rng.random(n) < 0.4).astype(int)
    cand = binary_proba(rng, y, 1.4)
    champ = binary_proba(rng, y, 0.9)
    metrics = {
        "accuracy": lambda t, p, s: accuracy_score(t, (s >= 0.5).astype(int)),
        "f1_macro": lambda t, p, s: f1_score(t, (s >= 0.5).astype(int), average="macro"),
        "roc_auc": lambda t, p, s: roc_auc_score(t, s),
        "log_loss": lambda t, p, s: log_loss(t, s, labels=[0, 1]),
    }
    gen = Xoshiro128ss(seed)
    diffs = {m: [] for m in metrics}
    for _ in range(resamples):
        idx = np.repeat(np.arange(n), gen.counts(n))
        for m, fn in metrics.items():
            diffs[m].append(fn(y[idx], None, cand[idx]) - fn(y[idx], None, champ[idx]))
    expected = {}
    for m, fn in metrics.items():
        c, h = fn(y, None, cand), fn(y, None, champ)
        lo, hi = np.percentile(np.asarray(diffs[m]), [2.5, 97.5])
        expected[m] = {"candidate": c, "champion": h, "difference": c - h,
                       "ci": {"lower": float(lo), "upper": float(hi), "level": 0.95}}
    cr, hr = (cand >= 0.5) == y, (champ >= 0.5) == y
    b, c = int((cr & ~hr).sum()), int((~cr & hr).sum())
    ex = mcnemar([[0, b], [c, 0]], exact=b + c < 25, correction=True)
    return {"n": n, "resamples": resamples, "seed": seed, "yTrue": y.tolist(),
            "candidateProba": cand.tolist(), "championProba": champ.tolist(),
            "expected": expected,
            "mcnemar": {"b": b, "c": c, "exact": b + c < 25,
                        "statistic": float(ex.statistic), "pvalue": float(ex.pvalue)}}


def prng_case():
    gen = Xoshiro128ss(20261127)
    first = [gen.next() for _ in range(8)]
    gen2 = Xoshiro128ss(1)
    return {"seed": 20261127, "first": first, "seed1": [gen2.next() for _ in range(4)],
            "counts": {"seed": 42, "n": 10, "values": Xoshiro128ss(42).counts(10).tolist()}}


def main():
    rng = np.random.default_rng(SEED)
    ref = {
        "generatedBy": "libs/evaluation/reference/make_reference.py",
        "numpySeed": SEED,
        "versions": {"scikit-learn": sklearn.__version__, "fairlearn": fairlearn.__version__,
                     "statsmodels": statsmodels.__version__, "numpy": np.__version__,
                     "scipy": scipy.__version__, "pandas": pandas.__version__},
        "classification": classification_cases(rng),
        "regression": regression_cases(rng),
        "mcnemar": mcnemar_cases(),
        "prng": prng_case(),
        "bootstrap": bootstrap_case(rng),
    }
    with open(OUT, "w") as f:
        json.dump(ref, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
