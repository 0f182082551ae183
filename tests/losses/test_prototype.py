import numpy as np
import pytest
import torch

from mgproto.losses.prototype import PrototypeRefinementLoss

# 4 samples, 3 classes, 2-D embeddings:
#   0: label 0, predicted 0 (TP of 0)        1: label 0, predicted 1 (FN of 0, FP of 1)
#   2: label 1, predicted 1 (TP of 1)        3: label 2, predicted 0 (FN of 2, FP of 0)
# class 2 has no true positive, so its prototype must not move.
Z = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]]
LOGITS = [[2.0, 0.0, 0.0], [0.0, 1.0, 0.5], [0.0, 3.0, 0.0], [1.0, 0.0, 0.2]]
LABELS = [0, 0, 1, 2]
PROTOS = [[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]


def _reference(z, logits, labels, protos, alpha=0.125, tau=0.125, rho=0.9):
    """The spec (reference-spec 4.3) written out with loops in float64."""
    z, logits, protos = (np.asarray(a, np.float64) for a in (z, logits, protos))
    n, k = logits.shape
    pred = logits.argmax(1)
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    new = protos.copy()
    for c in range(k):
        tp = [i for i in range(n) if labels[i] == c and pred[i] == c]
        if tp:
            new[c] = rho * protos[c] + (1 - rho) * z[tp].mean(0)

    def unit(v):
        return v / (np.linalg.norm(v) + 1e-12)

    loss = 0.0
    for i in range(n):
        y = labels[i]
        fn = [j for j in range(n) if labels[j] == y and pred[j] != y]
        fp = [j for j in range(n) if pred[j] == y and labels[j] != y]
        s_fn = np.array([unit(new[c]) @ unit(z[i]) for c in range(k)])
        s_fp = s_fn.copy()
        m = alpha * (1 - p[i, y])
        if fn:
            s_fn[y] += m * (unit(z[fn].mean(0)) @ unit(z[i]) - 1)
        if fp:
            s_fp[y] += m * (-(unit(z[fp].mean(0)) @ unit(z[i])) - 1)
        for s in (s_fn / tau, s_fp / tau):
            loss += -(s[y] - np.log(np.exp(s).sum()))
    return loss / n, new


def _run(z=Z, logits=LOGITS, labels=LABELS, protos=PROTOS, **kw):
    z = torch.tensor(z, requires_grad=True)
    buf = torch.tensor(protos)
    loss = PrototypeRefinementLoss(**kw)(z, torch.tensor(logits), torch.tensor(labels), buf)
    return loss, buf, z


def test_known_values_and_ema():
    loss, buf, _ = _run()
    expected, new = _reference(Z, LOGITS, LABELS, PROTOS)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    # by hand: P0 = 0.9 (1, 0) + 0.1 (1, 0); P1 = 0.9 (0, 1) + 0.1 (1, 1); P2 unchanged
    np.testing.assert_allclose(buf.numpy(), [[1.0, 0.0], [0.1, 1.0], [1.0, -1.0]], atol=1e-6)
    np.testing.assert_allclose(buf.numpy(), new, atol=1e-6)


def test_all_correct_batch_has_no_correction():
    logits = [[3.0, 0, 0], [3.0, 0, 0], [0, 3.0, 0], [0, 0, 3.0]]
    loss, _, _ = _run(logits=logits)
    expected, _ = _reference(Z, logits, LABELS, PROTOS)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_hyper_parameters_matter():
    base = _run()[0].item()
    assert _run(alpha=0.5)[0].item() != pytest.approx(base)
    assert _run(tau=0.5)[0].item() != pytest.approx(base)
    expected, _ = _reference(Z, LOGITS, LABELS, PROTOS, alpha=0.5, tau=0.25, rho=0.5)
    assert _run(alpha=0.5, tau=0.25, momentum=0.5)[0].item() == pytest.approx(expected, rel=1e-5)


def test_gradient_reaches_embeddings_through_the_updated_prototype():
    loss, _, z = _run()
    loss.backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    # sample 2 is class 1's only true positive: it also moves P1 (the 0.1 c_TP term)
    z2 = torch.tensor(Z, requires_grad=True)
    loss2 = PrototypeRefinementLoss()(
        z2, torch.tensor(LOGITS), torch.tensor(LABELS), torch.tensor(PROTOS), update=False
    )
    assert torch.allclose(loss2, loss.detach())


def test_permutation_invariance():
    perm = [2, 0, 3, 1]
    a, buf_a, _ = _run()
    b, buf_b, _ = _run(
        z=[Z[i] for i in perm], logits=[LOGITS[i] for i in perm], labels=[LABELS[i] for i in perm]
    )
    assert a.item() == pytest.approx(b.item(), rel=1e-6)
    assert torch.allclose(buf_a, buf_b)


def _memory_run(memory, logits=LOGITS, z=Z):
    """One step of the loss with centre memories (a (fn, fp) pair of (K, D) buffers)."""
    loss_fn = PrototypeRefinementLoss()
    loss = loss_fn(
        torch.tensor(z), torch.tensor(logits), torch.tensor(LABELS), torch.tensor(PROTOS),
        fn_memory=memory[0], fp_memory=memory[1],
    )  # fmt: skip
    return loss, loss_fn.activity


def test_centre_memory_first_batch_is_the_batch_centres():
    memory = (torch.zeros(3, 2), torch.zeros(3, 2))
    loss, activity = _memory_run(memory)
    assert loss.item() == pytest.approx(_reference(Z, LOGITS, LABELS, PROTOS)[0], rel=1e-5)
    # FN of class 0 = sample 1, of class 2 = sample 3; FP of 1 = sample 1, of 0 = sample 3
    np.testing.assert_allclose(memory[0].numpy(), [[0, 1], [0, 0], [-1, 0]])
    np.testing.assert_allclose(memory[1].numpy(), [[-1, 0], [0, 1], [0, 0]])
    # non-zero pulls: sample 0 only (1 and 3 are their class's lone FN, 2's class has none);
    # pushes: 1 and 2 (sample 0 is opposite to class 0's FP, so -cos - 1 = 0)
    assert activity["fn"].item() == pytest.approx(0.25)
    assert activity["fp"].item() == pytest.approx(0.5)


def test_centre_memory_corrects_a_batch_without_errors():
    correct = [[3.0, 0, 0], [3.0, 0, 0], [0, 3.0, 0], [0, 0, 3.0]]
    batch_loss = _run(logits=correct)[0].item()
    memory = (torch.zeros(3, 2), torch.zeros(3, 2))
    _memory_run(memory)
    remembered = [m.clone() for m in memory]
    loss, activity = _memory_run(memory, logits=correct)
    assert activity["fn"].item() > 0 and loss.item() != pytest.approx(batch_loss)
    for before, after in zip(remembered, memory, strict=True):  # no FN / FP: memory kept
        torch.testing.assert_close(before, after)
    # the same loss by hand: the remembered centres in place of the batch's
    z, protos, p = (np.asarray(a, np.float64) for a in (Z, PROTOS, correct))
    p = np.exp(p) / np.exp(p).sum(1, keepdims=True)
    new = protos.copy()
    for c in range(3):
        new[c] = 0.9 * protos[c] + 0.1 * z[[i for i in range(4) if LABELS[i] == c]].mean(0)

    def unit(v):
        return v / (np.linalg.norm(v) + 1e-12)

    total = 0.0
    for i, y in enumerate(LABELS):
        base = np.array([unit(new[c]) @ unit(z[i]) for c in range(3)])
        m = 0.125 * (1 - p[i, y])
        for sign, centre in ((1, remembered[0][y]), (-1, remembered[1][y])):
            s = base.copy()
            if centre.abs().sum() > 0:
                s[y] += m * (sign * (unit(centre.numpy()) @ unit(z[i])) - 1)
            s = s / 0.125
            total += -(s[y] - np.log(np.exp(s).sum()))
    assert loss.item() == pytest.approx(total / 4, rel=1e-5)


def test_centre_memory_is_an_ema():
    memory = (torch.zeros(3, 2), torch.zeros(3, 2))
    _memory_run(memory)
    z = [[1.0, 0.0], [2.0, 2.0], [1.0, 1.0], [-1.0, 0.0]]  # class 0's FN is now (2, 2)
    _memory_run(memory, z=z)
    np.testing.assert_allclose(memory[0][0].numpy(), [0.2, 0.9 + 0.2], atol=1e-6)
    np.testing.assert_allclose(memory[0][1].numpy(), [0, 0])  # class 1 never had an FN


WORKER = """
import sys, torch, torch.distributed as dist
from mgproto.losses.prototype import PrototypeRefinementLoss
rank, world, port, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
Z, LOGITS, LABELS, PROTOS = {data}
dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{{port}}", rank=rank,
                        world_size=world)
half = slice(2 * rank, 2 * rank + 2)
buf, fn, fp = torch.tensor(PROTOS), torch.zeros(3, 2), torch.zeros(3, 2)
PrototypeRefinementLoss()(torch.tensor(Z[half]), torch.tensor(LOGITS[half]),
                          torch.tensor(LABELS[half]), buf, fn_memory=fn, fp_memory=fp)
torch.save(torch.cat([buf, fn, fp]), out)
dist.destroy_process_group()
"""


def test_prototypes_and_centres_identical_across_two_gloo_processes(tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    script = tmp_path / "worker.py"
    script.write_text(WORKER.format(data=repr((Z, LOGITS, LABELS, PROTOS))))
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(r), "2", str(port), str(tmp_path / f"rank{r}.pt")]
        )
        for r in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=120) == 0
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt").numpy() for r in range(2))
    np.testing.assert_array_equal(rank0, rank1)
    # equal to one process seeing the whole batch (TP, and with memory FN / FP, sums are
    # all-reduced): the centres of class 0's FN (rank 0) and of class 2's (rank 1) on both
    _, single, _ = _run()
    memory = (torch.zeros(3, 2), torch.zeros(3, 2))
    _memory_run(memory)
    np.testing.assert_allclose(rank0, torch.cat([single, *memory]).numpy(), atol=1e-6)
