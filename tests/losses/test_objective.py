"""The training objective's classification term against a hand-computed cross-entropy."""

import math

import torch

from mgproto.build import model_from_config, objective_from_config
from mgproto.config import load_config

TCN = ["data.modalities=[pose]", "data.pose.representation=coords", "model.arch=tcn"]


def test_classification_term_is_the_plain_cross_entropy_of_each_stream():
    cfg = load_config(None, [*TCN, "data.num_classes=4"])
    torch.manual_seed(0)
    objective = objective_from_config(cfg, model_from_config(cfg)).eval()
    batch = {"coords": torch.randn(3, 1, 1, 16, 17, 3), "label": torch.tensor([0, 2, 3])}
    loss, out, terms = objective(batch)
    logp = torch.log_softmax(out.logits["pose"].double(), dim=1)
    nll = -logp[torch.arange(3), batch["label"]]
    assert math.isclose(terms["ce_pose"].item(), nll.mean().item(), rel_tol=1e-5)
    assert math.isclose(loss.item(), nll.mean().item(), rel_tol=1e-5)
