"""Trains the digit model and exports numpy weights (PyTorch, CPU, training only).

    make train VERSION=v3   # or: .venv-train/bin/python -m model.train --version v3

Every training digit goes through the project's own preprocessing, as an
upload would: once as a clean PNG, and once re-drawn as a "real upload"
(a canvas export with a thick stroke, or a photo of ink on tinted paper under
uneven light, JPEG-compressed, somewhere on a larger sheet). On top of that,
each batch is randomly rotated, scaled, sheared, shifted and made thicker or
thinner. Only the 60k training split is used; the 10k test split is touched
once, at the end, to measure.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import multiprocessing
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 - PyTorch's convention
from PIL import Image, ImageFilter
from torch import nn

from functions.core.errors import DigitError
from functions.core.imaging import preprocess
from model.inference import DigitModel
from model.mnist_data import as_png, load_split, through_upload_path

MODEL_DIR = Path(__file__).resolve().parent
CACHE_DIR = MODEL_DIR / ".cache"


class Net(nn.Module):
    """The architecture model/inference.py runs in numpy."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16)
        self.conv2, self.bn2 = nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32)
        self.conv3, self.bn3 = nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64)
        self.dense1 = nn.Linear(64 * 5 * 5, 128)
        self.dense2 = nn.Linear(128, 10)
        self.dropout = nn.Dropout(0.3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        x = self.dropout(F.relu(self.dense1(x.flatten(1))))
        return self.dense2(x)


def realistic_upload(digit: np.ndarray, rng: np.random.Generator) -> bytes:
    """The digit as a canvas drawing or a phone photo of paper."""
    scale = int(rng.integers(4, 11))
    big = Image.fromarray(digit, "L").resize((28 * scale, 28 * scale), Image.Resampling.BILINEAR)
    thickness = int(rng.integers(0, scale + 1)) // 2 * 2 + 1
    if thickness > 1:
        big = big.filter(ImageFilter.MaxFilter(thickness))
    ink = np.asarray(big, dtype=np.float32) / 255.0
    buffer = io.BytesIO()
    if rng.random() < 0.4:
        rgba = np.zeros((*ink.shape, 4), dtype=np.uint8)
        rgba[:, :, :3] = 0 if rng.random() < 0.8 else 255
        rgba[:, :, 3] = np.clip(ink * 255.0, 0, 255).astype(np.uint8)
        Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
        return buffer.getvalue()
    sheet_h, sheet_w = (int(side * rng.uniform(1.0, 2.5)) for side in ink.shape)
    top = int(rng.integers(0, sheet_h - ink.shape[0] + 1))
    left = int(rng.integers(0, sheet_w - ink.shape[1] + 1))
    alpha = np.zeros((sheet_h, sheet_w), dtype=np.float32)
    alpha[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    paper = rng.uniform(150, 255, size=3)
    ink_colour = rng.uniform(0, 110, size=3)
    if rng.random() < 0.2:
        paper, ink_colour = ink_colour, paper
    rows, cols = np.mgrid[0:sheet_h, 0:sheet_w].astype(np.float32)
    light = 1.0 - rng.uniform(0, 0.35) * (rows / sheet_h if rng.random() < 0.5 else cols / sheet_w)
    image = (paper * (1 - alpha[..., None]) + ink_colour * alpha[..., None]) * light[..., None]
    image += rng.normal(0, rng.uniform(0, 10), size=image.shape)
    Image.fromarray(np.clip(image, 0, 255).astype(np.uint8), "RGB").save(
        buffer, "JPEG", quality=int(rng.integers(40, 95))
    )
    return buffer.getvalue()


def _realistic_tensors(job: tuple[np.ndarray, int]) -> np.ndarray:
    digits, seed = job
    rng = np.random.default_rng(seed)
    out = np.zeros((len(digits), 28, 28), dtype=np.float32)
    for index, digit in enumerate(digits):
        try:
            out[index] = preprocess(realistic_upload(digit, rng)).tensor
        except DigitError:
            out[index] = preprocess(as_png(digit)).tensor
    return out


def _clean_tensors(digits: np.ndarray) -> np.ndarray:
    return through_upload_path(digits)


def training_tensors(seed: int, workers: int) -> tuple[np.ndarray, np.ndarray]:
    """The 60k training digits through the upload path, clean and realistic (cached)."""
    CACHE_DIR.mkdir(exist_ok=True)
    source = hashlib.sha256((MODEL_DIR.parent / "functions/core/imaging.py").read_bytes()).hexdigest()[:12]
    cache = CACHE_DIR / f"train-{source}-{seed}.npz"
    if cache.exists():
        with np.load(cache) as data:
            return data["images"], data["labels"]
    digits, labels = load_split("train")
    chunks = np.array_split(np.arange(len(digits)), 120)
    with multiprocessing.Pool(workers) as pool:
        clean = np.concatenate(pool.map(_clean_tensors, [digits[c] for c in chunks]))
        realistic = np.concatenate(
            pool.map(_realistic_tensors, [(digits[c], seed * 1000 + i) for i, c in enumerate(chunks)])
        )
    images = np.concatenate([clean, realistic])
    all_labels = np.concatenate([labels, labels])
    np.savez_compressed(cache, images=images, labels=all_labels)
    return images, all_labels


def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random affine distortion and stroke thickness, on the 28x28 tensors."""
    n = batch.shape[0]

    def uniform(low: float, high: float) -> torch.Tensor:
        return torch.rand(n, generator=generator) * (high - low) + low

    angle = uniform(-0.2, 0.2)
    scale = uniform(0.88, 1.12)
    shear = uniform(-0.2, 0.2)
    shift_x, shift_y = uniform(-0.12, 0.12), uniform(-0.12, 0.12)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, shift_x], 1), torch.stack([sin, cos, shift_y], 1)], 1)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    warped = F.grid_sample(batch, grid, align_corners=False, padding_mode="zeros")
    choice = torch.rand(n, generator=generator)
    thicker = F.max_pool2d(warped, 3, 1, 1)
    thinner = -F.max_pool2d(-warped, 3, 1, 1)
    warped = torch.where((choice < 0.15).view(-1, 1, 1, 1), thicker, warped)
    warped = torch.where((choice > 0.9).view(-1, 1, 1, 1), thinner, warped)
    return warped


def export(net: Net, version: str) -> dict[str, np.ndarray]:
    """Folds batch norm into the convolutions and lays weights out for model/inference.py."""
    params: dict[str, np.ndarray] = {}
    for name, conv, bn in (("conv1", net.conv1, net.bn1), ("conv2", net.conv2, net.bn2), ("conv3", net.conv3, net.bn3)):
        factor = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach()
        weight = conv.weight.detach() * factor.view(-1, 1, 1, 1)
        bias = (conv.bias.detach() - bn.running_mean) * factor + bn.bias.detach()
        params[f"{name}.w"] = weight.reshape(weight.shape[0], -1).T.numpy()
        params[f"{name}.b"] = bias.numpy()
    dense1 = net.dense1.weight.detach().reshape(128, 64, 5, 5).permute(0, 2, 3, 1).reshape(128, -1)
    params["dense1.w"] = dense1.T.numpy()
    params["dense1.b"] = net.dense1.bias.detach().numpy()
    params["dense2.w"] = net.dense2.weight.detach().T.numpy()
    params["dense2.b"] = net.dense2.bias.detach().numpy()
    return {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in params.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--version", required=True, help="the new weights' version id, e.g. v3")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.workers)
    generator = torch.Generator().manual_seed(args.seed)
    started = time.time()
    images, labels = training_tensors(args.seed, args.workers)
    print(f"training tensors: {len(images)} in {time.time() - started:.0f}s", flush=True)

    x = torch.from_numpy(images).unsqueeze(1)
    y = torch.from_numpy(labels)
    net = Net()
    optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3, weight_decay=1e-4)
    steps = args.epochs * (len(x) // args.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=steps)
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(x), generator=generator)
        total, correct, loss_sum = 0, 0, 0.0
        for start in range(0, len(x) - args.batch_size + 1, args.batch_size):
            index = order[start : start + args.batch_size]
            batch = augment(x[index], generator)
            logits = net(batch)
            loss = F.cross_entropy(logits, y[index], label_smoothing=0.05)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += loss.item() * len(index)
            correct += int((logits.argmax(1) == y[index]).sum())
            total += len(index)
        print(
            f"epoch {epoch + 1}/{args.epochs}: loss {loss_sum / total:.4f} train acc {correct / total:.4f} "
            f"({time.time() - started:.0f}s)",
            flush=True,
        )

    net.eval()
    params = export(net, args.version)
    weights_dir = MODEL_DIR / "weights"
    weights_dir.mkdir(exist_ok=True)
    for old in weights_dir.glob("digits-*.npz"):
        old.unlink()
    path = weights_dir / f"digits-{args.version}.npz"
    np.savez(path, version=np.array(args.version), **params)
    model = DigitModel.load(path)
    check = torch.from_numpy(images[:256]).unsqueeze(1)
    with torch.no_grad():
        reference = F.softmax(net(check), 1).numpy()
    drift = float(np.abs(model.predict_proba(images[:256]) - reference).max())
    print(f"exported {path.name} sha256 {model.sha256}; numpy vs torch max difference {drift:.2e}")
    (weights_dir / "training.json").write_text(
        json.dumps(
            {
                "version": args.version,
                "sha256": model.sha256,
                "seed": args.seed,
                "epochs": args.epochs,
                "batchSize": args.batch_size,
                "trainingExamples": int(len(images)),
                "seconds": round(time.time() - started),
                "torch": torch.__version__,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
