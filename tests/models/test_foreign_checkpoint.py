"""Foreign checkpoints: MMEngine runner files (``message_hub`` history buffers, optimizer and
scheduler state) import without mmengine and without running their objects; other globals
(``os.system``) stay refused. ``write_runner_checkpoint`` (conftest.py) writes files of the
real structure; the oracle test checks that against checkpoints MMEngine's runner wrote."""

from __future__ import annotations

import importlib.util
import os
import pickletools
import subprocess
import sys
import types
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch

from mgproto.cli import main
from mgproto.config import ModelConfig
from mgproto.engine.checkpoint import load_model
from mgproto.fileio import UnsafeFileError
from mgproto.models import build_model
from mgproto.models.foreign_checkpoint import read_foreign_checkpoint

ORACLE = os.environ.get("MGPROTO_ORACLE_PYTHON")
SKIP_REASON = (
    "set MGPROTO_ORACLE_PYTHON to an interpreter with MMAction2 (`make oracle`, docs/oracle.md)"
)
ORACLE_SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "oracle_runner_checkpoint.py"
HISTORY_BUFFER = "mmengine.logging.history_buffer.HistoryBuffer"
RUNNER_STATE = ["meta", "message_hub", "optimizer", "param_schedulers"]
SETS = ["model.preset=tiny", "data.num_classes=4", "data.modalities=[pose]"]
SYSTEM = f"{os.system.__module__}.system"  # posix.system (nt.system on Windows)


@pytest.fixture(autouse=True)
def _no_mmengine():
    if importlib.util.find_spec("mmengine") is not None:
        pytest.skip("mmengine is installed here; these tests check its absence")


def _pose_state(seed: int, stream: str = "pose") -> tuple[torch.nn.Module, dict]:
    """A tiny single-stream model (PoseConv3D, or SlowOnly for ``rgb``) and its state dict
    under MMAction2's names (I3DHead: cls_head.fc_cls)."""
    torch.manual_seed(seed)
    model = build_model(ModelConfig(preset="tiny"), modalities=(stream,), num_classes=4,
                        pose_channels=17)  # fmt: skip
    state = {k.replace(f"head.{stream}.fc.", "cls_head.fc_cls."): v.clone()
             for k, v in model.state_dict().items()}  # fmt: skip
    return model, state


def _import_argv(src: Path, out: Path, *extra: str) -> list[str]:
    return ["import-checkpoint", str(src), "-o", str(out), *extra,
            *(a for s in SETS for a in ("--set", s))]  # fmt: skip


class _RunsCommand:
    """Pickles as ``os.system(command)``: what a malicious checkpoint would run on loading."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


@contextmanager
def _importable(module: str, name: str):
    """A class ``module.name`` importable for the duration (a library that is not installed)."""
    cls = type(name, (), {"__module__": module})
    parts = module.split(".")
    names = [".".join(parts[: i + 1]) for i in range(len(parts))]
    sys.modules.update({n: types.ModuleType(n) for n in names})
    setattr(sys.modules[module], name, cls)
    try:
        yield cls
    finally:
        for n in names:
            del sys.modules[n]


def test_runner_checkpoint_reads_without_mmengine_and_reports_its_runner_state(
    tmp_path, write_runner_checkpoint
):
    _, state = _pose_state(0)
    path = write_runner_checkpoint(tmp_path / "epoch_24.pth", state)
    assert "mmengine" not in sys.modules
    with pytest.raises(ModuleNotFoundError):  # the file really needs mmengine to unpickle
        torch.load(path, weights_only=False)
    ckpt = read_foreign_checkpoint(path)
    assert set(ckpt.state) == set(state)
    for key, value in state.items():
        assert torch.equal(ckpt.state[key], value), key
    assert ckpt.skipped == RUNNER_STATE
    assert ckpt.stand_ins[HISTORY_BUFFER] == 8  # one per logged scalar
    assert "builtins.getattr" in ckpt.stand_ins
    others = set(ckpt.stand_ins) - {HISTORY_BUFFER, "builtins.getattr"}
    assert others and all(n.startswith("numpy.") for n in others)  # arrays, dtypes, scalars
    summary = ckpt.summary()
    assert summary.startswith(
        "skipped (not needed for the weights): meta, message_hub, optimizer, param_schedulers\n"
    )
    assert f"8 x {HISTORY_BUFFER}" in summary and "never run" in summary
    assert "mmengine" not in sys.modules


@pytest.mark.parametrize("trust", [[], ["--trust-file"]], ids=["safe", "trust-file"])
def test_cli_imports_a_runner_checkpoint_without_mmengine(
    tmp_path, capsys, write_runner_checkpoint, trust
):
    """With or without --trust-file: the weights arrive whole, the runner state is reported."""
    src, state = _pose_state(0)
    path = write_runner_checkpoint(tmp_path / "best_acc_top1_epoch_3.pth", state)
    out = tmp_path / "ours.pt"
    assert main(_import_argv(path, out, *trust)) == 0
    printed = capsys.readouterr()
    assert "skipped (not needed for the weights): meta, message_hub, optimizer, " in printed.out
    assert HISTORY_BUFFER in printed.out and "(100% coverage)" in printed.out
    model, _ = load_model(out)
    for key, value in src.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, rtol=0, atol=0)


def test_forbidden_global_in_the_message_hub_is_refused_and_never_runs(
    tmp_path, capsys, write_runner_checkpoint
):
    _, state = _pose_state(0)
    marker = tmp_path / "owned"
    hook = {"hook": _RunsCommand(f"touch {marker}")}
    path = write_runner_checkpoint(tmp_path / "epoch_1.pth", state, runtime_extra=hook)
    with pytest.raises(UnsafeFileError, match=f"{path}: refusing to load {SYSTEM}"):
        read_foreign_checkpoint(path)
    out = tmp_path / "ours.pt"
    assert main(_import_argv(path, out)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mgproto import-checkpoint: error: {path}: refusing to load {SYSTEM}")
    assert "--trust-file" in err and "Traceback" not in err
    assert not marker.exists() and not out.exists()


def test_trust_file_reads_a_class_whose_library_is_missing_as_a_stand_in(
    tmp_path, capsys, write_runner_checkpoint
):
    """A global of another library (not runner state) is refused without --trust-file; with it,
    the full unpickling fails on the missing module and the file is read with stand-ins."""
    src, state = _pose_state(0)
    with _importable("mmdet.structures", "DetDataSample") as sample:
        path = write_runner_checkpoint(tmp_path / "epoch_2.pth", state,
                                       runtime_extra={"sample": sample()})  # fmt: skip
    out = tmp_path / "ours.pt"
    assert main(_import_argv(path, out)) == 2
    err = capsys.readouterr().err
    assert f"{path}: refusing to load mmdet.structures.DetDataSample" in err
    assert main(_import_argv(path, out, "--trust-file")) == 0
    printed = capsys.readouterr()
    assert "Traceback" not in printed.err
    assert "1 x mmdet.structures.DetDataSample" in printed.out
    model, _ = load_model(out)
    key = "head.pose.fc.weight"
    torch.testing.assert_close(model.state_dict()[key], src.state_dict()[key], rtol=0, atol=0)


def test_info_names_a_runner_checkpoint_and_its_runner_state(
    tmp_path, capsys, write_runner_checkpoint
):
    _, state = _pose_state(0)
    path = write_runner_checkpoint(tmp_path / "epoch_24.pth", state)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{path}: a foreign checkpoint (MMAction2 / PYSKL?) with {len(state)} tensors" in out
    assert "skipped (not needed for the weights): meta, message_hub" in out


def test_merge_init_takes_runner_checkpoints_and_reports_their_runner_state(
    tmp_path, capsys, write_runner_checkpoint
):
    paths = {}
    for stream in ("rgb", "pose"):
        _, state = _pose_state(0, stream)
        paths[stream] = write_runner_checkpoint(tmp_path / f"{stream}_epoch_24.pth", state)
    out = tmp_path / "merged.pt"
    argv = ["merge-init", "--rgb", str(paths["rgb"]), "--pose", str(paths["pose"]), "-o",
            str(out), "--set", "model.preset=tiny", "--set", "data.num_classes=4"]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    for path in paths.values():
        assert f"{path}: skipped (not needed for the weights): meta, message_hub" in printed
    assert "(100% coverage)" in printed and out.is_file()


# --- the fixture against checkpoints MMEngine's runner wrote (opt-in) ---------------------


def _pickle_of(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))


def _normal(name: str) -> str:
    """numpy 2 pickles its module as numpy._core; the oracle has numpy 2, we may have 1.x."""
    return name.replace("numpy._core.", "numpy.core.").replace(" ", ".")


def _globals_and_opcodes(path: Path) -> tuple[set[str], set[str]]:
    ops = list(pickletools.genops(_pickle_of(path)))
    return {_normal(arg) for op, arg, _ in ops if op.name == "GLOBAL"}, {op.name for op, *_ in ops}


class _Recorded:
    """Stands for a global of the file and keeps what the pickle gave it."""

    origin = ""

    def __new__(cls, *args: object) -> _Recorded:  # NEWOBJ calls only __new__
        obj = super().__new__(cls)
        obj.args = args
        return obj

    def __init__(self, *args: object) -> None:
        pass

    def __setstate__(self, state: object) -> None:
        self.state = state


# Dicts whose keys vary from run to run (logged names, parameter indices, weight names).
_ANY_KEYS = {"state_dict", "message_hub.log_scalars", "message_hub.resumed_keys",
             "optimizer.state"}  # fmt: skip


def _layout(obj: object, at: str = "") -> set[tuple[str, str]]:
    """(path, type) of every value the pickle builds, globals by their (numpy-normal) name."""
    if isinstance(obj, type) and issubclass(obj, _Recorded):
        return {(at, "class " + _normal(obj.origin))}
    if isinstance(obj, _Recorded):
        out = {(at, _normal(obj.origin))}
        out |= _layout(obj.args, f"{at}()") | _layout(getattr(obj, "state", None), f"{at}.state")
        return out
    out = {(at, type(obj).__name__)}
    if isinstance(obj, dict):
        for key, value in obj.items():
            name = "*" if at in _ANY_KEYS or not isinstance(key, str) else key
            out |= _layout(value, f"{at}.{name}".lstrip("."))
    elif isinstance(obj, list | tuple):
        for value in obj:
            out |= _layout(value, f"{at}[]")
    return out


def _loaded_layout(path: Path) -> set[tuple[str, str]]:
    names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    kinds = [(type(n, (_Recorded,), {"origin": n}), n) for n in names]
    with torch.serialization.safe_globals(kinds):
        return _layout(torch.load(path, map_location="cpu", weights_only=True))


@pytest.mark.oracle
@pytest.mark.skipif(not ORACLE, reason=SKIP_REASON)
def test_fixture_pickles_like_a_real_runner_checkpoint(tmp_path, write_runner_checkpoint):
    """MMEngine's Runner trains a toy model two epochs (tools/oracle_runner_checkpoint.py);
    the fixture, written with the same weights, has the same globals, opcodes and layout,
    and our reader takes the real file's weights without mmengine."""
    run = tmp_path / "run"
    proc = subprocess.run([ORACLE, str(ORACLE_SCRIPT), str(run)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    with np.load(run / "weights.npz") as z:
        weights = {k: torch.from_numpy(z[k]) for k in z.files}
    real = run / "epoch_2.pth"
    fake = write_runner_checkpoint(tmp_path / "fixture.pth", weights)
    real_globals, real_ops = _globals_and_opcodes(real)
    assert {HISTORY_BUFFER, "__builtin__.getattr"} <= real_globals  # protocol 2 names
    assert _globals_and_opcodes(fake) == (real_globals, real_ops)
    assert _loaded_layout(fake) == _loaded_layout(real)
    (best,) = run.glob("best_top1_epoch_*.pth")  # saved without optimizer and schedulers
    for path, skipped in ((real, RUNNER_STATE), (best, ["meta", "message_hub"])):
        ckpt = read_foreign_checkpoint(path)
        assert ckpt.skipped == skipped and HISTORY_BUFFER in ckpt.stand_ins
        assert set(ckpt.state) == set(weights)
    for key, value in read_foreign_checkpoint(real).state.items():
        assert torch.equal(value, weights[key]), key
