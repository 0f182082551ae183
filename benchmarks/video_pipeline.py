"""Raw-video pipeline speed on CPU: pose extraction and timeline classification, frames/s.

- **Pose extraction** (MediaPipe, `mgproto extract-pose`): a 640x480 video of a real person
  (matplotlib's sample photograph, drifting slowly so the tracker works every frame), for the
  `coco17` layout (Pose) and `imigue22` (Holistic: pose + hands). Skipped without mediapipe.
- **Classification** (`mgproto predict` without extraction): a stitched synthetic interview
  scaled to 640x480 (frames and keypoints), with the demo's two-stream model (`small` preset,
  configs/synthetic/paper.yaml) and, for reference, pose-only and the paper-size two-stream
  model (configs/imigue/paper.yaml: 8x224^2 RGB, 32x56^2 heatmaps); windows of 2 s every 0.5 s, one
  clip per window. Weights are random: speed does not depend on them. Includes decoding, the
  test pipeline, heatmaps and the forward passes; the annotated video is timed separately.

Target: classification faster than real time (25 frames/s) for the small preset on 2 cores.

    python benchmarks/video_pipeline.py [--annotations work/synthetic/small/annotations.pkl]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from mgproto.build import model_from_config
from mgproto.config import load_config
from mgproto.data.annotations import load_annotations
from mgproto.data.synthetic import generate_dataset
from mgproto.data.video import VideoWriter, iter_frames
from mgproto.fileio import atomic_write_text
from mgproto.infer.predict import PredictOptions, predict_video
from mgproto.infer.stitch import stitch_dataset
from mgproto.report.timeline_video import render_annotated_video

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZE = (480, 640)  # (H, W)
PAPER = ["data.num_classes=15", "data.pose.layout=imigue22"]  # the iMiGUE paper config


def person_video(path: Path, num_frames: int) -> Path:
    """A 640x480 video of matplotlib's sample photo of a person, drifting a few pixels."""
    import matplotlib.cbook
    from PIL import Image

    photo = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB")
    photo = photo.resize((round(photo.width * 440 / photo.height), 440))
    with VideoWriter(path, fps=25) as writer:
        for t in range(num_frames):
            canvas = Image.new("RGB", (SIZE[1], SIZE[0]), (90, 90, 100))
            canvas.paste(photo, (160 + round(8 * np.sin(t / 10)), 20))
            writer.write(np.asarray(canvas))
    return path


def upscale_interview(src: Path, out: Path) -> tuple[Path, dict]:
    """The stitched video letter-boxed into 640x480, and its pose record scaled alike."""
    rec = load_annotations(src / "pose.pkl").annotations[0]
    h, w = rec["img_shape"]
    scale = SIZE[0] / h
    new_w = round(w * scale)
    pad = (SIZE[1] - new_w) // 2
    with VideoWriter(out / "video.mp4", fps=25) as writer:
        for _, image in iter_frames(src / "video.mp4", size=(SIZE[0], new_w)):
            canvas = np.zeros((*SIZE, 3), np.uint8)
            canvas[:, pad : pad + new_w] = image
            writer.write(canvas)
    kp = rec["keypoint"] * scale + np.array([pad, 0], np.float32)
    kp[rec["keypoint_score"] <= 0] = 0
    record = {**rec, "keypoint": kp.astype(np.float32), "img_shape": SIZE, "original_shape": SIZE}
    return out / "video.mp4", record


def classify_rate(config: str, overrides: list[str], video: Path, record: dict) -> dict:
    cfg = load_config(config, overrides)
    model = model_from_config(cfg).eval()
    names = [str(k) for k in range(cfg.data.num_classes)]
    opts = PredictOptions(min_person_share=0.0)
    short = {**record, "total_frames": 60, "keypoint": record["keypoint"][:, :60],
             "keypoint_score": record["keypoint_score"][:, :60]}  # fmt: skip
    predict_video(model, cfg, short, video, fps=25.0, class_names=names, options=opts)  # warm-up
    start = time.perf_counter()
    result = predict_video(model, cfg, record, video, fps=25.0, class_names=names, options=opts)
    took = time.perf_counter() - start
    return {"frames": result.num_frames, "seconds": took, "fps": result.num_frames / took,
            "windows": len(result.windows)}  # fmt: skip


def extraction_rate(video: Path, layout: str) -> dict | None:
    try:
        from mgproto.infer.pose import extract_pose

        start = time.perf_counter()
        ann = extract_pose(video, layout=layout)
    except RuntimeError as err:  # mediapipe missing (PoseBackendError)
        print(f"pose extraction skipped: {err}")
        return None
    took = time.perf_counter() - start
    n = ann.annotations[0]["total_frames"]
    return {"frames": n, "seconds": took, "fps": n / took,
            "person_share": ann.meta["frames_with_person"] / n}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotations", default="work/synthetic/small/annotations.pkl")
    parser.add_argument("--config", default=str(ROOT / "configs" / "synthetic" / "paper.yaml"))
    parser.add_argument("--clips", type=int, default=12, help="clips stitched (~2 s each)")
    parser.add_argument("--extract-frames", type=int, default=150)
    parser.add_argument("--out", default=str(HERE / "results" / "video_pipeline.json"))
    args = parser.parse_args()
    torch.set_num_threads(2)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ann = Path(args.annotations)
        if not ann.is_file():
            print(f"{ann} not found: generating the small synthetic benchmark in {tmp}")
            generate_dataset(tmp / "synth", size="small", seed=0, workers=2)
            ann = tmp / "synth" / "annotations.pkl"
        src, _ = stitch_dataset(ann, tmp / "stitched", num_clips=args.clips)
        (tmp / "big").mkdir()
        video, record = upscale_interview(src, tmp / "big")
        over = [f"data.annotations={ann}"]
        for name, extra in (
            ("classify, two-stream small (demo model)", []),
            ("classify, pose-only small", ["data.modalities=[pose]"]),
            ("classify, two-stream paper size", PAPER),
        ):
            config = (
                str(ROOT / "configs" / "imigue" / "paper.yaml") if extra is PAPER else args.config
            )
            r = classify_rate(config, over + extra, video, record)
            rows.append({"stage": name, **r})
        start = time.perf_counter()
        no_probs = np.full((record["total_frames"], 15), np.nan)
        render_annotated_video(tmp / "annotated.mp4", video, record, [], no_probs, fps=25.0,
                               layout="imigue22", num_classes=15)  # fmt: skip
        took = time.perf_counter() - start
        rows.append({"stage": "annotated video (640x480)", "frames": record["total_frames"],
                     "seconds": took, "fps": record["total_frames"] / took})  # fmt: skip
        photo = person_video(tmp / "person.mp4", args.extract_frames)
        for layout, model in (("coco17", "Pose"), ("imigue22", "Holistic")):
            r = extraction_rate(photo, layout)
            if r is not None:
                rows.append({"stage": f"extract-pose {layout} (MediaPipe {model})", **r})
    print(f"{'stage (640x480 video, 2 CPU threads)':<46}{'frames':>8}{'frames/s':>10}")
    for r in rows:
        print(f"{r['stage']:<46}{r['frames']:>8}{r['fps']:>10.1f}")
    result = {
        "meta": {"benchmark": "video_pipeline", "size": SIZE, "cpu": platform.machine(),
                 "torch_threads": torch.get_num_threads(), "config": args.config},
        "rows": rows,
    }  # fmt: skip
    atomic_write_text(Path(args.out), json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
