"""A tiny training job: a logistic regression on scikit-learn's breast-cancer data, exported to ONNX.

Run by the CI pipeline on every merge to main (see ci.sh). Writes `<out>/model.onnx` (one float
input [batch, 30], labels and probabilities as tensors: the registry's evaluator and the local
runtime read them as they are) and `<out>/metrics.json` (the training run's own held-out score,
recorded with the version; the registry's gates judge its own evaluation on the standard set).
"""
import argparse
import json
import os

from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="build")
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation strength")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    features, target = load_breast_cancer(return_X_y=True)
    # The team's standard evaluation set labels malignant as 1 (the positive class); scikit-learn's target is the reverse.
    labels = 1 - target
    train_x, test_x, train_y, test_y = train_test_split(features, labels, test_size=0.25, random_state=args.seed, stratify=labels)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=args.c, max_iter=5000, random_state=args.seed))
    model.fit(train_x, train_y)

    onnx_model = to_onnx(
        model,
        initial_types=[("input", FloatTensorType([None, features.shape[1]]))],
        options={id(model.steps[-1][1]): {"zipmap": False}},
        target_opset=17,
    )
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "model.onnx"), "wb") as f:
        f.write(onnx_model.SerializeToString())
    metrics = {"accuracy": round(float(model.score(test_x, test_y)), 6)}
    with open(os.path.join(args.out, "metrics.json"), "w") as f:
        json.dump({"metrics": metrics, "params": {"C": args.c, "seed": args.seed}}, f)
    print(f"trained: accuracy {metrics['accuracy']} (C={args.c}, seed={args.seed}) -> {args.out}/model.onnx")


if __name__ == "__main__":
    main()
