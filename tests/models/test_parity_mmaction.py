"""Parity of our models with MMAction2's (opt-in: needs the oracle environment, docs/oracle.md).

For each model the oracle builds MMAction2's module with seeded init (BN affine parameters and
statistics randomised so that no bottleneck is an identity), saves its state dict under
MMAction2's key names and runs it in eval mode; we import the checkpoint with
``load_mmaction_weights`` and run ours on the same inputs, in float64.
"""

from __future__ import annotations

import os

import pytest

ORACLE = os.environ.get("MGPROTO_ORACLE_PYTHON")
SKIP_REASON = (
    "set MGPROTO_ORACLE_PYTHON to an interpreter with MMAction2 (`make oracle`, docs/oracle.md)"
)
TOL = 1e-4


def _client():
    """tools/oracle_client.py (imported only when the oracle is there)."""
    from tools import oracle_client

    return oracle_client


def _assert_parity(result, streams: tuple[str, ...]) -> None:
    report = result.report
    assert report.missing == [] and report.unexpected == [] and report.shape_mismatch == []
    assert report.loaded > 0
    assert result.params_ours == result.params_ref
    assert result.params_ours_total == result.params_ref_total
    assert set(result.diffs) == {f"{n}.{s}" for n in ("features", "logits") for s in streams}
    for name, diff in result.diffs.items():
        assert diff < TOL, f"{result.kind}/{result.preset} {name}: max |diff| {diff:.2e}"


@pytest.mark.oracle
@pytest.mark.skipif(not ORACLE, reason=SKIP_REASON)
@pytest.mark.parametrize("kind", ["rgbpose", "pose", "rgb"])
def test_tiny_preset_matches_mmaction2(kind):
    oc = _client()
    result = oc.check_parity(kind, "tiny", oracle=ORACLE, dtype="float64", batch=2)
    _assert_parity(result, oc.KINDS[kind])


@pytest.mark.oracle
@pytest.mark.slow
@pytest.mark.skipif(not ORACLE, reason=SKIP_REASON)
def test_paper_rgbposeconv3d_matches_mmaction2():
    """The reference RGBPoseConv3D (default arguments, 36.0 M) at RGB 1x3x8x224x224 and
    heatmaps 1x17x32x56x56."""
    oc = _client()
    result = oc.check_parity("rgbpose", "paper", oracle=ORACLE, dtype="float64", batch=1)
    _assert_parity(result, ("rgb", "pose"))
    assert round(result.params_ref / 1e6, 1) == 36.0
    assert result.shapes["features.rgb"] == (1, 2048, 8, 7, 7)
    assert result.shapes["features.pose"] == (1, 512, 32, 7, 7)


@pytest.mark.oracle
@pytest.mark.slow
@pytest.mark.skipif(not ORACLE, reason=SKIP_REASON)
@pytest.mark.parametrize("kind", ["pose", "rgb"])
def test_paper_single_stream_matches_mmaction2(kind):
    """PoseConv3D (temporal strides (1, 1, 1)) and SlowOnly-R50 with I3DHead."""
    oc = _client()
    result = oc.check_parity(kind, "paper", oracle=ORACLE, dtype="float64", batch=1)
    _assert_parity(result, (kind,))
    channels, frames = (512, 32) if kind == "pose" else (2048, 8)
    assert result.shapes[f"features.{kind}"] == (1, channels, frames, 7, 7)


@pytest.mark.oracle
@pytest.mark.skipif(not ORACLE, reason=SKIP_REASON)
def test_stgcnpp_matches_mmaction2():
    """ST-GCN++ (MMAction2 1.2.0 STGCN, COCO graph, init-adaptive, residual, mstcn + GCNHead):
    same weights through import-by-name, same outputs."""
    oc = _client()
    result = oc.check_stgcn_parity(oracle=ORACLE, dtype="float64")
    _assert_parity(result, ("pose",))
    assert result.params_ref == 1377596  # the backbone: 1.38 M parameters
    assert result.shapes["features.pose"] == (2, 1, 256, 6, 17)


@pytest.mark.oracle
@pytest.mark.skipif(not ORACLE, reason=SKIP_REASON)
@pytest.mark.parametrize("layout", ["coco17", "openpose18", "kinect25"])
def test_stgcnpp_input_streams_match_mmaction2(layout):
    """Joint, bone, joint motion and bone motion from the same raw keypoints, float64: equal to
    the reference's GenSkeFeat (coco and openpose with a score channel, nturgb+d in 3-D)."""
    diffs = _client().check_skeleton_features(oracle=ORACLE, layout=layout)
    assert set(diffs) == {"joint", "bone", "joint_motion", "bone_motion"}
    for name, diff in diffs.items():
        assert diff == 0.0, f"{layout} {name}: max |diff| {diff:.2e}"


@pytest.mark.oracle
@pytest.mark.skipif(not ORACLE, reason=SKIP_REASON)
@pytest.mark.parametrize(
    ("window", "size", "frames"),
    [((8, 7, 7), 72, 10), ((4, 4, 4), 64, 8)],  # padded windows; windows that fit (shifted)
)
def test_video_swin_matches_mmaction2(window, size, frames):
    """Video Swin (MMAction2 1.2.0 SwinTransformer3D + I3DHead, random LayerNorm affine) at
    small widths: imported by name, same outputs, with padded and shifted windows."""
    oc = _client()
    result = oc.check_swin_parity(
        oracle=ORACLE, arch=oc.SWIN_TINY_TEST, window=window, size=size, frames=frames
    )
    _assert_parity(result, ("rgb",))


@pytest.mark.oracle
@pytest.mark.skipif(not ORACLE, reason=SKIP_REASON)
def test_swin_tiny_matches_mmaction2_at_its_size():
    """Swin-T's real widths (27.85 M parameters with a 32-class head), float32."""
    oc = _client()
    result = oc.check_swin_parity(oracle=ORACLE, arch="tiny", dtype="float32", size=112, frames=16)
    _assert_parity(result, ("rgb",))
    assert result.params_ref == 27850470
    assert result.shapes["features.rgb"] == (1, 768, 8, 4, 4)
