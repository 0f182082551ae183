import numpy as np
import pytest
import torch

from mgproto.data.converters.common import IMIGUE_CLASSES
from mgproto.data.semantic import load_class_vectors, vector_width
from mgproto.data.synthetic import CLASS_NAMES


def test_bundled_glove_table_and_rows_by_name():
    full = load_class_vectors("imigue32_glove300", num_classes=32)
    assert (
        full.shape == (32, 300)
        and full.dtype == np.float32
        and vector_width("imigue32_glove300") == 300
    )
    # same table for the MiGA class list in label order ("bit lip" in the file = "bite lip")
    np.testing.assert_array_equal(
        load_class_vectors("imigue32_glove300", num_classes=32, class_names=list(IMIGUE_CLASSES)),
        full,
    )
    names = list(CLASS_NAMES)  # the synthetic benchmark's iMiGUE-named classes
    sub = load_class_vectors("imigue32_glove300", num_classes=len(names), class_names=names)
    for k, name in enumerate(names):
        np.testing.assert_array_equal(sub[k], full[list(IMIGUE_CLASSES).index(name)])
    with pytest.raises(ValueError, match="no row for class 'walk'"):
        load_class_vectors("imigue32_glove300", num_classes=2, class_names=["walk", "touch chin"])


def test_vector_files_are_checked(tmp_path):
    np.save(tmp_path / "v.npy", np.ones((3, 5), np.float32))
    assert load_class_vectors(str(tmp_path / "v.npy"), num_classes=3).shape == (3, 5)
    with pytest.raises(ValueError, match=r"finite \(4, D\) array"):
        load_class_vectors(str(tmp_path / "v.npy"), num_classes=4)
    np.save(tmp_path / "nan.npy", np.full((3, 5), np.nan))
    with pytest.raises(ValueError, match="finite"):
        load_class_vectors(str(tmp_path / "nan.npy"), num_classes=3)
    with pytest.raises(ValueError, match="gone.npy: class-vector file not found"):
        load_class_vectors(str(tmp_path / "gone.npy"), num_classes=3)


def test_semantic_loss_is_weighted_mse_on_the_pooled_feature(tmp_path):
    from mgproto.build import model_from_config, objective_from_config
    from mgproto.config import load_config

    vectors = np.random.default_rng(0).standard_normal((3, 5)).astype(np.float32)
    np.save(tmp_path / "v.npy", vectors)
    cfg = load_config(None, [
        "data.modalities=[pose]", "data.pose.representation=coords", "model.arch=tcn",
        "data.pose.layout=coco17", "data.num_classes=3", "model.semantic.enabled=true",
        f"model.semantic.vectors={tmp_path / 'v.npy'}", "model.semantic.weight=20",
    ])  # fmt: skip
    model = model_from_config(cfg)
    objective = objective_from_config(cfg, model)
    batch = {"coords": torch.randn(4, 1, 1, 16, 17, 3), "label": torch.tensor([0, 1, 2, 1])}
    loss, out, terms = objective(batch)
    expected = 20 * ((out.semantic["pose"] - torch.from_numpy(vectors)[batch["label"]]) ** 2).mean()
    torch.testing.assert_close(terms["jse_pose"], expected.detach())
    loss.backward()
    assert model.head["pose"].emb_fc.weight.grad.abs().sum() > 0
    assert "class_vectors" not in objective.state_dict()  # data, not weights
