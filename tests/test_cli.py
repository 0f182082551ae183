import argparse
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from mgproto.cli import main
from mgproto.data.annotations import AnnotationFile, save_annotations

ROOT = Path(__file__).resolve().parents[1]


def test_config_verb(capsys):
    assert main(["config", "--set", "data.pose.sigma=0.7"]) == 0
    assert "sigma: 0.7" in capsys.readouterr().out
    assert main(["config", "--set", "data.pose.sigmaa=0.7"]) == 2
    assert "unknown key data.pose.sigmaa" in capsys.readouterr().err


def test_one_set_takes_several_items_and_repeats(capsys):
    assert main(["config", "--set", "data.pose.sigma=0.5", "data.num_classes=7",
                 "--set", "train.epochs=3"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "sigma: 0.5" in out and "num_classes: 7" in out and "epochs: 3" in out


def test_a_config_after_set_is_a_usage_error_that_says_so(capsys):
    with pytest.raises(SystemExit) as err:
        main(["config", "--set", "data.pose.sigma=0.5", "configs/cpu/pose_only.yaml"])
    assert err.value.code == 2
    assert "'configs/cpu/pose_only.yaml' is not KEY=VALUE" in capsys.readouterr().err
    config = str(ROOT / "configs" / "cpu" / "pose_only.yaml")
    assert main(["config", "--set", "data.pose.sigma=0.5", "--", config]) == 0
    assert "name: cpu_pose_only" in capsys.readouterr().out


def test_inspect_and_preview(tmp_path, make_rec, capsys):
    recs = [make_rec(f"v_{k}", label=k % 2, num_frames=12, seed=k) for k in range(4)]
    path = save_annotations(
        AnnotationFile(
            recs, {"train": ["v_0", "v_1"]}, {"layout": "coco17", "classes": ["a", "b"]}
        ),
        tmp_path / "x.pkl",
    )
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "4 records, all valid; 2-D keypoints; layout coco17" in out and "class   1 b: 2" in out
    png = tmp_path / "sheet.png"
    assert main(["preview-pose", str(path), "-o", str(png), "--frames", "3"]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["preview-pose", str(path), "-o", str(png), "--clips", "nope"]) == 2
    assert "no clip 'nope'" in capsys.readouterr().err


def test_bad_file_gives_one_clear_error(tmp_path, capsys):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps({"split": {}, "annotations": [{"frame_dir": "a"}]})[:-3])
    assert main(["inspect", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mgproto inspect: error:") and "bad.pkl" in err
    assert len(err.strip().splitlines()) == 1


def test_python_dash_m_entry_point():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "mgproto", "--help"], capture_output=True, text=True, check=True
    )
    assert "convert" in out.stdout and "inspect" in out.stdout


@pytest.mark.parametrize("fmt", ["imigue", "miga2023", "miga2025", "smg", "utdmhad", "utkinect"])
def test_convert_formats_listed(fmt, capsys):
    with pytest.raises(SystemExit):
        main(["convert", fmt, "--help"])
    assert "-o" in capsys.readouterr().out


def _all_help() -> dict[str, str]:
    """The help text of `mgproto`, every verb and every `convert` format."""
    from mgproto.cli import build_parser

    def subparsers(parser):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                return action.choices
        return {}

    root = build_parser()
    out = {"mgproto": root.format_help()}
    for verb, parser in subparsers(root).items():
        out[verb] = parser.format_help()
        out |= {f"{verb} {name}": p.format_help() for name, p in subparsers(parser).items()}
    return out


def test_help_is_plain_text_for_users():
    """No reStructuredText markup and no internal module or function names in any help."""
    texts = _all_help()
    assert "convert imigue" in texts and "convert utkinect" in texts
    markup = re.compile(r"``|:(func|class|mod|data|meth):`|mgproto\.[a-z_]+\.|\w+\(\)")
    bad = {name: markup.search(text).group(0) for name, text in texts.items()
           if markup.search(text)}  # fmt: skip
    assert bad == {}


def test_every_option_has_help():
    from mgproto.cli import build_parser

    missing = []
    parsers = [("mgproto", build_parser())]
    while parsers:
        name, parser = parsers.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers += [(f"{name} {n}", p) for n, p in action.choices.items()]
            elif action.help is None:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"mgproto {version('mgproto')}"


def test_a_closed_pipe_ends_quietly(tmp_path, make_rec):
    """`mgproto info ... | head`: the reader is gone; no "Broken pipe" message, no traceback."""
    import os
    import subprocess
    import sys

    path = save_annotations(AnnotationFile([make_rec("a")]), tmp_path / "a.pkl")
    for argv in (["info", str(path)], ["inspect", str(path)], ["--help"]):
        read, write = os.pipe()
        os.close(read)  # every write to the pipe fails with EPIPE
        try:
            proc = subprocess.run([sys.executable, "-m", "mgproto", *argv], stdout=write,
                                  stderr=subprocess.PIPE, text=True, timeout=120)  # fmt: skip
        finally:
            os.close(write)
        assert proc.stderr == "", (argv, proc.stderr)
        # 141 = killed by SIGPIPE, as `cmd | head` leaves C tools; argparse's help ignores it
        assert proc.returncode == (0 if argv == ["--help"] else 141), argv


def test_keypoints_untouched_by_inspect(tmp_path, make_rec):
    rec = make_rec("z", num_frames=5)
    path = save_annotations(AnnotationFile([rec]), tmp_path / "z.npz")
    main(["inspect", str(path)])
    with np.load(path) as z:
        assert z["0/keypoint"].shape == (1, 5, 17, 2)


def test_help_does_not_import_torch():
    """`mgproto --help` and every `mgproto VERB --help` stay fast: no torch, no matplotlib."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from mgproto.cli import build_parser\n"
        "parser = build_parser()\n"
        "verbs = next(a for a in parser._actions if a.dest == 'verb').choices\n"
        "for verb, sub in verbs.items():\n"
        "    sub.format_help()\n"
        "heavy = [m for m in ('torch', 'matplotlib', 'mediapipe') if m in sys.modules]\n"
        "print(len(verbs), heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, heavy = out.stdout.split(" ", 1)
    assert int(count) >= 15 and heavy.strip() == "[]", out.stdout


def test_synth_verb(tmp_path, capsys):
    out = tmp_path / "d"
    argv = ["synth", "--size", "tiny", "--out", str(out), "--seed", "2", "--workers", "1"]
    assert main([*argv, "--preview"]) == 0
    text = capsys.readouterr().out
    assert "illustrative" in text and "total" in text and "48 clips" in text
    assert (out / "preview.png").stat().st_size > 10_000


def test_preview_pose_over_the_video(tmp_path, make_rec, capsys):
    from mgproto.data.video import write_video

    video = write_video(tmp_path / "long.mp4", np.zeros((30, 48, 64, 3), np.uint8), fps=25)
    rec = make_rec("v_0", num_frames=12, img_shape=(48, 64))
    rec["start_frame"] = 10  # frames 10..21 of the long video
    path = save_annotations(AnnotationFile([rec], {}, {"layout": "coco17"}), tmp_path / "x.npz")
    png = tmp_path / "sheet.png"
    args = ["preview-pose", str(path), "-o", str(png), "--frames", "3", "--video"]
    assert main([*args, str(video)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main([*args, str(tmp_path / "gone.mp4")]) == 2
    err = capsys.readouterr().err
    assert "gone.mp4: video file not found" in err and len(err.strip().splitlines()) == 1
    rec["start_frame"] = 25  # frames 25..36: the video ends at 29
    save_annotations(AnnotationFile([rec], {}, {"layout": "coco17"}), path)
    assert main([*args, str(video)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mgproto preview-pose: error: {video}: frame 31 cannot be decoded")
    assert "clip 'v_0' covers video frames 25..36" in err and len(err.strip().splitlines()) == 1
    two = [make_rec(f"c{k}", label=k, num_frames=5, img_shape=(48, 64)) for k in range(2)]
    for k, r in enumerate(two):
        r["video_id"] = f"video{k}"
    two_path = save_annotations(AnnotationFile(two, {}, {"layout": "coco17"}), tmp_path / "t.pkl")
    assert main(["preview-pose", str(two_path), "-o", str(png), "--video", str(video)]) == 2
    assert "come from 2 videos (video0, video1)" in capsys.readouterr().err


def test_add_noise_verb(tmp_path, make_rec, capsys):
    recs = [make_rec(f"v_{k}", label=k % 2, num_frames=12, seed=k) for k in range(4)]
    split = {"train": ["v_0", "v_1"], "test": ["v_2", "v_3"]}
    path = save_annotations(AnnotationFile(recs, split, {"layout": "coco17"}), tmp_path / "x.pkl")
    out = tmp_path / "noisy.pkl"
    args = ["add-noise", str(path), "-o", str(out), "--level", "strong", "--split", "test"]
    assert main([*args, "--drop-frame", "0.5"]) == 0
    assert "split 'test' (2 clips)" in capsys.readouterr().out
    with open(out, "rb") as f:
        noisy = pickle.load(f)
    assert noisy["meta"]["noise"]["drop_frame"] == 0.5  # the flag overrides the level
    assert noisy["meta"]["noise"]["jitter"] == 0.03 and noisy["meta"]["noise"]["records"] == 2
    by_id = {r["frame_dir"]: r for r in noisy["annotations"]}
    np.testing.assert_array_equal(by_id["v_0"]["keypoint"], recs[0]["keypoint"])  # train clean
    assert not np.array_equal(by_id["v_2"]["keypoint"], recs[2]["keypoint"])
    assert main(args) == 2  # the output exists: refused without --force
    assert "exists" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:  # a share is range-checked by argparse
        main([*args, "--force", "--drop-joint", "1.5"])
    assert exit_.value.code == 2
    assert "argument --drop-joint: 1.5 is out of range" in capsys.readouterr().err
