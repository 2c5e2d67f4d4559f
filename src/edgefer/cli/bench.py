"""`edgefer bench`: profile one model, every registered model, or list them."""

from __future__ import annotations

import argparse
import sys

from edgefer.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="profile models: parameters, MACs, memory, weight size, latency in PyTorch and ONNX Runtime",
        description="Profile registered models at batch 1. Latency is timed on 1 thread and on --threads threads, "
        "and shown against this machine's fp32 matmul throughput measured in the same run.",
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", metavar="NAME", help="profile one registered model")
    which.add_argument("--all", action="store_true", help="profile every registered model (see --filter)")
    which.add_argument("--list", action="store_true", help="list registered models with parameters and input size")
    parser.add_argument(
        "--filter",
        metavar="PATTERN",
        help="with --all/--list: shell-style pattern of model names (default: all)",
    )
    parser.add_argument("--img-size", type=int, metavar="N", help="with --model: input size (default: the model's)")
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="second thread count to time besides 1 (default: every core this process may use)",
    )
    parser.add_argument("--runs", type=int, default=50, metavar="N", help="timed runs per measurement (default 50)")
    parser.add_argument("--warmup", type=int, default=10, metavar="N", help="untimed runs first (default 10)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print the figures as JSON")
    output.add_argument("--markdown", action="store_true", help="print tables shaped like the papers' tables")
    parser.set_defaults(run=run)


def _check(args: argparse.Namespace) -> None:
    if args.img_size is not None and args.model is None:
        raise ConfigError("--img-size applies to one model; use it with --model NAME (--all uses default sizes)")
    if args.filter is not None and args.model is not None:
        raise ConfigError("--filter picks models for --all or --list; drop it, --model already names the model")
    args.filter = args.filter or "*"
    for option in ("img_size", "threads", "runs"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise ConfigError(f"--{option.replace('_', '-')} must be a positive integer, got {value}")
    if args.warmup < 0:
        raise ConfigError(f"--warmup must be zero or more, got {args.warmup}")
    if args.threads is not None:
        from edgefer.profile.latency import available_threads

        cores = available_threads()
        if args.threads > cores:
            print(
                f"edgefer bench: warning: --threads {args.threads} is more than the {cores} cores this process may "
                "use; that latency measures oversubscription, not the model",
                file=sys.stderr,
            )


def _names(pattern: str) -> list[str]:
    from edgefer.models.registry import list_models

    names = list_models(pattern)
    if not names and not list_models():
        raise ConfigError("no models are registered; reinstall edgefer (pip install -e .) if its models are missing")
    if not names:
        raise ConfigError(f"no registered model matches {pattern!r}; run `edgefer bench --list` to see them all")
    return names


def _list(pattern: str) -> int:
    from edgefer.models.registry import create_model, model_entry
    from edgefer.profile.counting import count_parameters

    names = _names(pattern)
    width = max(len(name) for name in names)
    print(f"{'model':<{width}}  {'parameters':>12}  {'input':>9}  description")
    for name in names:
        entry = model_entry(name)
        size = entry.default_img_size
        params = count_parameters(create_model(name))
        print(f"{name:<{width}}  {params:>12,}  {f'{size}×{size}':>9}  {entry.description}")
    return 0


def run(args: argparse.Namespace) -> int:
    _check(args)
    if args.list:
        return _list(args.filter)

    import json

    from edgefer.models.registry import model_entry
    from edgefer.profile.latency import available_threads
    from edgefer.profile.render import format_markdown, format_text
    from edgefer.profile.report import profile_models

    if args.model is not None:
        model_entry(args.model)  # unknown name: ModelError with close matches, before any measurement
        names = [args.model]
    else:
        names = _names(args.filter)
    thread_counts = tuple(sorted({1, args.threads or available_threads()}))
    profiles = profile_models(names, thread_counts, img_size=args.img_size, runs=args.runs, warmup=args.warmup)
    if args.json:
        data = [p.to_dict() for p in profiles]
        print(json.dumps(data[0] if args.model is not None else data, indent=2))
    elif args.markdown:
        print(format_markdown(profiles), end="")
    else:
        print("\n\n".join(format_text(p) for p in profiles))
    return 0
