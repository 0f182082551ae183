"""Tiny valid inputs for the issue-41 sweep: a dataset with videos, a 1-epoch pose run, its test
scores, a stitched long video, a UTKinect subset, and hostile variants of each file type.

Run once (idempotent; sweep.py runs it when WORLD/DONE is missing), with mgproto installed:

    python tools/hostile_sweep/setup_world.py WORLD [--utkinect DIR]

--utkinect defaults to ../shared/data/utkinect beside the repository.
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
from cases import mgproto_cli

ROOT = Path(__file__).resolve().parents[2]
UTKINECT = ROOT.parent / "shared" / "data" / "utkinect"
TINY = [
    "data.pose.layout=imigue22", "data.num_classes=3", "data.pose.clip_len=8",
    "data.pose.train_size=8", "data.pose.test_size=8", "data.pose.pre_crop_size=10",
    "data.sampling.num_clips_test=2", "model.preset=tiny", "train.batch_size=2",
    "train.num_workers=0", "train.epochs=1", "train.log_every=1", "train.tensorboard=false",
    "train.lr=0.01", "data.modalities=[pose]", "data.val_split=val", "data.test_split=val",
]  # fmt: skip


def sh(*argv: str) -> None:
    print("+", " ".join(argv), flush=True)
    subprocess.run(argv, check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})


def dataset(w: Path) -> Path:
    from mgproto.data.annotations import AnnotationFile, save_annotations
    from mgproto.data.video import write_video

    rng = np.random.default_rng(0)
    records, split = [], {"train": [], "val": []}
    for i in range(16):
        name, t = f"c{i:02d}", 12
        frames = rng.integers(0, 255, (t, 48, 48, 3), dtype=np.uint8)
        write_video(w / "videos" / f"{name}.mp4", frames, fps=25)
        records.append({
            "frame_dir": name, "label": i % 3, "img_shape": (48, 48),
            "original_shape": (48, 48), "total_frames": t, "layout": "imigue22",
            "keypoint": rng.uniform(8, 40, (1, t, 22, 2)).astype(np.float32),
            "keypoint_score": np.ones((1, t, 22), np.float32),
            "filename": f"videos/{name}.mp4", "subject_id": str(i % 4),
        })  # fmt: skip
        split["train" if i < 12 else "val"].append(name)
    split["test"] = list(split["val"])
    ann = AnnotationFile(records, split, {"layout": "imigue22"})
    save_annotations(ann, w / "ann.npz")
    return save_annotations(ann, w / "ann.pkl")


def label_variants(w: Path) -> None:
    """Skeleton files with NaN keypoints, wrong joint counts, repeated ids, unknown classes."""
    from mgproto.data.annotations import AnnotationFile, save_annotations

    with open(w / "ann.pkl", "rb") as f:
        raw = pickle.load(f)

    def variant(name: str, edit) -> None:
        recs = [dict(r) for r in raw["annotations"]]
        split = {k: list(v) for k, v in raw["split"].items()}
        meta = dict(raw.get("meta", {}))
        edit(recs, split, meta)
        with open(w / name, "wb") as f:  # raw pickle: bypass the saver's own checks
            pickle.dump({"split": split, "annotations": recs, "meta": meta}, f)

    def nan_kp(r, s, m):
        r[1]["keypoint"] = r[1]["keypoint"].copy()
        r[1]["keypoint"][0, 3, 5] = np.nan

    def inf_kp(r, s, m):
        r[2]["keypoint"] = np.full_like(r[2]["keypoint"], np.inf)

    def all_nan(r, s, m):
        for x in r:
            x["keypoint"] = np.full_like(x["keypoint"], np.nan)

    def nan_score(r, s, m):
        r[0]["keypoint_score"] = np.full_like(r[0]["keypoint_score"], np.nan)

    def joints17(r, s, m):
        r[4]["keypoint"] = r[4]["keypoint"][:, :, :17]
        r[4]["keypoint_score"] = r[4]["keypoint_score"][:, :, :17]

    def joints_all17(r, s, m):
        for x in r:
            x["keypoint"] = x["keypoint"][:, :, :17]
            x["keypoint_score"] = x["keypoint_score"][:, :, :17]

    def repeated(r, s, m):
        r[3]["frame_dir"] = r[2]["frame_dir"]

    def split_repeat(r, s, m):
        s["train"].append(s["train"][0])

    def split_unknown(r, s, m):
        s["val"].append("nope")

    def label_big(r, s, m):
        r[0]["label"] = 7

    def label_neg(r, s, m):
        r[12]["label"] = -5

    def label_float(r, s, m):
        r[0]["label"] = 1.5

    def zero_frames(r, s, m):
        r[0]["keypoint"] = r[0]["keypoint"][:, :0]
        r[0]["keypoint_score"] = r[0]["keypoint_score"][:, :0]
        r[0]["total_frames"] = 0

    def total_mismatch(r, s, m):
        r[0]["total_frames"] = 500

    def kp_1d(r, s, m):
        r[0]["keypoint"] = np.zeros(5, np.float32)

    def img_neg(r, s, m):
        r[0]["img_shape"] = (-48, 48)

    def persons_many(r, s, m):
        r[0]["keypoint"] = np.repeat(r[0]["keypoint"], 200, axis=0)
        r[0]["keypoint_score"] = np.repeat(r[0]["keypoint_score"], 200, axis=0)

    def empty(r, s, m):
        r.clear()
        for k in s:
            s[k] = []

    for name, edit in [
        ("nan_kp.pkl", nan_kp), ("inf_kp.pkl", inf_kp), ("all_nan.pkl", all_nan),
        ("nan_score.pkl", nan_score), ("joints17.pkl", joints17),
        ("joints_all17.pkl", joints_all17), ("repeated_id.pkl", repeated),
        ("split_repeat.pkl", split_repeat), ("split_unknown.pkl", split_unknown),
        ("label_big.pkl", label_big), ("label_neg.pkl", label_neg),
        ("label_float.pkl", label_float), ("zero_frames.pkl", zero_frames),
        ("total_mismatch.pkl", total_mismatch), ("kp_1d.pkl", kp_1d),
        ("img_neg.pkl", img_neg), ("persons_many.pkl", persons_many),
        ("empty_records.pkl", empty),
    ]:  # fmt: skip
        variant(name, edit)
    with open(w / "not_dict.pkl", "wb") as f:
        pickle.dump([1, 2, 3], f)
    with open(w / "np_array.pkl", "wb") as f:
        pickle.dump(np.zeros(3), f)
    del AnnotationFile, save_annotations


def hostile(w: Path) -> None:
    """For each file type: empty, half, random bytes, PNG, text; a folder; a zip with data.pkl."""
    h = w / "bad"
    shutil.rmtree(h, ignore_errors=True)
    h.mkdir()
    rng = np.random.default_rng(1)
    valid = {
        "pkl": w / "ann.pkl", "npz": w / "run/test_val/scores.npz",
        "pt": w / "run/checkpoints/last.pt", "yaml": w / "cfg.yaml", "json": w / "truth.json",
        "csv": w / "stitched/truth.csv", "mp4": w / "videos/c00.mp4", "txt": w / "ids.txt",
    }  # fmt: skip
    for ext, src in valid.items():
        data = src.read_bytes()
        (h / f"empty.{ext}").write_bytes(b"")
        (h / f"half.{ext}").write_bytes(data[: len(data) // 2])
        (h / f"random.{ext}").write_bytes(rng.bytes(2048))
        (h / f"png.{ext}").write_bytes(b"\x89PNG\r\n\x1a\n" + rng.bytes(64))
        (h / f"text.{ext}").write_text("hello: [world\n")
        (h / f"dir.{ext}").mkdir(exist_ok=True)
        flipped = bytearray(data)
        for i in range(len(flipped) // 3, min(len(flipped), len(flipped) // 3 + 64)):
            flipped[i] ^= 0xFF
        (h / f"flip.{ext}").write_bytes(bytes(flipped))
    with zipfile.ZipFile(h / "zip_datapkl.pt", "w") as z:  # a zip, not torch's, with data.pkl
        z.writestr("data.pkl", pickle.dumps({"model": {}}))
    with zipfile.ZipFile(h / "zip_datapkl2.pt", "w") as z:
        z.writestr("archive/data.pkl", b"garbage")
    with zipfile.ZipFile(h / "zip_plain.npz", "w") as z:
        z.writestr("readme.txt", "not an array")
    np.savez(h / "wrong_keys.npz", x=np.zeros(3))
    np.save(h / "npy_as_npz.npy", np.zeros(3))
    shutil.move(h / "npy_as_npz.npy", h / "npy.npz")
    shutil.copy(valid["npz"], h / "scores_as.pkl")
    shutil.copy(valid["pkl"], h / "ann_as.npz")
    shutil.copy(valid["pt"], h / "ckpt_as.npz")
    shutil.copy(valid["npz"], h / "scores_as.pt")
    shutil.copy(valid["pkl"], h / "ann_as.pt")
    (h / "list.yaml").write_text("- 1\n- 2\n")
    (h / "unknown_key.yaml").write_text("data:\n  nope: 3\n")
    (h / "big_num.yaml").write_text("data:\n  num_classes: 1e400\n")
    (h / "anchors.yaml").write_text("a: &a [*a]\n")
    (h / "base_loop.yaml").write_text("base: base_loop.yaml\nname: x\n")
    (h / "base_missing.yaml").write_text("base: nowhere.yaml\n")
    (h / "truth_nan.csv").write_text("start,end,label\nnan,1.0,class 0\n")
    (h / "truth_neg.csv").write_text("start,end,label\n2.0,1.0,class 0\n")
    (h / "truth_cls.csv").write_text("start,end,label\n0.0,0.2,nosuchclass\n")
    (h / "truth_inf.csv").write_text("start,end,label\n0.0,inf,class 0\n")
    (h / "truth_cols.csv").write_text("a,b\n1,2\n")
    (h / "ids_empty_lines.txt").write_text("\n\n\n")
    (h / "ids_unknown.txt").write_text("zz1\nzz2\nzz3\nzz4\n")
    os.symlink("loop_b", h / "loop_a")
    os.symlink("loop_a", h / "loop_b")
    os.symlink(str(w / "nowhere"), h / "dangling.pkl")


def main(w: Path, utkinect: Path = UTKINECT) -> None:
    CLI = [mgproto_cli()]
    w.mkdir(parents=True, exist_ok=True)
    if (w / "DONE").exists():
        return
    ann = dataset(w)
    (w / "cfg.yaml").write_text("name: sweep\n")
    sets = [x for s in [f"data.annotations={ann}", *TINY] for x in ("--set", s)]
    (w / "sets.txt").write_text("\n".join(sets))
    sh(*CLI, "train", str(w / "cfg.yaml"), "--run-dir", str(w / "run"), *sets, "--device", "cpu")
    sh(*CLI, "test", str(w / "run"), "--split", "val", "--device", "cpu")
    sh(*CLI, "stitch", str(ann), "-o", str(w / "stitched"), "--split", "val", "--num-clips", "2")
    shutil.copy(w / "run/test_val/scores.npz", w / "val.npz")
    shutil.copy(w / "run/test_val/ids.json", w / "val_ids.json")
    from mgproto.data.annotations import load_annotations

    a = load_annotations(ann)
    ids = a.split["val"]
    (w / "ids.txt").write_text("\n".join(ids) + "\n")
    (w / "truth.json").write_text('[{"start": 0.0, "end": 0.2, "label": "class 0"}]')
    # a pose file for predict: one record
    from mgproto.data.annotations import AnnotationFile, save_annotations

    save_annotations(AnnotationFile(a.annotations[:1], {}, a.meta), w / "pose1.pkl")
    label_variants(w)
    ut = w / "utk"
    ut.mkdir(exist_ok=True)
    src = utkinect
    lines = src.joinpath("actionLabel.txt").read_text().splitlines()
    keep = []
    for i, line in enumerate(lines):
        if line.startswith("s01_e01") or line.startswith("s02_e01"):
            keep += lines[i : i + 11]
    ut.joinpath("actionLabel.txt").write_text("\n".join(keep) + "\n")
    for n in ("joints_s01_e01.txt", "joints_s02_e01.txt"):
        shutil.copy(src / n, ut / n)
    hostile(w)
    (w / "DONE").write_text("ok")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("world", type=Path, help="the folder to make")
    ap.add_argument("--utkinect", type=Path, default=UTKINECT, help="the UTKinect-Action3D root")
    a = ap.parse_args()
    main(a.world.resolve(), a.utkinect)
