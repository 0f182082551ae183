"""The sweep's cases: (id, argv with {w} world / {o} case folder / {s} the tiny --set list,
expected outcome, fragment the error must name, plausibility check of a zero exit, prep)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def mgproto_cli() -> str:
    """The ``mgproto`` command of the interpreter that runs the sweep (its environment must have
    mgproto installed), else the one on PATH."""
    beside = Path(sys.executable).parent / "mgproto"
    found = str(beside) if beside.exists() else shutil.which("mgproto")
    if found is None:
        raise SystemExit("hostile_sweep: no `mgproto` command: install mgproto (pip install -e .)")
    return found


@dataclass
class Case:
    id: str
    group: str
    argv: list[str]
    expect: str = "error"  # error | ok | either
    mention: str | None = None
    check: Callable | None = None
    prep: Callable | None = None
    inputs: list[str] = field(default_factory=list)  # files under {o} to hash as inputs
    note: str = ""


def copy_run(o: Path, w: Path) -> None:
    shutil.copytree(w / "run", o / "run")


def exists(*names: str) -> Callable:
    def check(o: Path, w: Path):
        missing = [n for n in names if not (o / n).exists() or (o / n).stat().st_size == 0]
        return (not missing, f"missing or empty: {missing}" if missing else "")

    return check


def loads(name: str) -> Callable:
    """A skeleton output must pass the project's own reader (``mgproto inspect``)."""

    def check(o: Path, w: Path):
        import subprocess

        argv = [mgproto_cli(), "inspect", str(o / name)]
        p = subprocess.run(argv, capture_output=True, text=True)
        return (p.returncode == 0, (p.stderr.strip().splitlines() or [""])[-1][:160])

    return check


BAD_KINDS = ["empty", "half", "random", "png", "text", "dir", "flip", "missing"]


def bad(kind: str, ext: str) -> str:
    return "{w}/bad/nowhere." + ext if kind == "missing" else f"{{w}}/bad/{kind}.{ext}"


def file_cases() -> list[Case]:
    """Every file argument given each kind of broken file of its type."""
    slots = [  # (name, argv template with {X} for the file, ext, kinds)
        ("inspect", ["inspect", "{X}"], "pkl"),
        ("inspect-npz", ["inspect", "{X}"], "npz"),
        ("info-pt", ["info", "{X}"], "pt"),
        ("info-npz", ["info", "{X}"], "npz"),
        ("info-pkl", ["info", "{X}"], "pkl"),
        ("config", ["config", "{X}"], "yaml"),
        ("test-ckpt", ["test", "{X}", "--out", "{o}/t"], "pt"),
        ("train-init", ["train", "{w}/cfg.yaml", "--run-dir", "{o}/r", "{s}", "--init", "{X}"],
         "pt"),
        ("train-ann", ["train", "{w}/cfg.yaml", "--run-dir", "{o}/r", "{s}", "--set",
                       "data.annotations={X}"], "pkl"),
        ("merge-rgb", ["merge-init", "--rgb", "{X}", "--pose", "{w}/run", "-o", "{o}/m.pt"], "pt"),
        ("import", ["import-checkpoint", "{X}", "-o", "{o}/i.pt", "{s}"], "pt"),
        ("ensemble-val", ["ensemble", "--val", "{X}", "{w}/val.npz", "--test", "{w}/val.npz",
                          "{w}/val.npz", "-o", "{o}/e.npz"], "npz"),
        ("submit-scores", ["submit", "{X}", "--ids", "{w}/ids.txt", "-o", "{o}/s.zip"], "npz"),
        ("submit-ids", ["submit", "{w}/val.npz", "--ids", "{X}", "-o", "{o}/s.zip"], "txt"),
        ("predict-video", ["predict", "{X}", "--checkpoint", "{w}/run", "--pose",
                           "{w}/pose1.pkl", "-o", "{o}/p", "--no-video"], "mp4"),
        ("predict-pose", ["predict", "{w}/videos/c00.mp4", "--checkpoint", "{w}/run", "--pose",
                          "{X}", "-o", "{o}/p", "--no-video"], "pkl"),
        ("predict-truth", ["predict", "{w}/videos/c00.mp4", "--checkpoint", "{w}/run", "--pose",
                           "{w}/pose1.pkl", "-o", "{o}/p", "--no-video", "--truth", "{X}"],
         "csv"),
        ("predict-truth-json", ["predict", "{w}/videos/c00.mp4", "--checkpoint", "{w}/run",
                                "--pose", "{w}/pose1.pkl", "-o", "{o}/p", "--no-video",
                                "--truth", "{X}"], "json"),
        ("stitch", ["stitch", "{X}", "-o", "{o}/st", "--split", "val"], "pkl"),
        ("preview-video", ["preview-pose", "{w}/pose1.pkl", "-o", "{o}/p.png", "--video", "{X}"],
         "mp4"),
        ("add-noise", ["add-noise", "{X}", "--level", "mild", "-o", "{o}/n.pkl"], "pkl"),
        ("extract-pose", ["extract-pose", "{X}", "-o", "{o}/x.pkl"], "mp4"),
        ("train-config", ["train", "{X}", "--run-dir", "{o}/r", "{s}"], "yaml"),
        ("merge-config", ["merge-init", "--rgb", "{w}/run", "--pose", "{w}/run", "--config", "{X}",
                          "-o", "{o}/m.pt"], "yaml"),
    ]  # fmt: skip
    out = []
    for name, argv, ext in slots:
        kinds = ["empty", "random", "half"]
        if name in ("inspect", "info-pt", "submit-scores", "test-ckpt"):
            kinds = BAD_KINDS
        for kind in kinds:
            x = bad(kind, ext)
            mention = Path(x).name
            c = Case(f"{name}-{kind}", "files", [a.replace("{X}", x) for a in argv],
                     mention=mention)  # fmt: skip
            if kind == "flip" and ext == "pkl":
                c.expect, c.note = "either", "a pickle has no checksum: flipped array bytes pass"
            out.append(c)
    return out


def wrong_type_cases() -> list[Case]:
    t = [
        ("info-zip-datapkl", ["info", "{w}/bad/zip_datapkl.pt"], "zip_datapkl.pt"),
        ("test-zip-datapkl", ["test", "{w}/bad/zip_datapkl.pt", "--out", "{o}/t"],
         "zip_datapkl.pt"),
        ("test-zip-datapkl2", ["test", "{w}/bad/zip_datapkl2.pt", "--out", "{o}/t"],
         "zip_datapkl2.pt"),
        ("import-zip-datapkl", ["import-checkpoint", "{w}/bad/zip_datapkl.pt", "-o", "{o}/i.pt",
                                "{s}"], "zip_datapkl.pt"),
        ("merge-zip-datapkl", ["merge-init", "--rgb", "{w}/bad/zip_datapkl.pt", "--pose",
                               "{w}/run", "-o", "{o}/m.pt"], "zip_datapkl.pt"),
        ("info-zip-plain-npz", ["info", "{w}/bad/zip_plain.npz"], "zip_plain.npz"),
        ("submit-wrong-keys", ["submit", "{w}/bad/wrong_keys.npz", "--ids", "{w}/ids.txt", "-o",
                               "{o}/s.zip"], "wrong_keys.npz"),
        ("submit-npy-as-npz", ["submit", "{w}/bad/npy.npz", "--ids", "{w}/ids.txt", "-o",
                               "{o}/s.zip"], "npy.npz"),
        ("submit-zip-plain", ["submit", "{w}/bad/zip_plain.npz", "--ids", "{w}/ids.txt", "-o",
                              "{o}/s.zip"], "zip_plain.npz"),
        ("inspect-scores-as-pkl", ["inspect", "{w}/bad/scores_as.pkl"], "scores_as.pkl"),
        ("inspect-ckpt-as-npz", ["inspect", "{w}/bad/ckpt_as.npz"], "ckpt_as.npz"),
        ("inspect-ann-as-npz", ["inspect", "{w}/bad/ann_as.npz"], "ann_as.npz"),
        ("test-scores-as-pt", ["test", "{w}/bad/scores_as.pt", "--out", "{o}/t"],
         "scores_as.pt"),
        ("test-ann-as-pt", ["test", "{w}/bad/ann_as.pt", "--out", "{o}/t"], "ann_as.pt"),
        ("info-ann-as-pt", ["info", "{w}/bad/ann_as.pt"], "ann_as.pt"),
        ("inspect-checkpoint", ["inspect", "{w}/run/checkpoints/last.pt"], "last.pt"),
        ("ensemble-annotations-npz", ["ensemble", "--val", "{w}/val.npz", "{w}/val.npz",
                                      "--test", "{w}/val.npz", "{w}/val.npz", "--annotations",
                                      "{w}/val.npz", "-o", "{o}/e.npz"], None),
        ("submit-pkl-scores", ["submit", "{w}/ann.pkl", "--ids", "{w}/ids.txt", "-o",
                               "{o}/s.zip"], "ann.pkl"),
        ("config-list", ["config", "{w}/bad/list.yaml"], "list.yaml"),
        ("config-unknown-key", ["config", "{w}/bad/unknown_key.yaml"], "nope"),
        ("config-big-num", ["config", "{w}/bad/big_num.yaml"], "num_classes"),
        ("config-anchor-loop", ["config", "{w}/bad/anchors.yaml"], "anchors.yaml"),
        ("config-base-loop", ["config", "{w}/bad/base_loop.yaml"], "base_loop.yaml"),
        ("config-base-missing", ["config", "{w}/bad/base_missing.yaml"], "nowhere.yaml"),
        ("inspect-symlink-loop", ["inspect", "{w}/bad/loop_a"], "loop_a"),
        ("inspect-dangling", ["inspect", "{w}/bad/dangling.pkl"], "dangling.pkl"),
        ("info-symlink-loop", ["info", "{w}/bad/loop_a"], "loop_a"),
        ("report-not-run", ["report", "{w}/bad"], "bad"),
        ("report-file", ["report", "{w}/ann.pkl"], "ann.pkl"),
        ("compare-not-run", ["compare", "{w}/bad"], "bad"),
        ("compare-missing", ["compare", "{w}/nowhere"], "nowhere"),
        ("convert-missing-root", ["convert", "utkinect", "{w}/nowhere", "-o", "{o}/u.pkl"],
         "nowhere"),
        ("convert-file-root", ["convert", "utkinect", "{w}/ann.pkl", "-o", "{o}/u.pkl"],
         "ann.pkl"),
        ("convert-empty-root", ["convert", "utkinect", "{w}/bad/dir.pkl", "-o", "{o}/u.pkl"],
         "dir.pkl"),
        ("convert-labels-binary", ["convert", "utkinect", "{o}/utk", "--labels", "png.txt", "-o",
                                   "{o}/u.pkl"], "png.txt"),
        ("merge-pose-missing", ["merge-init", "--rgb", "{w}/run", "--pose", "{w}/nowhere", "-o",
                                "{o}/m.pt"], "nowhere"),
        ("truth-nan", _predict("--truth", "{w}/bad/truth_nan.csv"), "truth_nan.csv"),
        ("truth-reversed", _predict("--truth", "{w}/bad/truth_neg.csv"), "truth_neg.csv"),
        ("truth-unknown-class", _predict("--truth", "{w}/bad/truth_cls.csv"), "truth_cls.csv"),
        ("truth-inf", _predict("--truth", "{w}/bad/truth_inf.csv"), "truth_inf.csv"),
        ("truth-columns", _predict("--truth", "{w}/bad/truth_cols.csv"), "truth_cols.csv"),
        ("ids-blank", ["submit", "{w}/val.npz", "--ids", "{w}/bad/ids_empty_lines.txt", "-o",
                       "{o}/s.zip"], "ids_empty_lines.txt"),
        ("ids-unknown", ["submit", "{w}/val.npz", "--ids", "{w}/bad/ids_unknown.txt", "-o",
                         "{o}/s.zip"], "ids_unknown.txt"),
    ]  # fmt: skip

    def utk(o: Path, w: Path) -> None:
        shutil.copytree(w / "utk", o / "utk")
        (o / "utk" / "png.txt").write_bytes(b"\x89PNG\r\n\x1a\nxx")

    res = []
    for i, m, mention in t:
        c = Case(i, "wrong type", m, mention=mention)
        if "{o}/utk" in m:
            c.prep = utk
        res.append(c)
    return res


def _predict(*extra: str) -> list[str]:
    return ["predict", "{w}/videos/c00.mp4", "--checkpoint", "{w}/run", "--pose",
            "{w}/pose1.pkl", "-o", "{o}/p", "--no-video", *extra]  # fmt: skip


def record_cases() -> list[Case]:
    """Skeleton files with bad records: through inspect, train, stitch, add-noise, preview."""
    files = ["nan_kp", "inf_kp", "all_nan", "nan_score", "joints17", "joints_all17",
             "repeated_id", "split_repeat", "split_unknown", "label_big", "label_neg",
             "label_float", "zero_frames", "total_mismatch", "kp_1d", "img_neg", "persons_many",
             "empty_records", "not_dict", "np_array"]  # fmt: skip
    out = []
    for f in files:
        valid = f in ("persons_many", "empty_records", "label_big")  # no class count in a file
        out.append(Case(f"inspect-{f}", "records", ["inspect", f"{{w}}/{f}.pkl"],
                        expect="either" if valid else "error", mention=f"{f}.pkl"))  # fmt: skip
    for f in ["nan_kp", "inf_kp", "joints17", "repeated_id", "label_big", "label_neg",
              "split_repeat", "all_nan", "persons_many", "total_mismatch"]:  # fmt: skip
        c = Case(f"train-{f}", "records", ["train", "{w}/cfg.yaml", "--run-dir", "{o}/r", "{s}",
                 "--set", f"data.annotations={{w}}/{f}.pkl"], mention=f"{f}.pkl")  # fmt: skip
        if f == "persons_many":
            c.expect, c.note = "either", "data.pose.max_persons keeps the first persons"
        out.append(c)
    for f in ["nan_kp", "label_big", "joints17", "repeated_id"]:
        out.append(Case(f"test-{f}", "records",
                        ["test", "{o}/run", "--split", "val", "--set",
                         f"data.annotations={{w}}/{f}.pkl"], mention=f"{f}.pkl",
                        prep=copy_run, inputs=["run/checkpoints/best.pt"]))  # fmt: skip
    for f in ["nan_kp", "joints17", "repeated_id"]:
        out.append(Case(f"add-noise-{f}", "records", ["add-noise", f"{{w}}/{f}.pkl", "--level",
                        "mild", "-o", "{o}/n.pkl"], mention=f"{f}.pkl"))  # fmt: skip
        out.append(Case(f"stitch-{f}", "records", ["stitch", f"{{w}}/{f}.pkl", "-o", "{o}/st",
                        "--split", "val"], expect="either", mention=f"{f}.pkl"))  # fmt: skip
    out.append(Case("predict-pose-joints17", "records",
                    [*_predict("--pose", "{w}/joints17.pkl")[:5], "{w}/joints17.pkl", "-o",
                     "{o}/p", "--no-video"], mention="joints17.pkl"))  # fmt: skip
    out.append(Case("predict-pose-multi", "records", ["predict", "{w}/videos/c00.mp4",
                    "--checkpoint", "{w}/run", "--pose", "{w}/ann.pkl", "-o", "{o}/p",
                    "--no-video"], mention="ann.pkl"))  # fmt: skip
    out.append(Case("stitch-class-unknown", "records", ["stitch", "{w}/ann.pkl", "-o", "{o}/st",
                    "--split", "val", "--classes", "99"], mention="99"))  # fmt: skip
    out.append(Case("stitch-subject-unknown", "records", ["stitch", "{w}/ann.pkl", "-o",
                    "{o}/st", "--split", "val", "--subject", "zz"], mention="zz"))  # fmt: skip
    out.append(Case("stitch-split-unknown", "records", ["stitch", "{w}/ann.pkl", "-o", "{o}/st",
                    "--split", "nosplit"], mention="nosplit"))  # fmt: skip
    out.append(Case("preview-clip-unknown", "records", ["preview-pose", "{w}/ann.pkl", "-o",
                    "{o}/p.png", "--clips", "zz"], mention="zz"))  # fmt: skip
    out.append(Case("preview-layout-unknown", "records", ["preview-pose", "{w}/ann.pkl", "-o",
                    "{o}/p.png", "--layout", "bogus"], mention="bogus"))  # fmt: skip
    out.append(Case("predict-hide-unknown", "records", _predict("--hide", "nosuchclass"),
                    mention="nosuchclass"))  # fmt: skip
    out.append(Case("test-split-unknown", "records", ["test", "{o}/run", "--split", "nope"],
                    mention="nope", prep=copy_run))  # fmt: skip
    out.append(Case("ensemble-stream-unknown", "records", ["ensemble", "--val", "{w}/val.npz",
                    "{w}/val.npz", "--test", "{w}/val.npz", "{w}/val.npz", "--stream", "zz",
                    "-o", "{o}/e.npz"], mention="zz"))  # fmt: skip
    return out


ABSURD = {"huge": "1e12", "neg": "-1", "nan": "nan", "inf": "inf"}


def number_cases() -> list[Case]:
    """Each numeric flag given huge, negative, NaN and infinite values."""
    flags = [  # (verb id, argv before the flag, flag, int?)
        ("synth", ["synth", "--size", "tiny", "-o", "{o}/sy"], "--seed", True),
        ("synth", ["synth", "--size", "tiny", "-o", "{o}/sy"], "--workers", True),
        ("preview", ["preview-pose", "{w}/ann.pkl", "-o", "{o}/p.png"], "--max-clips", True),
        ("preview", ["preview-pose", "{w}/ann.pkl", "-o", "{o}/p.png"], "--frames", True),
        ("noise", ["add-noise", "{w}/ann.pkl", "-o", "{o}/n.pkl"], "--jitter", False),
        ("noise", ["add-noise", "{w}/ann.pkl", "-o", "{o}/n.pkl"], "--drop-joint", False),
        ("noise", ["add-noise", "{w}/ann.pkl", "-o", "{o}/n.pkl"], "--drop-frame", False),
        ("noise", ["add-noise", "{w}/ann.pkl", "--level", "mild", "-o", "{o}/n.pkl"], "--seed",
         True),
        ("train", ["train", "{w}/cfg.yaml", "--run-dir", "{o}/r", "{s}"], "--max-steps", True),
        ("test", ["test", "{o}/run", "--split", "val", "--out", "{o}/t"], "--clips", True),
        ("test", ["test", "{o}/run", "--split", "val", "--out", "{o}/t"], "--batch-size", True),
        ("compare", ["compare", "{o}/run", "--vs", "{o}/run", "--split", "val"], "--level", False),
        ("extract", ["extract-pose", "{w}/videos/c00.mp4", "-o", "{o}/x.pkl"], "--max-frames",
         True),
        ("extract", ["extract-pose", "{w}/videos/c00.mp4", "-o", "{o}/x.pkl"], "--start", False),
        ("extract", ["extract-pose", "{w}/videos/c00.mp4", "-o", "{o}/x.pkl"], "--min-score",
         False),
        ("stitch", ["stitch", "{w}/ann.pkl", "-o", "{o}/st", "--split", "val"], "--num-clips",
         True),
        ("stitch", ["stitch", "{w}/ann.pkl", "-o", "{o}/st", "--split", "val"], "--seed", True),
        ("convert", ["convert", "utkinect", "{w}/utk", "-o", "{o}/u.pkl"], "--frame-step", True),
        ("convert", ["convert", "utkinect", "{w}/utk", "-o", "{o}/u.pkl"], "--img-shape", True),
    ]  # fmt: skip
    for f in ("--window", "--stride", "--clips", "--batch-size", "--smooth", "--min-confidence",
              "--min-duration", "--min-person", "--render-size"):  # fmt: skip
        flags.append(("predict", _predict(), f, f in ("--clips", "--batch-size",
                                                      "--render-size")))  # fmt: skip
    out = []
    for verb, argv, flag, is_int in flags:
        for name, value in ABSURD.items():
            if is_int and name in ("nan", "inf"):
                continue
            extra = [flag, value] if flag != "--img-shape" else [flag, value, value]
            c = Case(f"{verb}{flag}-{name}", "numbers", [*argv, *extra], mention=flag,
                     expect="either")  # fmt: skip
            if "{o}/run" in argv:
                c.prep, c.inputs = copy_run, ["run/checkpoints/best.pt"]
            if verb == "noise":
                c.check = loads("n.pkl")
            if flag in ("--seed", "--min-duration", "--max-steps") and name == "huge":
                c.note = "a huge value is harmless here"
            out.append(c)
    for name, value in {"huge": "1e308", "neg": "-1", "nan": "nan", "inf": "inf"}.items():
        out.append(Case(f"ensemble--weights-{name}", "numbers",
                        ["ensemble", "--val", "{w}/val.npz", "{w}/val.npz", "--test",
                         "{w}/val.npz", "{w}/val.npz", "--weights", "1", value, "-o",
                         "{o}/e.npz"], mention="weights"))  # fmt: skip
    return out


SIZE_KEYS = [
    "data.num_classes", "data.pose.clip_len", "data.pose.train_size", "data.pose.test_size",
    "data.pose.pre_crop_size", "data.pose.max_persons", "data.pose.sigma",
    "data.pose.compact_padding", "data.pose.compact_threshold", "data.pose.fill_gaps",
    "data.rgb.clip_len", "data.rgb.train_size", "data.rgb.test_size", "data.rgb.pre_crop_size",
    "data.rgb.frame_interval", "data.sampling.num_clips_test", "model.tcn.width",
    "model.tcn.num_layers", "model.tcn.kernel", "model.gcn.base_channels", "model.gcn.num_stages",
    "model.fusion.heads", "model.fusion.hidden", "model.prototype.embed_dim", "model.pose_base",
    "model.rgb_base", "model.swin.embed_dim", "train.epochs", "train.batch_size",
    "train.grad_accum_steps", "train.lr", "train.warmup_epochs", "train.clip_grad",
    "train.num_workers", "train.val_every", "train.val_clips", "train.checkpoint_every",
    "train.log_every", "train.max_nonfinite_steps", "seed", "model.semantic.weight",
    "model.head_temporal_bins",
]  # fmt: skip


FLOAT_KEYS = {"data.pose.sigma", "data.pose.compact_padding", "train.lr", "train.warmup_epochs",
              "train.clip_grad", "model.semantic.weight"}  # fmt: skip


def set_cases() -> list[Case]:
    """Every size key of the schema with absurd values (config), and a few through train."""
    out = []
    for key in SIZE_KEYS:
        for name, value in ABSURD.items():
            if name in ("nan", "inf") and key not in FLOAT_KEYS:
                continue
            if key == "model.head_temporal_bins":
                value = f"[{value},{value}]"
            out.append(Case(f"set-{key}-{name}", "sizes", ["config", "--set", f"{key}={value}"],
                            expect="either", mention=key))  # fmt: skip
    at_bound = [  # the upper bound itself, through a training run (memory capped at 6 GB)
        "data.pose.train_size=1024", "data.pose.clip_len=1024", "data.num_classes=100000",
        "data.sampling.num_clips_test=100", "model.tcn.width=16384", "train.batch_size=4096",
        "data.pose.max_persons=100",
    ]  # fmt: skip
    for s in at_bound:  # no file to name: too much memory is no file's fault
        out.append(Case(f"train-at-bound-{s}", "sizes", ["train", "{w}/cfg.yaml", "--run-dir",
                        "{o}/r", "{s}", "--set", s, "--max-steps", "1"], expect="either",
                        mention=None))  # fmt: skip
    return out


def _link(kind: str, src: str, dst: str) -> Callable:
    """prep: put at {o}/dst a copy / symlink / hard link of world file src."""

    def prep(o: Path, w: Path) -> None:
        d = o / dst
        d.parent.mkdir(parents=True, exist_ok=True)
        s = w / src
        if kind == "copy":
            shutil.copy(s, d)
        elif kind == "symlink":
            os.symlink(s, d)
        elif kind == "hardlink":
            shutil.copy(s, o / ("_" + Path(dst).name))
            os.link(o / ("_" + Path(dst).name), d)
        elif kind == "exists":
            d.write_text("an earlier result\n")

    return prep


def output_cases() -> list[Case]:
    S = ["submit", "{w}/val.npz", "--ids", "{w}/ids.txt"]
    E = ["ensemble", "--val", "{w}/val.npz", "{w}/val.npz", "--test", "{w}/val.npz",
         "{w}/val.npz"]  # fmt: skip
    N = ["add-noise", "{o}/in.pkl", "--level", "mild"]
    M = ["merge-init", "--rgb", "{o}/in.pt", "--pose", "{w}/run", "--allow-partial"]
    t = [  # id, argv, prep, inputs to hash, expect, mention
        ("submit-same", [*S[:1], "{o}/in.npz", *S[2:], "-o", "{o}/in.npz", "--force"],
         _link("copy", "val.npz", "in.npz"), ["in.npz"]),
        ("submit-symlink-scores", [*S[:1], "{o}/in.npz", *S[2:], "-o", "{o}/l.zip", "--force"],
         _both(_link("copy", "val.npz", "in.npz"), _symlink_to("in.npz", "l.zip")), ["in.npz"]),
        ("submit-hardlink-ids", [*S[:2], "--ids", "{o}/ids.txt", "-o", "{o}/_ids.txt", "--force"],
         _link("hardlink", "ids.txt", "ids.txt"), ["ids.txt", "_ids.txt"]),
        ("submit-exists", [*S, "-o", "{o}/s.zip"], _link("exists", "", "s.zip"), ["s.zip"]),
        ("submit-slash", [*S, "-o", "{o}/nd/"], None, []),
        ("submit-dotdot", [*S[:1], "{o}/in.npz", *S[2:], "-o", "{o}/x/../in.npz", "--force"],
         _both(_link("copy", "val.npz", "in.npz"), _mkdir("x")), ["in.npz"]),
        ("ensemble-same-val", [*E[:2], "{o}/v.npz", *E[3:], "-o", "{o}/v.npz", "--force"],
         _link("copy", "val.npz", "v.npz"), ["v.npz"]),
        ("ensemble-symlink-test", [*E[:5], "{o}/t.npz", "{w}/val.npz", "-o", "{o}/l.npz",
                                   "--force"],
         _both(_link("copy", "val.npz", "t.npz"), _symlink_to("t.npz", "l.npz")), ["t.npz"]),
        ("ensemble-summary-is-ids-json", ["ensemble", "--val", "{o}/d/scores.npz",
                                          "{o}/d/scores.npz", "--test", "{o}/d/scores.npz",
                                          "{o}/d/scores.npz", "-o", "{o}/d/ids.npz", "--force"],
         _both(_link("copy", "val.npz", "d/scores.npz"), _link("copy", "val_ids.json",
                                                               "d/ids.json")),
         ["d/scores.npz", "d/ids.json"]),
        ("ensemble-summary-is-annotations", [*E, "--annotations", "{o}/e.json", "-o",
                                             "{o}/e.npz", "--force"],
         _link("copy", "val_ids.json", "e.json"), ["e.json"]),
        ("ensemble-exists", [*E, "-o", "{o}/e.npz"], _link("exists", "", "e.npz"), ["e.npz"]),
        ("ensemble-slash", [*E, "-o", "{o}/nd/"], None, []),
        ("noise-same", [*N, "-o", "{o}/in.pkl", "--force"], _link("copy", "ann.pkl", "in.pkl"),
         ["in.pkl"]),
        ("noise-symlink", [*N, "-o", "{o}/l.pkl", "--force"],
         _both(_link("copy", "ann.pkl", "in.pkl"), _symlink_to("in.pkl", "l.pkl")), ["in.pkl"]),
        ("noise-hardlink", ["add-noise", "{o}/ann.pkl", "--level", "mild", "-o", "{o}/_ann.pkl",
                            "--force"], _link("hardlink", "ann.pkl", "ann.pkl"),
         ["ann.pkl", "_ann.pkl"]),
        ("noise-exists", [*N, "-o", "{o}/n.pkl"], _both(_link("copy", "ann.pkl", "in.pkl"),
                                                     _link("exists", "", "n.pkl")), ["n.pkl"]),
        ("noise-slash", [*N, "-o", "{o}/nd/"], _link("copy", "ann.pkl", "in.pkl"), []),
        ("merge-same", [*M, "-o", "{o}/in.pt", "--force"],
         _link("copy", "run/checkpoints/last.pt", "in.pt"), ["in.pt"]),
        ("merge-symlink", [*M, "-o", "{o}/l.pt", "--force"],
         _both(_link("copy", "run/checkpoints/last.pt", "in.pt"), _symlink_to("in.pt", "l.pt")),
         ["in.pt"]),
        ("merge-exists", [*M, "-o", "{o}/m.pt"], _both(_link("copy", "run/checkpoints/last.pt",
                                                           "in.pt"), _link("exists", "", "m.pt")),
         ["m.pt"]),
        ("merge-config-output", [*M, "--config", "{o}/c.yaml", "-o", "{o}/c.yaml", "--force"],
         _both(_link("copy", "run/checkpoints/last.pt", "in.pt"),
               _link("copy", "run/config.yaml", "c.yaml")), ["c.yaml"]),
        ("import-same", ["import-checkpoint", "{o}/in.pt", "-o", "{o}/in.pt", "--force", "{s}"],
         _link("copy", "run/checkpoints/last.pt", "in.pt"), ["in.pt"]),
        ("import-exists", ["import-checkpoint", "{o}/in.pt", "-o", "{o}/i.pt", "{s}"],
         _both(_link("copy", "run/checkpoints/last.pt", "in.pt"), _link("exists", "", "i.pt")),
         ["i.pt"]),
        ("import-config-output", ["import-checkpoint", "{o}/in.pt", "--config", "{o}/c.yaml",
                                  "-o", "{o}/c.yaml", "--force"],
         _both(_link("copy", "run/checkpoints/last.pt", "in.pt"),
               _link("copy", "run/config.yaml", "c.yaml")), ["c.yaml"]),
        ("preview-over-input", ["preview-pose", "{o}/in.pkl", "-o", "{o}/in.pkl"],
         _link("copy", "ann.pkl", "in.pkl"), ["in.pkl"]),
        ("preview-over-video", ["preview-pose", "{w}/pose1.pkl", "--video", "{o}/v.mp4", "-o",
                                "{o}/v.mp4"], _link("copy", "videos/c00.mp4", "v.mp4"), ["v.mp4"]),
        ("preview-symlink", ["preview-pose", "{o}/in.pkl", "-o", "{o}/l.png"],
         _both(_link("copy", "ann.pkl", "in.pkl"), _symlink_to("in.pkl", "l.png")), ["in.pkl"]),
        ("preview-slash", ["preview-pose", "{w}/ann.pkl", "-o", "{o}/nd/"], None, []),
        ("extract-over-video", ["extract-pose", "{o}/v.mp4", "-o", "{o}/v.mp4", "--force"],
         _link("copy", "videos/c00.mp4", "v.mp4"), ["v.mp4"]),
        ("extract-exists", ["extract-pose", "{w}/videos/c00.mp4", "-o", "{o}/x.pkl"],
         _link("exists", "", "x.pkl"), ["x.pkl"]),
        ("convert-over-joints", ["convert", "utkinect", "{o}/utk", "-o",
                                 "{o}/utk/joints_s01_e01.txt", "--force"], _utk, ["utk"]),
        ("convert-symlink-labels", ["convert", "utkinect", "{o}/utk", "-o", "{o}/l.pkl",
                                    "--force"],
         _both(_utk, _symlink_to("utk/actionLabel.txt", "l.pkl")), ["utk"]),
        ("convert-exists", ["convert", "utkinect", "{w}/utk", "-o", "{o}/u.pkl"],
         _link("exists", "", "u.pkl"), ["u.pkl"]),
        ("convert-slash", ["convert", "utkinect", "{w}/utk", "-o", "{o}/nd/"], None, []),
        ("test-out-annotations", ["test", "{o}/run", "--split", "val", "--out", "{o}/t", "--set",
                                  "data.annotations={o}/t/ids.json"],
         _both(copy_run, _link("copy", "ann.pkl", "t/ids.json")), ["t/ids.json"]),
        ("test-out-scores-npz-annotations", ["test", "{o}/run", "--split", "val", "--out",
                                             "{o}/t", "--set", "data.annotations={o}/t/scores.npz"],
         _both(copy_run, _link("copy", "ann.npz", "t/scores.npz")), ["t/scores.npz"]),
        ("test-out-is-checkpoint-folder", ["test", "{o}/run/checkpoints/best.pt", "--split",
                                           "val", "--out", "{o}/run/checkpoints"],
         copy_run, ["run/checkpoints/best.pt", "run/checkpoints/last.pt"], "either"),
        ("test-out-is-file", ["test", "{o}/run", "--split", "val", "--out", "{o}/run/config.yaml"],
         copy_run, ["run/config.yaml"]),
        ("train-init-in-run-dir", ["train", "{w}/cfg.yaml", "--run-dir", "{o}/d", "{s}", "--init",
                                   "{o}/d/checkpoints/best.pt"],
         _link("copy", "run/checkpoints/best.pt", "d/checkpoints/best.pt"),
         ["d/checkpoints/best.pt"]),
        ("train-annotations-in-run-dir", ["train", "{w}/cfg.yaml", "--run-dir", "{o}/d", "{s}",
                                          "--set", "data.annotations={o}/d/train.log"],
         _link("copy", "ann.pkl", "d/train.log"), ["d/train.log"]),
        ("train-run-dir-is-file", ["train", "{w}/cfg.yaml", "--run-dir", "{w}/ann.pkl", "{s}"],
         None, []),
        ("predict-pose-as-timeline", ["predict", "{w}/videos/c00.mp4", "--checkpoint", "{w}/run",
                                      "--pose", "{o}/d/timeline.json", "-o", "{o}/d",
                                      "--no-video"], _link("copy", "pose1.pkl", "d/timeline.json"),
         ["d/timeline.json"]),
        ("predict-symlink-truth", ["predict", "{w}/videos/c00.mp4", "--checkpoint", "{w}/run",
                                   "--pose", "{w}/pose1.pkl", "-o", "{o}/d", "--no-video",
                                   "--truth", "{o}/t.csv"],
         _both(_link("copy", "stitched/truth.csv", "t.csv"),
               _symlink_to("t.csv", "d/timeline.csv")),
         ["t.csv"]),
        ("predict-hardlink-video", ["predict", "{o}/v.mp4", "--checkpoint", "{w}/run", "--pose",
                                    "{w}/pose1.pkl", "-o", "{o}/d"],
         _both(_link("copy", "videos/c00.mp4", "v.mp4"), _hardlink("v.mp4", "d/annotated.mp4")),
         ["v.mp4"]),
        ("predict-out-is-file", [*_predict()[:7], "{w}/ann.pkl", "--no-video"], None, []),
        ("stitch-symlink-video", ["stitch", "{o}/a.pkl", "-o", "{o}/d", "--split", "val",
                                  "--num-clips", "2"],
         _stitch_prep, ["a.pkl", "videos"], "either"),
        ("synth-over-user-videos", ["synth", "--size", "tiny", "-o", "{o}/d"],
         _link("copy", "videos/c00.mp4", "d/videos/mine.mp4"), ["d/videos/mine.mp4"], "either"),
        ("synth-out-is-file", ["synth", "--size", "tiny", "-o", "{w}/ann.pkl"], None, []),
        ("report-run-copy", ["report", "{o}/run", "--split", "val"], copy_run,
         ["run/checkpoints/best.pt"], "ok"),
        ("compare-run-copy", ["compare", "{o}/run", "--split", "val"], copy_run,
         ["run/checkpoints/best.pt"], "ok"),
    ]  # fmt: skip
    out = []
    for row in t:
        cid, argv, prep, inputs = row[:4]
        expect = row[4] if len(row) > 4 else "error"
        out.append(Case(cid, "outputs", argv, expect=expect, prep=prep, inputs=inputs))
    return out


def _both(*preps: Callable) -> Callable:
    def prep(o: Path, w: Path) -> None:
        for p in preps:
            p(o, w)

    return prep


def _symlink_to(target: str, name: str) -> Callable:
    def prep(o: Path, w: Path) -> None:
        (o / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(o / target, o / name)

    return prep


def _hardlink(target: str, name: str) -> Callable:
    def prep(o: Path, w: Path) -> None:
        (o / name).parent.mkdir(parents=True, exist_ok=True)
        os.link(o / target, o / name)

    return prep


def _mkdir(name: str) -> Callable:
    return lambda o, w: (o / name).mkdir(parents=True, exist_ok=True)


def _utk(o: Path, w: Path) -> None:
    shutil.copytree(w / "utk", o / "utk")


def _stitch_prep(o: Path, w: Path) -> None:
    shutil.copytree(w / "videos", o / "videos")
    shutil.copy(w / "ann.pkl", o / "a.pkl")
    (o / "d").mkdir()
    os.symlink(o / "videos" / "c12.mp4", o / "d" / "video.mp4")


def ok_cases() -> list[Case]:
    """Valid commands: a zero exit must give a plausible result."""
    E = ["ensemble", "--val", "{w}/val.npz", "{w}/val.npz", "--test", "{w}/val.npz",
         "{w}/val.npz"]  # fmt: skip
    return [
        Case("ok-info-all", "valid", ["info", "{w}/run", "{w}/val.npz", "{w}/ann.pkl",
             "{w}/run/checkpoints/best.pt"], expect="ok"),
        Case("ok-inspect", "valid", ["inspect", "{w}/ann.npz"], expect="ok"),
        Case("ok-submit", "valid", ["submit", "{w}/val.npz", "--ids", "{w}/ids.txt", "-o",
             "{o}/s.zip"], expect="ok", check=exists("s.zip")),
        Case("ok-ensemble", "valid", [*E, "-o", "{o}/e.npz"], expect="ok",
             check=exists("e.npz", "e.json")),
        Case("ok-noise", "valid", ["add-noise", "{w}/ann.pkl", "--level", "mild", "-o",
             "{o}/n.npz"], expect="ok", check=exists("n.npz")),
        Case("ok-preview", "valid", ["preview-pose", "{w}/ann.pkl", "-o", "{o}/p.png"],
             expect="ok", check=exists("p.png")),
        Case("ok-predict", "valid", _predict("--window", "0.2", "--stride", "0.1"), expect="ok",
             check=exists("p/timeline.json", "p/timeline.csv", "p/window_scores.npz")),
        Case("ok-convert", "valid", ["convert", "utkinect", "{w}/utk", "-o", "{o}/u.pkl"],
             expect="ok", check=exists("u.pkl")),
        Case("ok-merge", "valid", ["merge-init", "--rgb", "{w}/run", "--pose", "{w}/run", "-o",
             "{o}/m.pt", "--allow-partial"], expect="either", check=exists("m.pt")),
        Case("ok-resume", "valid", ["train", "--resume", "--run-dir", "{o}/run", "--set",
             "train.epochs=2"], expect="ok", prep=copy_run, check=_resumed),
    ]  # fmt: skip


def _resumed(o: Path, w: Path):
    lines = (o / "run" / "metrics.jsonl").read_text().splitlines()
    steps = [json.loads(x).get("step") for x in lines if '"step"' in x]
    dup = len(steps) != len(set(zip(steps, range(len(steps)), strict=False)))
    return (not dup and (o / "run/checkpoints/last.pt").exists(), f"{len(steps)} step records")


def all_cases() -> list[Case]:
    return [*file_cases(), *wrong_type_cases(), *record_cases(), *number_cases(), *set_cases(),
            *output_cases(), *ok_cases()]  # fmt: skip
