"""Model verbs: train, test, merge-init, import-checkpoint."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from mgproto.commands.argtypes import (
    MAX_BATCH,
    MAX_CLIPS,
    add_set_option,
    batch_size,
    num_clips,
    positive_int,
)
from mgproto.commands.outputs import add_force, output_of
from mgproto.config import load_config
from mgproto.fileio import check_input


def _add_config_args(p: argparse.ArgumentParser, *, required: bool) -> None:
    p.add_argument(
        "config",
        nargs=None if required else "?",
        default=None,
        help="YAML experiment config (overrides of the defaults)",
    )
    add_set_option(p, "override fields, e.g. train.epochs=5")


def _cmd_train(args: argparse.Namespace) -> int:
    from mgproto.config.files import config_files
    from mgproto.engine.trainer import train

    if args.config is None:  # resume with the run's own config
        if not (args.resume and args.run_dir):
            raise ValueError("give a config file (or --resume --run-dir RUN to continue a run)")
        args.config = str(check_input(Path(args.run_dir) / "config.yaml", what="run config"))
    cfg = load_config(args.config, args.set)
    run_dir = Path(args.run_dir or Path("runs") / cfg.name)
    result = train(
        cfg,
        run_dir=run_dir,
        init=args.init,
        resume=args.resume,
        device=args.device,
        max_steps=args.max_steps,
        inputs=tuple(config_files(args.config)),  # never replaced by the run's config.yaml
    )
    if result.best:
        print(f"best fused top-1 {result.best['fused_top1']:.4f} at epoch {result.best['epoch']}")
    print(f"run directory: {result.run_dir}")
    return 0


def _cmd_test(args: argparse.Namespace) -> int:
    from mgproto.engine.checkpoint import resolve_checkpoint
    from mgproto.engine.testing import default_split, run_test
    from mgproto.report.test_figures import write_test_figures

    ckpt = resolve_checkpoint(args.checkpoint)
    split = args.split or default_split(ckpt, "test", args.set)
    out_dir = (
        Path(args.out)
        if args.out
        else (
            ckpt.parent.parent / f"test_{split}"
            if ckpt.parent.name == "checkpoints"
            else ckpt.with_name(f"{ckpt.stem}_test_{split}")
        )
    )
    report = run_test(
        ckpt,
        split=split,
        out_dir=out_dir,
        overrides=args.set,
        num_clips=args.clips,
        flip=args.flip,
        device=args.device,
        batch_size=args.batch_size,
    )
    write_test_figures(out_dir)
    if report is not None:
        print(
            json.dumps(
                {
                    s: {
                        **{m: round(v[m], 4) for m in ("top1", "top5", "mean_class_acc")},
                        "top1_interval95": [round(x, 4) for x in v["top1_interval95"]],
                    }
                    for s, v in report.items()
                },
                indent=1,
            )
        )
    print(f"wrote {out_dir}")
    return 0


def _merge_input(path: str, *, trust_file: bool) -> tuple[dict, dict | None]:
    """(state dict, our checkpoint or None) of one merge-init input: ours, else a foreign
    (MMAction2 / PYSKL) single-stream checkpoint; refused if a weight is NaN or inf."""
    from mgproto.engine.checkpoint import (
        UnusableCheckpointError,
        check_finite,
        load_checkpoint,
        resolve_checkpoint,
    )
    from mgproto.models.foreign_checkpoint import read_foreign_checkpoint

    path = resolve_checkpoint(path)
    try:
        ck = load_checkpoint(path)
    except UnusableCheckpointError:  # no checkpoint at all, or ours without its weights
        raise
    except ValueError:  # not ours: an MMAction2 / PYSKL single-stream checkpoint
        source = read_foreign_checkpoint(path, trust_file=trust_file)
        for line in source.summary().splitlines():
            print(f"{path}: {line}")
        check_finite(source.state, source=str(path))
        return source.state, None
    check_finite(ck["model"], source=str(path))  # a NaN init trains nothing
    return ck["model"], ck


def _cmd_merge_init(args: argparse.Namespace) -> int:
    from mgproto.build import model_from_config
    from mgproto.engine.checkpoint import resolve_checkpoint, save_checkpoint
    from mgproto.engine.merge import merge_unimodal

    inputs = [resolve_checkpoint(args.rgb), resolve_checkpoint(args.pose)]
    output = output_of(args, inputs=inputs)
    rgb, _ = _merge_input(args.rgb, trust_file=args.trust_file)
    pose, pose_ck = _merge_input(args.pose, trust_file=args.trust_file)
    if args.config or args.set or pose_ck is None:
        cfg = load_config(args.config, args.set)
    else:  # the pose run's config, made two-stream (its coordinate stream, if any, kept)
        from mgproto.config import load_config_text

        cfg = load_config_text(pose_ck["config"], source=args.pose)
    if cfg.data.modalities != ("rgb", "pose"):
        cfg = dataclasses.replace(
            cfg, data=dataclasses.replace(cfg.data, modalities=("rgb", "pose"))
        )
    import torch

    torch.manual_seed(cfg.seed)  # the laterals and fusions that no input fills: reproducible
    model = model_from_config(cfg)
    report = merge_unimodal(model, rgb, pose)
    print(report.summary())
    if report.uncovered and not args.allow_partial:
        raise ValueError(
            f"{output}: not written: {len(report.uncovered)} of {report.num_required} pathway / "
            f"classifier tensors found no match (e.g. {report.uncovered[0]}); are both inputs "
            "single-stream checkpoints of this model? (--allow-partial writes it anyway)"
        )
    out = save_checkpoint(
        output, cfg=cfg, model=model, source={"rgb": str(args.rgb), "pose": str(args.pose)}
    )
    print(f"wrote {out}; train with `mgproto train CONFIG --init {out}`")
    return 0


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a model (single process, or under torchrun)")
    _add_config_args(p, required=False)
    p.add_argument("--run-dir", default=None, help="default: runs/<config name>")
    p.add_argument("--init", default=None, help="start from this checkpoint (e.g. merge-init)")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --run-dir with its own settings (docs/cli.md: what may change)",
    )
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument(
        "--max-steps",
        type=positive_int,
        default=None,
        help="stop after this many optimiser steps (a resumable checkpoint is kept)",
    )
    p.set_defaults(func=_cmd_train)


def _add_test(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("test", help="evaluate a run or checkpoint: metrics, scores, figures")
    p.add_argument("checkpoint", help="run directory (best.pt) or checkpoint file")
    p.add_argument(
        "--split",
        default=None,
        help="split of the annotation file (default: the run's data.test_split)",
    )
    p.add_argument(
        "--clips",
        type=num_clips,
        default=None,
        help=f"test clips per sample, <= {MAX_CLIPS} (default: the config's)",
    )
    p.add_argument(
        "--flip",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add the mirrored view (default: the config's)",
    )
    p.add_argument("--out", default=None, help="output folder (default: RUN/test_<split>)")
    add_set_option(p, "override data fields, e.g. data.annotations=other.pkl")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    p.add_argument(
        "--batch-size", type=batch_size, default=None,
        help=f"test clips per forward pass, <= {MAX_BATCH} (default: the config's "
        "train.batch_size)",
    )  # fmt: skip
    p.set_defaults(func=_cmd_test)


def _add_merge_init(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "merge-init", help="two-stream init from an RGB-only and a pose-only checkpoint"
    )
    p.add_argument("--rgb", required=True, help="RGB-only run dir or checkpoint (ours / MMAction2)")
    p.add_argument("--pose", required=True, help="pose-only run dir or checkpoint")
    p.add_argument("-o", "--output", required=True, help="two-stream init checkpoint to write")
    p.add_argument(
        "--config",
        default=None,
        help="the two-stream config (default: the pose run's, made two-stream)",
    )
    add_set_option(p, "override fields of the config")
    p.add_argument(
        "--trust-file",
        action="store_true",
        help="allow full unpickling of foreign checkpoints you trust",
    )
    _add_partial(p, "merge even if some pathway tensors find no match")
    add_force(p)
    p.set_defaults(func=_cmd_merge_init)


def _cmd_import_checkpoint(args: argparse.Namespace) -> int:
    from mgproto.build import model_from_config
    from mgproto.engine.checkpoint import check_torch_file, save_checkpoint
    from mgproto.models.checkpoint_import import load_mmaction_weights
    from mgproto.models.foreign_checkpoint import read_foreign_checkpoint

    output = output_of(args)
    cfg = load_config(args.config, args.set)
    check_torch_file(check_input(args.source, what="checkpoint"))  # a PNG is no checkpoint
    model = model_from_config(cfg)
    source = read_foreign_checkpoint(args.source, trust_file=args.trust_file)
    report = load_mmaction_weights(model, source.state, modalities=cfg.data.modalities)
    print("\n".join(filter(None, [source.summary(), report.summary()])))
    if report.shape_mismatch and not args.allow_mismatch:
        raise ValueError(
            f"{args.source}: {len(report.shape_mismatch)} tensors do not fit the "
            "model of this config (see above); fix the config or pass "
            "--allow-mismatch"
        )
    if report.loaded == 0:
        raise ValueError(
            f"{args.source}: no tensor matches the model of this config; {output} not written"
        )
    if report.missing and not (args.allow_partial or args.allow_mismatch):
        raise ValueError(
            f"{args.source}: covers {report.coverage:.0%} of the model ({len(report.missing)} "
            f"tensors would keep their random init, e.g. {report.missing[0]}); {output} not "
            "written (--allow-partial writes it anyway)"
        )
    out = save_checkpoint(output, cfg=cfg, model=model, source={"imported_from": str(args.source)})
    print(f"wrote {out}")
    return 0


def _add_import_checkpoint(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-checkpoint", help="convert an MMAction2 / PYSKL checkpoint into an mgproto one"
    )
    p.add_argument("source", help="MMAction2 / PYSKL .pth file")
    p.add_argument("-o", "--output", required=True, help="mgproto checkpoint to write")
    p.add_argument("--config", default=None, help="YAML config describing the model")
    add_set_option(p, "override fields of the config")
    p.add_argument(
        "--trust-file",
        action="store_true",
        help="allow full unpickling (only for files from a source you trust)",
    )
    p.add_argument(
        "--allow-mismatch",
        action="store_true",
        help="write the checkpoint even if some tensors do not fit",
    )
    _add_partial(p, "write the checkpoint even if some of the model's tensors find no match")
    add_force(p)
    p.set_defaults(func=_cmd_import_checkpoint)


def _add_partial(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("--allow-partial", action="store_true", help=text)


def register(sub: argparse._SubParsersAction) -> None:
    for add in (_add_train, _add_test, _add_merge_init, _add_import_checkpoint):
        add(sub)
