"""``mgproto predict``: a video -> a micro-gesture timeline (the verb's work; its flags are in
``mgproto.commands.infer_cmds``)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from mgproto.commands.outputs import outputs_of
from mgproto.data.video import probe_video
from mgproto.engine.checkpoint import (
    class_names,
    load_checkpoint,
    model_from_state,
    resolve_checkpoint,
)
from mgproto.fileio import atomic_write_npz
from mgproto.infer.options import PredictOptions
from mgproto.infer.predict import predict_video, video_pose
from mgproto.infer.timeline import (
    TIMELINE_FILES,
    match_segments,
    read_segments,
    with_class_ids,
    write_timeline,
)


def _options(args: argparse.Namespace) -> PredictOptions:
    return PredictOptions(
        window_s=args.window,
        stride_s=args.stride,
        num_clips=args.clips,
        batch_size=args.batch_size,
        smooth_s=args.smooth,
        min_confidence=args.min_confidence,
        min_duration_s=args.min_duration,
        min_person_share=args.min_person,
        hide=tuple(args.hide),
    )


def _print_result(args: argparse.Namespace, result, summary: dict) -> None:
    print(f"{args.video}: {result.num_frames} frames at {result.fps:g} fps, "
          f"{len(result.windows)} windows")  # fmt: skip
    if not result.person.any():
        print("warning: no person was detected in this video; the timeline is empty")
    for s in result.segments:
        print(f"  {s.start:8.2f} - {s.end:8.2f} s  {s.label}  ({s.confidence:.2f})")
    print(f"{len(result.segments)} segments; classified at {summary['classify_fps']} frames/s")
    if result.no_segments_reason and result.person.any():
        print(f"no segment: {result.no_segments_reason}")
    if "truth" in summary:
        print(f"mean temporal IoU with {args.truth}: {summary['truth']['mean_tiou']:.3f}")


def output_files(args: argparse.Namespace, out: Path) -> dict[str, Path]:
    """Every file ``predict`` writes into ``out``, by role: the list checked against the
    command's inputs before anything is written, and the paths the writers use."""
    json_name, csv_name = TIMELINE_FILES
    files = {
        "json": out / json_name,
        "csv": out / csv_name,
        "scores": out / "window_scores.npz",
        "plot": out / "confidence.png",
        "pose": None if args.pose else out / "pose.pkl",  # an extracted pose, kept for reuse
        "video": None if args.no_video else out / "annotated.mp4",
        "page": None if args.no_html else out / "index.html",
    }
    return {k: v for k, v in files.items() if v is not None}


def _write_outputs(
    args: argparse.Namespace, files: dict[str, Path], result, summary: dict, record: dict,
    layout: str,
) -> list[Path]:  # fmt: skip
    """timeline.json/csv, window_scores.npz, confidence.png, and unless switched off the mp4
    and the page (``files``: :func:`output_files`, already checked)."""
    from mgproto.report.plots import plot_confidence
    from mgproto.report.timeline_page import write_timeline_page
    from mgproto.report.timeline_video import render_annotated_video

    written = list(write_timeline(files["json"].parent, result.segments, summary))
    written.append(
        atomic_write_npz(files["scores"], {"windows": result.windows, **result.window_probs})
    )
    plot = plot_confidence(
        result.probs, result.windows, result.window_probs["fused"], files["plot"],
        fps=result.fps, min_confidence=args.min_confidence,
    )  # fmt: skip
    written.append(plot)
    shown = Path(args.video)
    if "video" in files:
        shown = render_annotated_video(
            files["video"], args.video, record, result.segments, result.probs,
            fps=result.fps, layout=layout, num_classes=len(result.class_names),
            max_side=args.render_size,
        )  # fmt: skip
        written.append(shown)
    if "page" in files:
        written.append(
            write_timeline_page(
                files["page"],
                video=shown,
                segments=result.segments,
                info=summary,
                class_names=result.class_names,
                confidence_plot=plot,
            )
        )
    return written


def _read_truth(path: str | None, *, fps: float, classes: list[str]) -> list | None:
    """The true segments of ``--truth`` (None without it), with the model's class index of
    each; a file without any, or with a label that is no class of the model, is refused, as
    it would score a temporal IoU of 0 whatever the prediction."""
    if not path:
        return None
    truth = read_segments(path, fps=fps)
    if not truth:
        raise ValueError(f"{path}: no segments; a truth file lists at least one (start, end, "
                         "label)")  # fmt: skip
    return with_class_ids(truth, classes, source=str(path))


def run_predict(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from mgproto.build import resolve_device

    info = probe_video(args.video)  # a clear error for a missing / empty / corrupt file
    checkpoint = resolve_checkpoint(args.checkpoint)  # a run folder: its best, else last
    state = load_checkpoint(checkpoint)
    model, cfg = model_from_state(state, source=str(checkpoint))
    video = Path(args.video)
    out = Path(args.out) if args.out else video.with_name(f"{video.stem}_timeline")
    # every file of the output folder, before any is written: none may be an input (the video,
    # the checkpoint, the pose, the truth, the annotation file the class names may come from)
    files = output_files(args, out)
    outputs_of(args, files.values(), skip=["out"], inputs=[checkpoint, cfg.data.annotations],
               replaces=True, hint="choose another output folder (-o)")  # fmt: skip
    # everything else that can be refused, before the pose is extracted (minutes of work)
    options, device = _options(args), resolve_device(args.device)
    names = class_names(state, cfg)
    truth = _read_truth(args.truth, fps=info.fps, classes=names)
    layout = cfg.data.pose.layout
    record = video_pose(args.video, layout=layout, pose=args.pose, num_frames=info.num_frames,
                        save_to=files.get("pose"), force=args.force)  # fmt: skip
    if not args.pose:
        print(f"pose extracted with MediaPipe: {files['pose']} (reuse it with --pose)")
    fps = float(record.get("fps") or info.fps)
    if truth and fps != info.fps:  # frames of the truth's seconds at the pose's frame rate
        truth = _read_truth(args.truth, fps=fps, classes=names)
    model.to(device)
    start = time.perf_counter()
    with tqdm(desc="windows", unit="win", leave=False, disable=None) as bar:
        result = predict_video(
            model, cfg, record, args.video, fps=fps, class_names=names,
            options=options, device=device, progress=bar.update,
        )  # fmt: skip
    summary = {
        **result.info(),
        "checkpoint": str(checkpoint.resolve()),
        "modalities": list(cfg.data.modalities),
        "options": {k: getattr(options, k) for k in options.__dataclass_fields__},
        "classify_fps": round(result.num_frames / max(time.perf_counter() - start, 1e-9), 1),
    }
    if truth:
        ious = match_segments(truth, result.segments)
        mean = round(float(np.mean(ious)), 4) if ious else 0.0
        summary["truth"] = {"file": str(args.truth), "tiou": [round(x, 4) for x in ious],
                            "mean_tiou": mean}  # fmt: skip
    _print_result(args, result, summary)
    written = _write_outputs(args, files, result, summary, record, layout)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0
