"""Training-step speed and memory: mgproto's models vs MMAction2's, side by side.

Each row is one fresh process running forward + backward of the summed per-stream
cross-entropy (train mode, no optimiser) on random inputs for a timing window: ours with this
interpreter, MMAction2's model with the oracle's (docs/oracle.md), one after the other, never
concurrently, both with the same thread count (``OMP_NUM_THREADS``, else torch's default).
Rows (``--which``):

- ``small``: RGBPoseConv3D at the ``small`` preset widths and the test-suite input size, RGB
  3x8x64x64 and heatmaps 17x32x16x16 (no configs/ file sets one), batch 8;
- ``paper``: the reference RGBPoseConv3D (36.0 M) at RGB 3x8x224x224, heatmaps 17x32x56x56,
  batch 1 on CPU (~5 s per step: 1 warm-up + 3 timed steps) and batch 8 on CUDA;
- ``stgcn``: ST-GCN++ (PYSKL's joint model, COCO-17 graph) on coordinates (M, T, V, C) =
  (1, 100, 17, 3), batch 16 (PYSKL's sizes) on both devices;
- ``swin_t`` / ``swin_b``: Video Swin-T / Swin-B at their real widths on RGB. On CUDA the
  MMAction2 recipe input, batch 8 x 3x32x224x224. On CPU that would take 10+ s per step, so
  batch 1 x 3x16x112x112 (swin_b: 1 warm-up + 3 timed steps). Stochastic depth 0.1 on both
  sides (what the oracle builds).

On CUDA, ours also runs under bf16 autocast (what the trainer does), RGBPoseConv3D also in
channels-last-3D memory format. Peak memory: on CPU the peak RSS during the warm-up and timed
steps over the RSS just before them (the high-water mark is reset first, tools/step_timer.py;
rows written before that carry ``"memory": "rss_delta"``, the growth of the process's peak RSS
over its post-build peak); on CUDA ``torch.cuda.max_memory_allocated`` (weights included). The
last column is max |ours - MMAction2| over backbone features and logits in eval mode for the
same (imported) weights, float32: RGBPoseConv3D batch 1 (CPU) / 2 (CUDA) on the device;
ST-GCN++ batch 2 x 100 frames and Swin batch 1 x 3x16x112x112, on the CPU.

    MGPROTO_ORACLE_PYTHON=.oracle/bin/python OMP_NUM_THREADS=1 python benchmarks/model.py \\
        --device cpu [--seconds 5] [--which small,paper,stgcn,swin_t,swin_b] [--no-diff]

Writes benchmarks/results/model.json: one entry per device, whose rows of the sizes measured
are replaced (the other sizes' rows are kept), written atomically.
"""

from __future__ import annotations

import argparse
import json
import os
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

from mgproto.build import model_from_config
from mgproto.config import load_config
from mgproto.models import Recognizer

HERE = Path(__file__).resolve().parent
SEED = 0
ROWS = {  # --which name -> model kind (oracle_models.py) and Video Swin arch
    "small": ("rgbpose", None),
    "paper": ("rgbpose", None),
    "stgcn": ("stgcn", None),
    "swin_t": ("swin", "tiny"),
    "swin_b": ("swin", "base"),
}
STREAMS = {"rgbpose": ("rgb", "pose"), "stgcn": ("pose",), "swin": ("rgb",)}
STGCN_COORDS = (1, 100, 17, 3)  # (M, T, V, C) per sample: PYSKL's 100-frame COCO-17 clips
SWIN_CLIP = {"cpu": (3, 16, 112, 112), "cuda": (3, 32, 224, 224)}  # (C, T, H, W)
SWIN_PATCH, SWIN_WINDOW = (2, 4, 4), (8, 7, 7)  # MMAction2 swin recipes
SWIN_DROP_PATH = 0.1  # oracle_models.py builds SwinTransformer3D with drop_path_rate 0.1


def sizes(which: str, device: str) -> dict:
    """Batch, per-sample input shapes and timing-window bounds of one row on one device."""
    kind = ROWS[which][0]
    if kind == "rgbpose":
        shapes = oc.input_shapes(which)
    elif kind == "stgcn":
        shapes = {"pose": STGCN_COORDS}
    else:
        shapes = {"rgb": SWIN_CLIP[device]}
    batch = 16 if kind == "stgcn" else 8
    if device == "cuda":
        return {"batch": batch, "shapes": shapes, "warmup": 5, "min_steps": 3, "max_steps": 10**6}
    if which in ("paper", "swin_b"):  # seconds per step on CPU: 1 warm-up + 3 timed steps
        return {"batch": 1, "shapes": shapes, "warmup": 1, "min_steps": 3, "max_steps": 3}
    batch = 1 if kind == "swin" else batch
    warmup = 1 if kind == "stgcn" else 2
    return {"batch": batch, "shapes": shapes, "warmup": warmup, "min_steps": 3,
            "max_steps": 10**6}  # fmt: skip


def row_spec(which: str, device: str, seconds: float) -> dict:
    """Everything both sides need to build and time one row (also the oracle's bench spec)."""
    kind, arch = ROWS[which]
    spec = {"preset": which, "kind": kind, "device": device, "num_classes": oc.NUM_CLASSES,
            "seed": SEED, "seconds": seconds, "widths": None, "cpu_memory": "step_peak",
            **sizes(which, device)}  # fmt: skip
    if kind == "rgbpose":
        spec.update(widths=oc.preset_widths(which), pose_channels=oc.POSE_CHANNELS)
    elif kind == "stgcn":
        spec["pose_channels"] = 3  # x, y, score
    else:
        spec.update(pose_channels=0, swin={"arch": arch, "patch_size": SWIN_PATCH,
                                           "window_size": SWIN_WINDOW})  # fmt: skip
    return spec


def variants(device: str, kind: str) -> list[dict]:
    """The implementations measured on ``device`` (the reference last)."""
    rows = [{"impl": "mgproto", "label": "mgproto fp32", "amp": False, "channels_last": False}]
    if device == "cuda":
        cl = kind == "rgbpose"  # channels-last-3D applies to the conv nets only
        rows.append({"impl": "mgproto", "label": "mgproto bf16" + ("+CL3d" if cl else ""),
                     "amp": True, "channels_last": cl})  # fmt: skip
    rows.append({"impl": "mmaction2", "label": "MMAction2 fp32", "amp": False,
                 "channels_last": False})  # fmt: skip
    return rows


# ---- one measurement, in a fresh process (`model.py --worker SPEC OUT`) ---------------------


def build_ours(spec: dict) -> Recognizer:
    """Our plain recognizer of one row (no fusion, no prototypes)."""
    if spec["kind"] == "rgbpose":
        return oc.build_ours("rgbpose", spec["preset"], num_classes=spec["num_classes"])
    sets = [f"data.num_classes={spec['num_classes']}"]
    if spec["kind"] == "stgcn":
        sets += ["data.modalities=[pose]", "data.pose.representation=coords",
                 "model.arch=stgcn", "data.pose.layout=coco17"]  # fmt: skip
    else:
        window = ",".join(str(w) for w in spec["swin"]["window_size"])
        sets += ["data.modalities=[rgb]", "model.arch=swin",
                 f"model.swin.arch={spec['swin']['arch']}", f"model.swin.window_size=[{window}]",
                 f"model.swin.drop_path={SWIN_DROP_PATH}"]  # fmt: skip
    return model_from_config(load_config(None, sets))


def bench_ours(spec: dict) -> dict:
    """Our model: forward + backward clips/s and peak memory (see module doc)."""
    device = torch.device(spec["device"])
    torch.manual_seed(spec["seed"])
    model = build_ours(spec).to(device).train()
    gen = torch.Generator().manual_seed(spec["seed"])
    n, streams = spec["batch"], model.streams
    inputs = {s: torch.randn(n, *spec["shapes"][s], generator=gen).to(device) for s in streams}
    labels = torch.randint(0, spec["num_classes"], (n,), generator=gen).to(device)
    if spec["channels_last"]:
        model.to(memory_format=torch.channels_last_3d)
        inputs = {s: x.contiguous(memory_format=torch.channels_last_3d) for s, x in inputs.items()}
    if spec["kind"] == "stgcn":
        kwargs = {"coords": inputs["pose"]}  # (N, M, T, V, C)
    else:
        kwargs = {"imgs": inputs.get("rgb"), "heatmaps": inputs.get("pose")}  # (N, C, T, H, W)
    amp = torch.autocast(device.type, dtype=torch.bfloat16, enabled=spec["amp"])

    def step() -> None:
        model.zero_grad(set_to_none=True)
        with amp:
            logits = model(**kwargs).logits
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
        return oc.run_oracle("bench", spec, oracle=oracle, workdir=workdir)
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
    kind, arch = ROWS[which]
    if kind == "stgcn":  # on the CPU, whatever the device
        frames = STGCN_COORDS[1]
        parity = oc.check_stgcn_parity(oracle=oracle, dtype="float32", batch=2, frames=frames)
        return {"mgproto fp32": parity.diffs}
    if kind == "swin":  # on the CPU at the CPU rows' clip size, whatever the device
        _, frames, size, _ = SWIN_CLIP["cpu"]
        parity = oc.check_swin_parity(oracle=oracle, arch=arch, dtype="float32", batch=1,
                                      frames=frames, size=size, window=SWIN_WINDOW)  # fmt: skip
        return {"mgproto fp32": parity.diffs}
    batch = 1 if device == "cpu" else 2
    ref = oc.export_reference("rgbpose", which, oracle=oracle, dtype="float32", batch=batch,
                              seed=SEED, device=device)  # fmt: skip
    diffs = {"mgproto fp32": oc.compare(ref, device=device).diffs}
    if device == "cuda":
        diffs["mgproto bf16+CL3d"] = oc.compare(ref, device=device, amp=True,
                                                channels_last=True).diffs  # fmt: skip
    return diffs


def diff_device(which: str, device: str) -> str:
    """Where :func:`output_diffs` computes one row's comparison."""
    return device if ROWS[which][0] == "rgbpose" else "cpu"


# ---- the table --------------------------------------------------------------------------------


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def describe(spec: dict) -> str:
    """The per-sample inputs of one row, in words."""
    shapes = spec["shapes"]
    if spec["kind"] == "stgcn":
        return f"coords {shapes['pose']} (M, T, V, C)"
    names = {"rgb": "RGB", "pose": "heatmaps"}
    return ", ".join(f"{names[s]} {shapes[s]}" for s in STREAMS[spec["kind"]]) + " (C, T, H, W)"


def merge_rows(out: Path, device: str, meta: dict, rows: list[dict]) -> None:
    """Replace ``device``'s rows of the sizes in ``rows`` in ``out``, keep its other rows."""
    runs = {}
    if out.is_file():
        try:
            runs = json.loads(out.read_text()).get("runs", {})
        except (json.JSONDecodeError, AttributeError):
            runs = {}
    measured = {r["size"] for r in rows}
    kept = [r for r in runs.get(device, {}).get("rows", []) if r.get("size") not in measured]
    order = list(ROWS)
    merged = sorted(kept + rows, key=lambda r: order.index(r["size"]) if r["size"] in ROWS else 99)
    runs[device] = {"meta": meta, "rows": merged}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"runs": runs}, indent=2))
    tmp.replace(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"],
                        default="cuda" if torch.cuda.is_available() else "cpu")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=5.0,
                        help="timing window per row (CPU paper, swin_b: 3 steps)")  # fmt: skip
    parser.add_argument("--which", default="small,paper",
                        help=f"comma-separated: {', '.join(ROWS)}")  # fmt: skip
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
    bad = [w for w in which if w not in ROWS]
    if bad or not which:
        parser.error(f"--which: comma-separated subset of {', '.join(ROWS)}; got {args.which!r}")
    oracle = oc.oracle_python()
    if not oracle:
        print("MGPROTO_ORACLE_PYTHON not set: measuring mgproto only (see docs/oracle.md)")
    rows = []
    header = (f"{'size':<7}{'batch':>6}  {'implementation':<19}{'clips/s':>9}{'peak MB':>10}"
              f"{'speed ours/ref':>16}{'mem ours/ref':>14}{'max|diff|':>11}")  # fmt: skip
    mem_note = ("peak RSS of the steps over the RSS before them" if args.device == "cpu"
                else "torch.cuda.max_memory_allocated")  # fmt: skip
    print(f"device {args.device}; forward+backward, train mode; peak MB = {mem_note}")
    with tempfile.TemporaryDirectory(prefix="mgproto_bench_") as tmp:
        for size in which:
            spec = row_spec(size, args.device, args.seconds)
            group = []
            for variant in variants(args.device, spec["kind"]):
                if variant["impl"] == "mmaction2" and not oracle:
                    continue
                res = measure(variant, spec, oracle=oracle, workdir=Path(tmp))
                group.append({"size": size, "batch": spec["batch"], "label": variant["label"],
                              "impl": variant["impl"], "amp": variant["amp"],
                              "channels_last": variant["channels_last"],
                              **{f"{s}_input": list(x) for s, x in spec["shapes"].items()},
                              **res})  # fmt: skip
            diffs = output_diffs(size, args.device, oracle) if oracle and not args.no_diff else {}
            if args.device == "cuda":
                torch.cuda.empty_cache()  # the next rows' processes get the whole GPU
            ref = next((r for r in group if r["impl"] == "mmaction2"), None)
            print(f"\n{size}: {describe(spec)}; threads: "
                  + ", ".join(f"{r['label']} {r['threads']}" for r in group))  # fmt: skip
            print(header)
            for r in group:
                if ref is not None and r is not ref:
                    r["speed_ratio"] = r["clips_per_s"] / ref["clips_per_s"]
                    r["memory_ratio"] = r["peak_mb"] / ref["peak_mb"] if ref["peak_mb"] else None
                if r["label"] in diffs:
                    r["output_diffs"] = diffs[r["label"]]
                    r["max_abs_diff"] = max(diffs[r["label"]].values())
                    r["diff_device"] = diff_device(size, args.device)
                print(f"{size:<7}{r['batch']:>6}  {r['label']:<19}{r['clips_per_s']:>9.2f}"
                      f"{r['peak_mb']:>10.0f}{_fmt(r.get('speed_ratio'), '.2f'):>16}"
                      f"{_fmt(r.get('memory_ratio'), '.2f'):>14}"
                      f"{_fmt(r.get('max_abs_diff'), '.1e'):>11}")  # fmt: skip
            rows.extend(group)
    meta = {
        "benchmark": "model",
        "device": args.device,
        "device_name": torch.cuda.get_device_name() if args.device == "cuda" else
        (platform.processor() or platform.machine()),
        "threads": "per row: torch.get_num_threads() (OMP_NUM_THREADS, else torch's default)",
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "memory": mem_note,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "seconds": args.seconds,
        "last_measured": which,
    }  # fmt: skip
    out = Path(args.out)
    merge_rows(out, args.device, meta, rows)
    print(f"\nwrote {out} ({args.device} entry: {', '.join(which)} rows replaced)")


if __name__ == "__main__":
    main()
