"""Builds curve-reference.json: deterministic binary datasets with heavy ties, with and without
sample weights, and the ROC and precision-recall curves scikit-learn computes on them. The spec
curves.unit.spec.ts asserts @mrw/evaluation's rocCurve / precisionRecallCurve against this file.

    pip install scikit-learn==1.9.1 numpy==2.4.6
    python libs/evaluation/reference/make_curve_reference.py

The calls are exactly
    roc_curve(y_true, y_score, sample_weight=w, drop_intermediate=True)
    precision_recall_curve(y_true, y_score, sample_weight=w, drop_intermediate=False)

JSON has neither NaN nor infinities: NaN (a rate with no positive or no negative weight) and
ROC's first threshold (+inf) are written as null; the spec maps them back.
"""

import json
import math
import os
import warnings

import numpy as np
import sklearn
from sklearn.metrics import precision_recall_curve, roc_curve

SEED = 20261127
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "curve-reference.json")


def num(x):
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def nums(a):
    return [num(v) for v in np.asarray(a, dtype=np.float64)]


def case(name, y_true, scores, weights=None, note=None):
    y_true = np.asarray(y_true, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    with warnings.catch_warnings():
        # One class present: sklearn warns and answers NaN rates (or recall 1); that is the point.
        warnings.simplefilter("ignore")
        fpr, tpr, roc_thresholds = roc_curve(y_true, scores, sample_weight=w, drop_intermediate=True)
        precision, recall, pr_thresholds = precision_recall_curve(
            y_true, scores, sample_weight=w, drop_intermediate=False
        )
    out = {"name": name, "yTrue": y_true.tolist(), "scores": scores.tolist()}
    if note:
        out["note"] = note
    if w is not None:
        out["weights"] = w.tolist()
    out["roc"] = {"fpr": nums(fpr), "tpr": nums(tpr), "thresholds": nums(roc_thresholds)}
    out["pr"] = {"precision": nums(precision), "recall": nums(recall), "thresholds": nums(pr_thresholds)}
    return out


def main():
    rng = np.random.default_rng(SEED)
    cases = []

    cases.append(case("sklearn docstring example", [0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]))

    # Heavy ties: 400 rows on 11 distinct scores, labels drawn with P(1) rising with the score.
    n = 400
    tied = np.round(rng.uniform(0, 1, n), 1)
    y_tied = (rng.uniform(0, 1, n) < 0.15 + 0.7 * tied).astype(np.int64)
    cases.append(case("heavy ties, unweighted", y_tied, tied))

    # The same rows with real-valued sample weights, a fifth of them exactly 0 (those rows must
    # not count, and a score held only by zero-weight rows must not become a threshold).
    w = np.round(rng.uniform(0.1, 3.0, n), 3)
    w[rng.uniform(0, 1, n) < 0.2] = 0.0
    lonely = np.append(tied, [0.55, 0.55])
    y_lonely = np.append(y_tied, [1, 0])
    w_lonely = np.append(w, [0.0, 0.0])
    cases.append(
        case(
            "heavy ties, float weights with zeros",
            y_lonely,
            lonely,
            w_lonely,
            note="0.55 appears only on zero-weight rows: it is not a threshold",
        )
    )

    # Integer weights ("this row appears w times").
    w_int = rng.integers(0, 4, n)
    cases.append(case("heavy ties, integer weights", y_tied, tied, w_int))

    # Over 256 rows on about 1,000 distinct scores: the radix-sort path, and a curve long enough
    # to downsample.
    n = 3000
    many = np.round(rng.beta(2, 3, n), 3)
    y_many = (rng.uniform(0, 1, n) < many).astype(np.int64)
    cases.append(case("3000 rows, 3-decimal scores", y_many, many))
    w_many = np.round(rng.uniform(0.0, 2.0, n), 2)
    cases.append(case("3000 rows, 3-decimal scores, weighted", y_many, many, w_many))

    # Collinear runs (drop_intermediate removes the middle points), signed zeros and negatives.
    cases.append(
        case(
            "collinear runs and signed zeros",
            [0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1],
            [-2.0, -1.0, -0.0, 0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 1.5, 3.0],
        )
    )
    cases.append(case("every score tied", [0, 1, 1, 0, 1], [0.5] * 5))
    cases.append(case("perfect separation", [0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.8, 0.9]))
    cases.append(case("only negatives", [0, 0, 0, 0], [0.1, 0.4, 0.4, 0.9], note="tpr NaN, PR recall 1"))
    cases.append(case("only positives", [1, 1, 1], [0.2, 0.2, 0.7], note="fpr NaN"))

    reference = {
        "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(reference, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")


if __name__ == "__main__":
    main()
