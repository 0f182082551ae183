"""Data-path speed: two-stream samples/s of decode + sample + transform + heatmaps.

Measures the training loader with 0, 1 and 2 workers for

- the demo preset (the synthetic `small` benchmark with configs/synthetic/paper.yaml), and
- paper-size inputs (RGB 8x224x224 from 256x256 videos, heatmaps 32x56x56): the same clips
  upscaled to 256x256 and re-encoded once into a temporary folder,

and, for the demo preset, the samples/s that one CPU training step of the demo model consumes,
so the table shows whether the loader can keep up (target: at least 3x).

    python benchmarks/loader.py [--annotations work/synthetic/small/annotations.pkl]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mgproto.build import model_from_config
from mgproto.config import load_config
from mgproto.data.annotations import AnnotationFile, save_annotations
from mgproto.data.geometry import resize_frames
from mgproto.data.loader import load_split, train_loader
from mgproto.data.video import probe_video, read_frames, write_video
from mgproto.losses import Objective

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def loader_rate(cfg, records, root, *, workers: int, batches: int, batch_size: int) -> float:
    """Samples/s of the training loader over ``batches`` batches (after one warm-up batch)."""
    loader = train_loader(
        cfg.data, records, root, batch_size=batch_size, num_workers=workers, seed=0
    )
    loader.batch_sampler.set_epoch(0)
    it = iter(loader)
    next(it)
    start, n = time.perf_counter(), 0
    for _ in range(batches):
        try:
            batch = next(it)
        except StopIteration:
            break
        n += len(batch["frame_dir"])
    return n / (time.perf_counter() - start)


def step_rate(cfg, records, root, *, batch_size: int, steps: int = 4) -> float:
    """Samples/s one CPU training step of the config's model consumes (fwd + bwd + SGD)."""
    loader = train_loader(cfg.data, records, root, batch_size=batch_size, num_workers=0, seed=0)
    loader.batch_sampler.set_epoch(0)
    batch = next(iter(loader))
    model = model_from_config(cfg)
    objective = Objective(model, prototype=cfg.model.prototype).train()
    opt = torch.optim.SGD(objective.parameters(), lr=1e-3, momentum=0.9)
    for i in range(steps + 1):
        if i == 1:
            start = time.perf_counter()
        loss, _, _ = objective(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return steps * batch_size / (time.perf_counter() - start)


def upscale_dataset(records, root: Path, out: Path, *, size: int, limit: int) -> list[dict]:
    """The first ``limit`` clips re-encoded at size x size (keypoints scaled alike)."""
    new = []
    for rec in records[:limit]:
        path = root / rec["filename"]
        frames = read_frames(path, np.arange(probe_video(path).num_frames))
        h, w = frames.shape[1:3]
        write_video(out / rec["filename"], resize_frames(frames, (size, size)), fps=25)
        kp = rec["keypoint"] * np.array([size / w, size / h], np.float32)
        new.append(
            {**rec, "keypoint": kp, "img_shape": (size, size), "original_shape": (size, size)}
        )
    save_annotations(
        AnnotationFile(new, {"train": [r["frame_dir"] for r in new]}), out / "annotations.pkl"
    )
    return new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", default="work/synthetic/small/annotations.pkl")
    parser.add_argument("--config", default=str(ROOT / "configs" / "synthetic" / "paper.yaml"))
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--out", default=str(HERE / "results" / "loader.json"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    cfg = load_config(args.config, [f"data.annotations={args.annotations}"])
    records, root, _ = load_split(cfg.data, cfg.data.train_split)
    rows = []
    print(f"{'input':<34}{'workers':>8}{'samples/s':>12}")
    demo_rates = {}
    for workers in (0, 1, 2):
        rate = loader_rate(
            cfg, records, root, workers=workers, batches=args.batches, batch_size=args.batch_size
        )
        demo_rates[workers] = rate
        rows.append({"input": "demo (synthetic small)", "workers": workers, "samples_per_s": rate})
        print(f"{'demo (synthetic small)':<34}{workers:>8}{rate:>12.1f}")
    consumed = step_rate(cfg, records, root, batch_size=args.batch_size)
    print(
        f"demo model training step consumes {consumed:.1f} samples/s; best loader / step = "
        f"{max(demo_rates.values()) / consumed:.1f}x (target >= 3x)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        big = upscale_dataset(
            records, root, Path(tmp), size=256, limit=args.batch_size * (args.batches + 2)
        )
        paper = dataclasses.replace(
            cfg.data,
            rgb=dataclasses.replace(cfg.data.rgb, pre_crop_size=256, train_size=224, test_size=256),
            pose=dataclasses.replace(cfg.data.pose, train_size=56, test_size=64),
        )
        pcfg = dataclasses.replace(cfg, data=paper)
        for workers in (0, 1, 2):
            rate = loader_rate(
                pcfg,
                big,
                Path(tmp),
                workers=workers,
                batches=args.batches,
                batch_size=args.batch_size,
            )
            rows.append(
                {
                    "input": "paper size (8x224^2 RGB, 32x56^2 pose)",
                    "workers": workers,
                    "samples_per_s": rate,
                }
            )
            print(f"{'paper size 8x224^2 + 32x56^2':<34}{workers:>8}{rate:>12.1f}")
    result = {
        "meta": {
            "benchmark": "loader",
            "batch_size": args.batch_size,
            "cpu": platform.machine(),
            "torch_threads": torch.get_num_threads(),
            "config": args.config,
        },
        "rows": rows,
        "demo_step_samples_per_s": consumed,
        "demo_loader_over_step": max(demo_rates.values()) / consumed,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
