"""`make demo`'s configs load, and every step of scripts/demo.sh names a config that exists
(cheap: nothing is trained)."""

import re
from pathlib import Path

import pytest

from mgproto.config import load_config

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "configs" / "demo"
SCRIPT = ROOT / "scripts" / "demo.sh"
MODES = {"demo": "configs/demo", "full": "configs/synthetic"}  # demo.sh's third argument


def _script_configs() -> list[str]:
    """The config file names the demo script trains or merges with: ``$CONF/<name>.yaml``."""
    return re.findall(r"\$CONF/([\w.-]+\.yaml)", SCRIPT.read_text())


@pytest.mark.parametrize("path", sorted(DEMO.glob("*.yaml")), ids=lambda p: p.name)
def test_demo_config_loads(path):
    cfg = load_config(path)
    assert cfg.name.startswith("demo_") and cfg.data.num_classes == 15
    assert cfg.data.annotations == "work/synthetic/demo/annotations.pkl"


def test_demo_script_steps_reference_existing_configs():
    names = _script_configs()
    assert set(names) >= {"pose_only.yaml", "rgb_only.yaml", "paper.yaml", "swin.yaml",
                          "gcn_joint_jse.yaml"}  # fmt: skip
    text = SCRIPT.read_text()
    for mode, folder in MODES.items():
        assert f"CONF={folder}" in text, mode
        for name in names:
            assert (ROOT / folder / name).is_file(), f"{mode}: {folder}/{name} is missing"
    # every demo config is used by the script (no stale file in configs/demo/)
    assert {p.name for p in DEMO.glob("*.yaml")} == set(names)


def test_demo_and_full_differ_only_in_size_and_schedule():
    """The short demo runs the same method as `make demo-full`: same inputs, models and modules;
    only the data size, epochs and test clips differ."""
    for name in _script_configs():
        demo = load_config(DEMO / name)
        full = load_config(ROOT / "configs" / "synthetic" / name)
        assert demo.data.modalities == full.data.modalities, name
        assert demo.model.arch == full.model.arch, name
        if demo.model.arch != "swin":  # the demo's Swin is a smaller one (configs/demo/swin.yaml)
            assert demo.model == full.model, name
            assert demo.data.pose == full.data.pose and demo.data.rgb == full.data.rgb, name
            assert demo.train.epochs <= full.train.epochs, name
        assert demo.data.sampling.num_clips_test <= full.data.sampling.num_clips_test, name


def test_demo_paper_merges_the_demo_pretraining():
    """merge-init takes the pose and RGB pathways whole: the paper config's must match them."""
    paper, pose, rgb = (load_config(DEMO / f"{n}.yaml") for n in ("paper", "pose_only", "rgb_only"))
    assert paper.model.pose_base == pose.model.pose_base
    assert paper.model.preset == pose.model.preset == rgb.model.preset
    assert paper.model.fusion.enabled and paper.model.prototype.enabled
