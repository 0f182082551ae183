"""The training objective: label smoothing and mixup of the classification CE, against
hand-computed values, and the config path that sets them."""

import math

import pytest
import torch
import torch.nn.functional as F

from mgproto.build import model_from_config, objective_from_config
from mgproto.config import load_config
from mgproto.losses.objective import mix_inputs

TCN = ["data.modalities=[pose]", "data.pose.representation=coords", "model.arch=tcn"]


def _objective(smoothing: float):
    cfg = load_config(None, [*TCN, "data.num_classes=4", f"train.label_smoothing={smoothing}"])
    torch.manual_seed(0)
    objective = objective_from_config(cfg, model_from_config(cfg)).eval()
    assert objective.label_smoothing == smoothing
    return objective


def test_label_smoothing_matches_the_hand_computed_cross_entropy():
    batch = {"coords": torch.randn(3, 1, 1, 16, 17, 3), "label": torch.tensor([0, 2, 3])}
    plain, smoothed = _objective(0.0), _objective(0.2)
    smoothed.load_state_dict(plain.state_dict())
    _, out, terms = plain(batch)
    _, _, terms_s = smoothed(batch)
    logp = torch.log_softmax(out.logits["pose"].double(), dim=1)
    nll = -logp[torch.arange(3), batch["label"]]
    # target (1 - e) one-hot + e / K: (1 - e) NLL + e * mean over classes of -log p
    expected = (0.8 * nll + 0.2 * (-logp).mean(dim=1)).mean()
    assert math.isclose(terms["ce_pose"].item(), nll.mean().item(), rel_tol=1e-5)
    assert math.isclose(terms_s["ce_pose"].item(), expected.item(), rel_tol=1e-5)
    assert terms_s["ce_pose"].item() != terms["ce_pose"].item()


def test_reference_default_is_plain_cross_entropy():
    assert load_config(None, []).train.label_smoothing == 0.0


def test_mix_inputs_blends_every_modality_with_one_lam_and_permutation():
    x, y = torch.randn(5, 2, 3), torch.randn(5, 4)
    torch.manual_seed(3)
    lam, perm, mixed = mix_inputs({"heatmaps": x, "imgs": y, "coords": None}, 0.4)
    torch.manual_seed(3)
    assert lam == float(torch.distributions.Beta(0.4, 0.4).sample())  # the global generator
    assert 0 < lam < 1 and sorted(perm.tolist()) == list(range(5))
    assert mixed["coords"] is None
    assert torch.allclose(mixed["heatmaps"], lam * x + (1 - lam) * x[perm])
    assert torch.allclose(mixed["imgs"], lam * y + (1 - lam) * y[perm])


def test_mixup_cross_entropy_is_the_lam_weighted_pair_on_the_blended_batch():
    cfg = load_config(None, [*TCN, "data.num_classes=4", "model.dropout=0", "train.mixup_alpha=1"])
    torch.manual_seed(0)
    objective = objective_from_config(cfg, model_from_config(cfg)).train()
    batch = {"coords": torch.randn(6, 1, 1, 16, 17, 3), "label": torch.tensor([0, 1, 2, 3, 0, 1])}
    torch.manual_seed(7)
    _, out, terms = objective(batch)
    torch.manual_seed(7)
    lam, perm, mixed = mix_inputs({"coords": batch["coords"]}, 1.0)
    assert perm.tolist() != list(range(6))
    assert torch.allclose(
        out.logits["pose"], objective.model(coords=mixed["coords"]).logits["pose"]
    )
    logits, labels = out.logits["pose"], batch["label"]
    expected = lam * F.cross_entropy(logits, labels) + (1 - lam) * F.cross_entropy(
        logits, labels[perm]
    )
    assert math.isclose(terms["ce_pose"].item(), expected.item(), rel_tol=1e-5)
    objective.eval()  # no blending outside training
    _, out_eval, _ = objective(batch)
    assert torch.allclose(
        out_eval.logits["pose"], objective.model(coords=batch["coords"]).logits["pose"]
    )


def test_mixup_refuses_the_per_sample_losses():
    sets = [*TCN, "data.num_classes=4", "train.mixup_alpha=0.2", "model.prototype.enabled=true"]
    cfg = load_config(None, sets)
    with pytest.raises(ValueError, match="mixup_alpha"):
        objective_from_config(cfg, model_from_config(cfg))
    assert load_config(None, []).train.mixup_alpha == 0.0
