"""Measures the committed model on the MNIST test split, through the upload path.

    .venv/bin/python -m model.evaluate [--write]

Each of the 10,000 test digits is rendered as a PNG (dark ink on light paper,
as a person would send it), preprocessed by the service's own code, and
classified by the numpy model. ``--write`` records the figures in
``model/weights/evaluation.json`` for the model card.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model.inference import DigitModel, load_model
from model.mnist_data import load_split, through_upload_path

EVALUATION_FILE = Path(__file__).resolve().parent / "weights" / "evaluation.json"


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    confusion: np.ndarray  # rows: true digit, columns: predicted digit
    count: int

    def to_dict(self, model: DigitModel) -> dict[str, object]:
        per_digit = self.confusion.diagonal() / self.confusion.sum(axis=1)
        return {
            "modelVersion": model.version,
            "sha256": model.sha256,
            "split": "MNIST test (10k), rendered as PNG and sent through the upload preprocessing",
            "count": self.count,
            "accuracy": round(self.accuracy, 5),
            "perDigitAccuracy": {str(d): round(float(a), 5) for d, a in enumerate(per_digit)},
            "confusion": self.confusion.tolist(),
        }


def evaluate(model: DigitModel, limit: int | None = None) -> Evaluation:
    digits, labels = load_split("test")
    if limit is not None:
        digits, labels = digits[:limit], labels[:limit]
    tensors = through_upload_path(digits)
    predicted = np.concatenate(
        [model.predict_proba(tensors[start : start + 256]).argmax(axis=1) for start in range(0, len(tensors), 256)]
    )
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    return Evaluation(float((predicted == labels).mean()), confusion, len(labels))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="record the figures in model/weights/evaluation.json")
    args = parser.parse_args()
    model = load_model()
    result = evaluate(model)
    print(f"{model.version}: accuracy {result.accuracy:.4%} on {result.count} test digits through the upload path")
    print("confusion (rows true 0-9, columns predicted 0-9):")
    for digit, row in enumerate(result.confusion):
        print(f"  {digit}: " + " ".join(f"{v:5d}" for v in row))
    if args.write:
        EVALUATION_FILE.write_text(json.dumps(result.to_dict(model), indent=2) + "\n")
        print(f"wrote {EVALUATION_FILE}")


if __name__ == "__main__":
    main()
