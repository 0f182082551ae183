import numpy as np
import pytest

from mgproto.config import load_config
from mgproto.data.annotations import AnnotationError, AnnotationFile, save_annotations
from mgproto.data.loader import eval_loader, load_split, train_loader


@pytest.fixture
def file_3d(tmp_path):
    """Four kinect20 3-D records (metres, camera frame), two per split."""
    rng = np.random.default_rng(0)
    records = [
        {"frame_dir": f"c{i}", "label": i % 2, "total_frames": 10,
         "keypoint": rng.normal([0, 0, 3], 0.3, (1, 10, 20, 3)).astype(np.float32)}
        for i in range(4)
    ]  # fmt: skip
    ann = AnnotationFile(records, {"train": ["c0", "c1"], "test": ["c2", "c3"]})
    return save_annotations(ann, tmp_path / "deep.npz")


def _cfg(path, *extra):
    return load_config(None, [
        f"data.annotations={path}", "data.modalities=[pose]", "data.num_classes=2",
        "data.pose.layout=kinect20", "data.pose.representation=coords", "model.arch=stgcn",
        "data.pose.clip_len=8", "data.pose.keypoint_dims=3", *extra,
    ])  # fmt: skip


def test_3d_file_gives_xyz_batches(file_3d):
    cfg = _cfg(file_3d)
    records, root, _ = load_split(cfg.data, "train")
    batch = next(iter(train_loader(cfg.data, records, root, batch_size=2, num_workers=0, seed=0)))
    assert batch["coords"].shape == (2, 1, 1, 8, 20, 3)
    assert batch["coords"][..., 2].abs().max() < 2  # PreNormalize3D: z is body-relative
    test = eval_loader(cfg.data, records, root, batch_size=2, num_workers=0, num_clips=2)
    assert next(iter(test))["coords"].shape == (2, 4, 1, 8, 20, 3)


def test_3d_file_with_a_heatmap_config_is_refused_naming_the_file(file_3d):
    cfg = _cfg(file_3d, "data.pose.representation=heatmaps", "model.arch=conv3d")
    with pytest.raises(AnnotationError, match=r"deep\.npz: 3-D keypoints .* need "
                       r"data.pose.representation=coords"):  # fmt: skip
        load_split(cfg.data, "train")


def test_a_file_whose_dimension_differs_from_the_config_is_refused(file_3d):
    cfg = _cfg(file_3d, "data.pose.keypoint_dims=2")
    with pytest.raises(AnnotationError, match=r"deep\.npz: the keypoints have 3 coordinates but "
                       r"data.pose.keypoint_dims is 2; set data.pose.keypoint_dims=3 \(or, if "
                       r"the third value is a detection confidence"):  # fmt: skip
        load_split(cfg.data, "train")


def test_a_joint_count_other_than_the_layouts_names_the_config_key(tmp_path, make_rec):
    """17-joint records with data.pose.layout=imigue22: the message says what to set."""
    recs = [make_rec(f"c{i}", layout=None) for i in range(2)]
    path = save_annotations(AnnotationFile(recs, {"train": ["c0", "c1"]}), tmp_path / "p.pkl")
    cfg = load_config(None, [f"data.annotations={path}", "data.num_classes=2",
                             "data.pose.layout=imigue22"])  # fmt: skip
    with pytest.raises(AnnotationError, match=r"p\.pkl: record 0 \('c0'\): keypoint has 17 "
                       r"joints, but data.pose.layout is 'imigue22' \(22 joints\); set "
                       r"data.pose.layout=coco17$"):  # fmt: skip
        load_split(cfg.data, "train")
    recs = [make_rec(f"c{i}", layout="coco17", num_joints=17) for i in range(2)]
    ann = AnnotationFile(recs, {"train": ["c0", "c1"]}, {"layout": "coco17"})
    save_annotations(ann, path)
    cfg = load_config(None, [f"data.annotations={path}", "data.num_classes=2",
                             "data.pose.layout=openpose25"])  # fmt: skip
    with pytest.raises(AnnotationError, match=r"is 'openpose25' \(25 joints\); set "
                       r"data.pose.layout=coco17$"):  # fmt: skip
        load_split(cfg.data, "train")
