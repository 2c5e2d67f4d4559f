"""``edgefer val``: accuracy, macro-F1, per-class precision/recall/F1 and a confusion matrix of trained weights.

    edgefer val --weights runs/hcmtmm/best.pt --data fer2013=../shared/datasets/fer2013 --split PrivateTest
    edgefer val --weights ck.pt --data ckplus48=../shared/datasets/ckplus48 --protocol subject_kfold --fold 3 \\
        --split test --tta flip
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from edgefer.data.selection import PROTOCOL_SPLITS
from edgefer.evaluate.tta import TTA_MODES

if TYPE_CHECKING:
    import torch

REPORT_FILES = ("report.json", "confusion_matrix.png")  # what write_report writes


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "val",
        help="evaluate trained weights on a data set split",
        description="Evaluate trained weights on one split of a data set: accuracy, macro-F1, per-class "
        "precision/recall/F1, confusion matrix (JSON + PNG). Images of classes the model lacks are dropped and "
        "outputs of classes the data set lacks are ignored; the output says which.",
    )
    parser.add_argument("--weights", required=True, metavar="W.pt", help="weights file written by edgefer train")
    parser.add_argument("--data", required=True, metavar="NAME=PATH", help="data set, e.g. fer2013=path/to/fer2013")
    parser.add_argument(
        "--split",
        default="test",
        help="an official split of the data set (e.g. PrivateTest), train/val/test of --protocol, or all "
        "(every image, for a model trained on another data set) (default: test)",
    )
    parser.add_argument("--protocol", help="split protocol for train/val/test (default: official)")
    parser.add_argument("--fold", type=int, help="fold of a k-fold protocol (default: 0)")
    parser.add_argument(
        "--n-folds", type=int, help="folds of a k-fold protocol (default: 10; loso has one per subject)"
    )
    parser.add_argument("--split-seed", type=int, help="seed of the split itself (default: 0)")
    parser.add_argument("--tta", choices=TTA_MODES, default="none", help="test-time augmentation (default: none)")
    parser.add_argument("--batch-size", type=int, default=256, help="images per forward pass (default: 256)")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present), cpu, cuda or cuda:N")
    parser.add_argument(
        "--out",
        help="output folder (default: runs/val/<weights>_<data set>[_<protocol>-fold<N>][_seed<S>]_<split>[_tta-MODE]; "
        "<weights> is the file's stem, with its run folder for best/last.pt)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object instead of a table")
    parser.add_argument("--force", action="store_true", help="replace earlier results (a report already in --out)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json
    import time

    from edgefer.cli.options import refuse_empty_output
    from edgefer.data import load_arrays, parse_data_spec, read_dataset
    from edgefer.data.selection import select_split
    from edgefer.errors import ConfigError
    from edgefer.evaluate.evaluator import evaluate_arrays
    from edgefer.evaluate.report import format_table, write_report
    from edgefer.models import load_weights
    from edgefer.models.weights import model_classes
    from edgefer.outputs import claim_output_folder

    refuse_empty_output("--out", args.out)
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {args.batch_size}")
    _check_split_options(args)
    name, root = parse_data_spec(args.data)
    # manifests all read as the data set "manifest": their default folders are told apart by the file's place
    label = name if name != "manifest" else f"manifest-{root.parent.name}-{root.stem}"
    out_dir = Path(args.out) if args.out is not None else _default_out(args, label)
    claim_output_folder(out_dir, REPORT_FILES, args.force)
    device = _resolve_device(args.device)
    model = load_weights(args.weights).to(device)
    samples = read_dataset(name, root)
    _check_split_seed(args, samples)
    chosen, split = select_split(samples, args.split, args.protocol, args.split_seed, args.fold, args.n_folds)
    images, labels = load_arrays(chosen, model.preprocess.image_size)

    start = time.perf_counter()
    report = evaluate_arrays(
        model,
        images,
        labels,
        dataset_labels=sorted({sample.label for sample in samples}),
        tta=args.tta,
        batch_size=args.batch_size,
    )
    report.update(
        {
            "weights": str(args.weights),
            "model": model.model_name,
            "model_classes": list(model_classes(model)),
            "data": {
                "name": name,
                "root": str(root),
                "split": split,
                **_split_options(args),
                "unreadable_images": len(chosen) - len(images),  # skipped with a warning, not scored
            },
            "tta": args.tta,
            "device": str(device),
            "seconds": round(time.perf_counter() - start, 3),
        }
    )
    title = f"{model.model_name} on {name} {split} (accuracy {100 * report['accuracy']:.2f}%)"
    paths = write_report(report, out_dir, title=title)

    if args.json:
        print(json.dumps(report))
        return 0
    unreadable = report["data"]["unreadable_images"]
    skipped = f" ({unreadable} unreadable, not scored)" if unreadable else ""
    counted = f"{report['n_images']} images{skipped}"
    print(f"{model.model_name} ({args.weights}) on {name} {split}: {counted}, tta {args.tta}")
    if report["class_match"]["note"]:
        print(f"note: {report['class_match']['note']} ({report['class_match']['dropped_images']} images dropped)")
    print(format_table(report))
    print(f"wrote {paths['json']} and {paths['confusion_matrix']}")
    return 0


def _check_split_options(args: argparse.Namespace) -> None:
    """Refuse protocol options that the chosen split would ignore (a silently ignored --fold evaluates another
    set of images than the one asked for), then fill in --fold's default (--split-seed's is filled in once the data
    set is read, by which time its refusal has been decided)."""
    from edgefer.cli.options import refuse_fold_options
    from edgefer.errors import ConfigError

    options = {
        "--protocol": args.protocol,
        "--fold": args.fold,
        "--n-folds": args.n_folds,
        "--split-seed": args.split_seed,
    }
    if args.split not in PROTOCOL_SPLITS:
        given = [option for option, value in options.items() if value is not None]
        if given:
            choose, they = ("choose", "they do") if len(given) > 1 else ("chooses", "it does")
            raise ConfigError(
                f"{', '.join(given)} {choose} part of a split protocol, but --split {args.split} is a whole split "
                f"that {they} not change; drop {', '.join(given)}, or use --split {'/'.join(PROTOCOL_SPLITS)}"
            )
    args.protocol = args.protocol or "official"
    refuse_fold_options(args.protocol, args.fold, args.n_folds)
    args.fold = args.fold or 0


def _check_split_seed(args: argparse.Namespace, samples: list) -> None:
    """Refuse --split-seed where it would not change the split asked for (known only once the data set is read:
    RAF-DB's official val part is drawn with the seed, FER2013's is its own PublicTest), then fill in its default."""
    from edgefer.data.splits import seed_ignored_because
    from edgefer.errors import ConfigError

    if args.split_seed is not None and args.split in PROTOCOL_SPLITS:
        reason = seed_ignored_because(samples, args.protocol, args.split)
        if reason:
            raise ConfigError(
                f"--split-seed does not change {args.split} of {args.protocol} here ({reason}); drop --split-seed"
            )
    args.split_seed = args.split_seed or 0


def _split_options(args: argparse.Namespace) -> dict:
    """What else identifies the split: the protocol options when --split names a part of a protocol."""
    if args.split not in PROTOCOL_SPLITS:
        return {}
    return {"protocol": args.protocol, "fold": args.fold, "n_folds": args.n_folds, "split_seed": args.split_seed}


def _default_out(args: argparse.Namespace, dataset: str) -> Path:
    """One folder per weights and evaluation setting, so that evaluating another way keeps earlier reports. A run's
    ``best.pt``/``last.pt`` are named with their run folder (``dmsnet_light-best``)."""
    weights = Path(args.weights)
    name = f"{weights.parent.name}-{weights.stem}" if weights.stem in ("best", "last") else weights.stem
    parts = [name, dataset]
    if args.protocol != "official":
        parts.append(f"{args.protocol}-fold{args.fold}")
    if args.split_seed:
        parts.append(f"seed{args.split_seed}")
    parts.append(args.split)
    if args.tta != "none":
        parts.append(f"tta-{args.tta}")
    return Path("runs") / "val" / "_".join(parts)


def _resolve_device(name: str) -> torch.device:
    import torch

    from edgefer.errors import ConfigError

    cuda_available = torch.cuda.is_available()
    if name == "auto":
        return torch.device("cuda" if cuda_available else "cpu")
    if name == "cpu" or name == "cuda" or name.startswith("cuda:"):
        if name != "cpu" and not cuda_available:
            raise ConfigError(f"--device {name} asked for CUDA, which is not available here; use --device cpu")
        return torch.device(name)
    raise ConfigError(f"--device {name!r} is not auto, cpu, cuda or cuda:N")
