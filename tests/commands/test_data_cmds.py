import numpy as np

from mgproto.cli import main
from mgproto.data.annotations import AnnotationFile, save_annotations


def test_preview_pose_refuses_3d_keypoints(tmp_path, capsys):
    rec = {"frame_dir": "c0", "label": 0, "total_frames": 3, "layout": "kinect20",
           "keypoint": np.full((1, 3, 20, 3), 2.0, np.float32)}  # fmt: skip
    path = save_annotations(AnnotationFile([rec]), tmp_path / "deep.npz")
    assert main(["preview-pose", str(path), "-o", str(tmp_path / "p.png")]) != 0
    assert "deep.npz: 3-D keypoints (x, y, z); preview-pose draws 2-D" in capsys.readouterr().err
    assert not (tmp_path / "p.png").exists()


def test_convert_summarises_skips_and_lists_them_all_beside_the_output(tmp_path, capsys):
    import argparse

    from mgproto.commands.data_cmds import _cmd_convert
    from mgproto.data.sequences import ConversionReport

    rec = {"frame_dir": "c0", "label": 0, "total_frames": 3, "img_shape": (48, 64),
           "keypoint": np.full((1, 3, 17, 2), 5.0, np.float32)}  # fmt: skip
    report = ConversionReport(written=1)
    for v in range(40):
        report.skip(f"video {v:04d}", "no skeleton folder", unit="video", clips=2)
    ann = AnnotationFile([rec], {}, {"layout": "coco17"})
    out = tmp_path / "x.pkl"
    args = argparse.Namespace(output=str(out), force=False, converter=lambda a: (ann, report))
    assert _cmd_convert(args) == 0
    text = capsys.readouterr().out
    assert text.startswith("wrote 1 clips, skipped 80 labelled clips\n")
    assert "  40 videos: no skeleton folder (80 clips)" in text
    assert text.count("  video 00") == 5  # the first few, not one line per skip
    assert f"all 40 skipped entries: {tmp_path / 'x.skipped.txt'}" in text
    listed = (tmp_path / "x.skipped.txt").read_text().splitlines()
    assert len(listed) == 40 and listed[0] == "video 0000: no skeleton folder"
    args = argparse.Namespace(output=str(out), force=True,
                              converter=lambda a: (ann, ConversionReport(written=1)))  # fmt: skip
    assert _cmd_convert(args) == 0
    assert not (tmp_path / "x.skipped.txt").exists()  # no stale list of an earlier run
    assert "skipped entries" not in capsys.readouterr().out
