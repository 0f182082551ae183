"""The training objective: label smoothing of the classification CE, against a hand-computed
value, and the config path that sets it."""

import math

import torch

from mgproto.build import model_from_config, objective_from_config
from mgproto.config import load_config

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
