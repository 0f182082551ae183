"""Training-step speed and memory: mgproto's RGBPoseConv3D vs MMAction2's, side by side.

Each row is one fresh process running forward + backward of the summed per-stream
cross-entropy (train mode, no optimiser) on random inputs for a timing window: ours with this
interpreter, MMAction2's RGBPoseConv3D + RGBPoseHead with the oracle's (docs/oracle.md), one
after the other, never concurrently, both with torch's default thread count. Sizes:

- ``small``: the ``small`` preset widths at the test-suite input size, RGB 3x8x64x64 and
  heatmaps 17x32x16x16 (no configs/ file sets one), batch 8;
- ``paper``: the reference RGBPoseConv3D (36.0 M) at RGB 3x8x224x224, heatmaps 17x32x56x56,
  batch 1 on CPU (~5 s per step: 1 warm-up + 3 timed steps) and batch 8 on CUDA.

On CUDA, ours also runs in channels-last-3D memory format under bf16 autocast (what the trainer
does). Peak memory: on CPU the growth of the process's peak RSS over its baseline after the
model and inputs are built; on CUDA ``torch.cuda.max_memory_allocated`` (weights included).
The last column is max |ours - MMAction2| over backbone features and logits in eval mode for the
same (imported) weights, batch 1 (CPU) / 2 (CUDA), float32.

    MGPROTO_ORACLE_PYTHON=.oracle/bin/python python benchmarks/model.py --device cpu \\
        [--seconds 5] [--which small,paper] [--no-diff]

Writes benchmarks/results/model.json (one entry per device, replaced atomically).
"""

from __future__ import annotations

import argparse
import json
import pickle
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: tools/
from tools import oracle_client as oc
from tools.step_timer import time_steps

HERE = Path(__file__).resolve().parent
SEED = 0


def sizes(which: str, device: str) -> dict:
    """Batch, input shapes and timing-window bounds of one size on one device."""
    shapes = oc.input_shapes(which)
    if device == "cpu" and which == "paper":
        return {"batch": 1, "shapes": shapes, "warmup": 1, "min_steps": 3, "max_steps": 3}
    warmup = 2 if device == "cpu" else 5
    return {"batch": 8, "shapes": shapes, "warmup": warmup, "min_steps": 3, "max_steps": 10**6}


def variants(device: str) -> list[dict]:
    """The implementations measured on ``device`` (the reference last)."""
    rows = [{"impl": "mgproto", "label": "mgproto fp32", "amp": False, "channels_last": False}]
    if device == "cuda":
        rows.append({"impl": "mgproto", "label": "mgproto bf16+CL3d", "amp": True,
                     "channels_last": True})  # fmt: skip
    rows.append({"impl": "mmaction2", "label": "MMAction2 fp32", "amp": False,
                 "channels_last": False})  # fmt: skip
    return rows


# ---- one measurement, in a fresh process (`model.py --worker SPEC OUT`) ---------------------


def bench_ours(spec: dict) -> dict:
    """Our two-stream model: forward + backward clips/s and peak memory (see module doc)."""
    device = torch.device(spec["device"])
    torch.manual_seed(spec["seed"])
    model = oc.build_ours("rgbpose", spec["preset"], num_classes=spec["num_classes"])
    model.to(device).train()
    gen = torch.Generator().manual_seed(spec["seed"])
    n, streams = spec["batch"], model.modalities
    inputs = {s: torch.randn(n, *spec["shapes"][s], generator=gen).to(device) for s in streams}
    labels = torch.randint(0, spec["num_classes"], (n,), generator=gen).to(device)
    if spec["channels_last"]:
        model.to(memory_format=torch.channels_last_3d)
        inputs = {s: x.contiguous(memory_format=torch.channels_last_3d) for s, x in inputs.items()}
    amp = torch.autocast(device.type, dtype=torch.bfloat16, enabled=spec["amp"])

    def step() -> None:
        model.zero_grad(set_to_none=True)
        with amp:
            logits = model(imgs=inputs["rgb"], heatmaps=inputs["pose"]).logits
            loss = sum(F.cross_entropy(logits[s].float(), labels) for s in streams)
        loss.backward()

    return time_steps(step, device=device, spec=spec, clips=n)


def worker(spec_path: str, out_path: str) -> None:
    spec = pickle.loads(Path(spec_path).read_bytes())
    Path(out_path).write_bytes(pickle.dumps(bench_ours(spec)))


def measure(variant: dict, spec: dict, *, oracle: str | None, workdir: Path) -> dict:
    """Run one variant in a fresh process (ours: this interpreter; MMAction2: the oracle)."""
    spec = {**spec, "amp": variant["amp"], "channels_last": variant["channels_last"]}
    if variant["impl"] == "mmaction2":
        return oc.run_oracle("bench", {**spec, "kind": "rgbpose"}, oracle=oracle, workdir=workdir)
    spec_path, out_path = workdir / "ours_spec.pkl", workdir / "ours_out.pkl"
    spec_path.write_bytes(pickle.dumps(spec))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", str(spec_path), str(out_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"mgproto worker failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    return pickle.loads(out_path.read_bytes())


# ---- parity of the outputs for the same weights ---------------------------------------------


def output_diffs(which: str, device: str, oracle: str) -> dict[str, dict[str, float]]:
    """label -> {output: max |ours - MMAction2|} in eval mode, same imported weights, fp32."""
    batch = 1 if device == "cpu" else 2
    ref = oc.export_reference("rgbpose", which, oracle=oracle, dtype="float32", batch=batch,
                              seed=SEED, device=device)  # fmt: skip
    diffs = {"mgproto fp32": oc.compare(ref, device=device).diffs}
    if device == "cuda":
        diffs["mgproto bf16+CL3d"] = oc.compare(ref, device=device, amp=True,
                                                channels_last=True).diffs  # fmt: skip
    return diffs


# ---- the table --------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"],
                        default="cuda" if torch.cuda.is_available() else "cpu")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="timing window per row (paper on CPU: always 3 steps)")  # fmt: skip
    parser.add_argument("--which", default="small,paper", help="comma-separated: small, paper")
    parser.add_argument("--no-diff", action="store_true", help="skip the output comparison")
    parser.add_argument("--out", default=str(HERE / "results" / "model.json"))
    parser.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: torch.cuda.is_available() is False here")
    which = [w.strip() for w in args.which.split(",") if w.strip()]
    bad = [w for w in which if w not in ("small", "paper")]
    if bad or not which:
        parser.error(f"--which: comma-separated subset of small, paper; got {args.which!r}")
    oracle = oc.oracle_python()
    if not oracle:
        print("MGPROTO_ORACLE_PYTHON not set: measuring mgproto only (see docs/oracle.md)")
    rows = []
    header = (f"{'size':<6}{'batch':>6}  {'implementation':<19}{'clips/s':>9}{'peak MB':>10}"
              f"{'speed ours/ref':>16}{'mem ours/ref':>14}{'max|diff|':>11}")  # fmt: skip
    mem_note = ("peak RSS growth over the post-build baseline" if args.device == "cpu"
                else "torch.cuda.max_memory_allocated")  # fmt: skip
    print(f"device {args.device}; forward+backward, train mode; peak MB = {mem_note}")
    with tempfile.TemporaryDirectory(prefix="mgproto_bench_") as tmp:
        for size in which:
            spec = {"preset": size, "widths": oc.preset_widths(size), "device": args.device,
                    "pose_channels": oc.POSE_CHANNELS, "num_classes": oc.NUM_CLASSES,
                    "seed": SEED, "seconds": args.seconds, **sizes(size, args.device)}  # fmt: skip
            group = []
            for variant in variants(args.device):
                if variant["impl"] == "mmaction2" and not oracle:
                    continue
                res = measure(variant, spec, oracle=oracle, workdir=Path(tmp))
                group.append({"size": size, "batch": spec["batch"], "label": variant["label"],
                              "impl": variant["impl"], "amp": variant["amp"],
                              "channels_last": variant["channels_last"],
                              "rgb_input": list(spec["shapes"]["rgb"]),
                              "pose_input": list(spec["shapes"]["pose"]), **res})  # fmt: skip
            diffs = output_diffs(size, args.device, oracle) if oracle and not args.no_diff else {}
            if args.device == "cuda":
                torch.cuda.empty_cache()  # the next rows' processes get the whole GPU
            ref = next((r for r in group if r["impl"] == "mmaction2"), None)
            print(f"\n{size}: RGB {spec['shapes']['rgb']}, heatmaps {spec['shapes']['pose']}"
                  f" (C, T, H, W); threads: " + ", ".join(
                      f"{r['label']} {r['threads']}" for r in group))  # fmt: skip
            print(header)
            for r in group:
                if ref is not None and r is not ref:
                    r["speed_ratio"] = r["clips_per_s"] / ref["clips_per_s"]
                    r["memory_ratio"] = r["peak_mb"] / ref["peak_mb"] if ref["peak_mb"] else None
                if r["label"] in diffs:
                    r["output_diffs"] = diffs[r["label"]]
                    r["max_abs_diff"] = max(diffs[r["label"]].values())
                print(f"{size:<6}{r['batch']:>6}  {r['label']:<19}{r['clips_per_s']:>9.2f}"
                      f"{r['peak_mb']:>10.0f}{_fmt(r.get('speed_ratio'), '.2f'):>16}"
                      f"{_fmt(r.get('memory_ratio'), '.2f'):>14}"
                      f"{_fmt(r.get('max_abs_diff'), '.1e'):>11}")  # fmt: skip
            rows.extend(group)
    meta = {
        "benchmark": "model",
        "device": args.device,
        "device_name": torch.cuda.get_device_name() if args.device == "cuda" else
        (platform.processor() or platform.machine()),
        "threads": "torch default (torch.get_num_threads() per row)",
        "memory": mem_note,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "seconds": args.seconds,
    }  # fmt: skip
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    runs = {}
    if out.is_file():
        try:
            runs = json.loads(out.read_text()).get("runs", {})
        except (json.JSONDecodeError, AttributeError):
            runs = {}
    runs[args.device] = {"meta": meta, "rows": rows}
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"runs": runs}, indent=2))
    tmp.replace(out)
    print(f"\nwrote {out} ({args.device} entry)")


if __name__ == "__main__":
    main()
