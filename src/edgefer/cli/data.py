"""``edgefer data``: audit a data set, and write split manifests for a protocol.

edgefer data audit ../shared/datasets/fer2013 [--dataset fer2013] [--json] [--clean-manifest clean.csv]
edgefer data split fer2013=../shared/datasets/fer2013 --protocol official --out splits/fer2013
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="audit data sets and write split manifests")
    actions = parser.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    audit = actions.add_parser(
        "audit",
        help="class counts, duplicate / conflicting / blank / unreadable images of a data set",
        description="Report per-split class counts, groups of pixel-identical images (within a split, across "
        "splits, with conflicting labels), near-blank images and unreadable files.",
    )
    audit.add_argument("path", help="data-set folder or file (fer2013.csv), or a manifest CSV written by edgefer")
    audit.add_argument("--dataset", help="data-set name, when the layout alone does not tell it")
    audit.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    audit.add_argument(
        "--clean-manifest",
        metavar="OUT",
        help="write a manifest without cross-split duplicates, conflicting labels and unreadable files",
    )
    audit.add_argument("--drop-blank", action="store_true", help="leave near-blank images out of --clean-manifest")
    audit.add_argument("--workers", type=int, help="decoding processes (default: all cores)")
    audit.add_argument("--force", action="store_true", help="replace earlier results (an existing --clean-manifest)")
    audit.set_defaults(run=run_audit)

    split = actions.add_parser(
        "split",
        help="write train/val/test manifests for a split protocol",
        description="Write train.csv, val.csv and test.csv (one folder per fold for k-fold protocols).",
    )
    split.add_argument("data", help="NAME=PATH (e.g. fer2013=../shared/datasets/fer2013) or a data-set path")
    split.add_argument(
        "--protocol",
        default="official",
        help="official, stratified_60_20_20, kfold, subject_kfold or loso (default: official)",
    )
    split.add_argument("--seed", type=int, help="seed of the split where the protocol draws at random (default: 0)")
    split.add_argument("--fold", type=int, help="write only this fold (default: every fold)")
    split.add_argument("--n-folds", type=int, help="folds for kfold / subject_kfold (default 10)")
    split.add_argument("--out", required=True, help="output folder")
    split.add_argument("--force", action="store_true", help="replace earlier results (manifests already in --out)")
    split.set_defaults(run=run_split)


def run_audit(args: argparse.Namespace) -> int:
    from edgefer.cli.options import refuse_empty_output
    from edgefer.data import audit_samples, clean_samples, write_manifest
    from edgefer.errors import ConfigError, DatasetError
    from edgefer.outputs import claim_output_file

    if args.drop_blank and args.clean_manifest is None:
        raise ConfigError(
            "--drop-blank only shapes the manifest --clean-manifest writes; add --clean-manifest FILE or drop it"
        )
    if args.force and args.clean_manifest is None:
        raise ConfigError(
            "--force lets --clean-manifest replace an earlier manifest; add --clean-manifest FILE or drop --force"
        )
    refuse_empty_output("--clean-manifest", args.clean_manifest, kind="file")
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}; or leave it out to use all cores")
    if args.clean_manifest is not None:
        claim_output_file(args.clean_manifest, args.force)
    name, samples = _read_input(args.path, args.dataset)
    report = audit_samples(samples, workers=args.workers)
    if args.json:
        print(json.dumps({"dataset": name, "root": str(args.path), **report.to_json()}, indent=1))
    else:
        print(_format_report(name, args.path, report.to_json()))
    if len(report.unreadable) == len(samples):
        path, reason = samples[report.unreadable[0][0]].path, report.unreadable[0][1]
        raise DatasetError(
            f"none of the {len(samples)} images of {args.path} could be decoded (e.g. {path}: {reason}); "
            "check that the files are images (PNG or JPEG) and not empty or truncated copies"
        )
    if args.clean_manifest is not None:
        kept = clean_samples(report, drop_blank=args.drop_blank)
        if not kept:
            raise DatasetError(
                f"no image of {args.path} is left to list in {args.clean_manifest} (the report above says why: "
                "unreadable, blank or conflicting); nothing was written, fix the data set first"
            )
        write_manifest(args.clean_manifest, kept)
        if not args.json:
            print(f"\nclean manifest: {args.clean_manifest} ({len(kept)} of {len(samples)} images kept)")
    return 0


def run_split(args: argparse.Namespace) -> int:
    import shutil

    from edgefer.cli.options import refuse_empty_output, refuse_fold_options
    from edgefer.data import fold_count, manifest_hash, parse_data_spec, read_dataset, split_samples, write_manifest
    from edgefer.data.selection import PROTOCOL_SPLITS
    from edgefer.data.splits import FOLD_PROTOCOLS, PROTOCOLS, fold_folder, seed_ignored_because
    from edgefer.errors import ConfigError
    from edgefer.outputs import claim_output_folder

    refuse_empty_output("--out", args.out)
    out = Path(args.out)
    if args.protocol not in PROTOCOLS:
        raise ConfigError(f"unknown split protocol {args.protocol!r}; use one of {', '.join(PROTOCOLS)}")
    refuse_fold_options(args.protocol, args.fold, args.n_folds)
    folded = args.protocol in FOLD_PROTOCOLS
    if args.fold is not None and args.fold < 0:
        raise ConfigError(f"--fold must be 0 or more, got {args.fold}")
    # Claim the outputs before any data is read: the three manifests, or the fold folders this call writes (with
    # every fold, all earlier fold folders: a shorter protocol would leave them beside the new ones).
    if not folded:
        products = [f"{part}.csv" for part in PROTOCOL_SPLITS]
    elif args.fold is not None:
        products = [fold_folder(args.fold)]
    else:
        products = [path.name for path in out.glob("fold_*") if path.is_dir()] if out.is_dir() else []
    claim_output_folder(out, products, args.force)
    name, root = parse_data_spec(args.data)
    samples = read_dataset(name, root)
    reason = seed_ignored_because(samples, args.protocol) if args.seed is not None else None
    if reason:
        raise ConfigError(f"--seed does not change the {args.protocol} split here ({reason}); drop --seed")
    count = fold_count(samples, args.protocol, args.n_folds)
    folds = range(count) if args.fold is None else [args.fold]
    if folded and args.fold is None:
        for name in products:  # released by --force: an earlier split's folds, perhaps more than this one writes
            shutil.rmtree(out / name)
    for fold in folds:
        parts = split_samples(samples, args.protocol, seed=args.seed or 0, fold=fold, n_folds=args.n_folds)
        folder = out if not folded else out / fold_folder(fold)
        for part, part_samples in parts.items():
            write_manifest(folder / f"{part}.csv", part_samples)
        sizes = ", ".join(f"{part} {len(s)} ({manifest_hash(s)})" for part, s in parts.items())
        print(f"{folder}: {sizes}")
    return 0


def _read_input(path: str, dataset: str | None) -> tuple[str, list]:
    """A data set, named or recognised by its layout (a manifest CSV by its ``path`` column)."""
    from edgefer.data import detect_dataset, read_dataset

    name = dataset or detect_dataset(path, naming="name it with --dataset NAME")
    return name, read_dataset(name, path)


def _format_report(name: str, root: str, report: dict) -> str:
    from edgefer.labels import EMOTIONS_WITH_CONTEMPT

    classes = [c for c in EMOTIONS_WITH_CONTEMPT if any(c in counts for counts in report["class_counts"].values())]
    width = max(len(split) for split in report["splits"]) + 2
    subjects = f" of {report['subjects']:,} subjects" if report["subjects"] else ""
    lines = [f"{name} at {root}: {report['images']:,} images{subjects}", ""]
    lines.append(
        "split".ljust(width) + "images".rjust(8) + "".join(c.rjust(10) for c in classes) + "dup groups".rjust(12)
    )
    for split, count in report["splits"].items():
        counts = report["class_counts"][split]
        lines.append(
            split.ljust(width)
            + f"{count:8,}"
            + "".join(f"{counts.get(c, 0):10,}" for c in classes)
            + f"{report['within_split_duplicate_groups'][split]:12,}"
        )
    lines += [
        "",
        f"pixel-identical groups:  {len(report['duplicate_groups']):,} ({report['duplicate_images']:,} images)",
        f"  spanning splits:       {len(report['cross_split_duplicate_groups']):,}",
        f"  conflicting labels:    {len(report['conflicting_label_groups']):,}",
        f"near-blank images:       {len(report['blank_images']):,} (pixel std < {report['blank_std_threshold']})",
        f"suspected placeholders:  {len(report['suspected_placeholders']):,} (graphics: ≥ "
        f"{report['placeholder_flat_fraction']:.0%} of pixels one flat tone; review them by eye)",
        f"unreadable files:        {len(report['unreadable_files']):,}",
    ]
    lines += [f"  blank: {item['path']}" for item in report["blank_images"]]
    lines += [f"  placeholder? {item['path']}" for item in report["suspected_placeholders"]]
    lines += [f"  unreadable: {item['reason']}" for item in report["unreadable_files"]]
    return "\n".join(lines)
