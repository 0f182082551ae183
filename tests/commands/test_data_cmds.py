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
