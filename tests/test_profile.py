"""The profiler on a tiny model whose every figure can be counted by hand."""

import dataclasses
import json

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from edgefer.cli.main import main
from edgefer.models import registry
from edgefer.profile import (
    count_macs,
    count_parameters,
    format_markdown,
    peak_activation_bytes,
    profile_model,
    report,
    table_v_footprint,
    weight_bytes_fp32,
    weight_bytes_int8,
)
from edgefer.profile.latency import fraction_of_peak, peak_gflops

NAME = "bench_test_tiny"
SIZE = 16
SCAN_MACS_PER_ELEMENT = 3


class _Scan(nn.Module):
    """Stands in for a selective scan: element-wise work no FLOP counter sees, reported by ``extra_macs``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * 2 + 1

    def extra_macs(self, input_shape: tuple[int, ...]) -> int:
        return SCAN_MACS_PER_ELEMENT * int(torch.Size(input_shape).numel())


class _Tiny(nn.Module):
    def __init__(self, num_classes: int, in_chans: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_chans, 4, 3, padding=1)
        self.scan = _Scan()
        self.head = nn.Linear(4, num_classes)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.scan(F.relu(self.conv(x))).mean(dim=(2, 3))

    def forward_head(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


@pytest.fixture(scope="module")
def tiny_name():
    def bench_test_tiny(num_classes=7, in_chans=1, img_size=SIZE):
        """Tiny conv + scan test model."""
        return _Tiny(num_classes, in_chans)

    registry.register_model(default_img_size=SIZE)(bench_test_tiny)
    yield NAME
    del registry._REGISTRY[NAME]


@pytest.fixture
def tiny():
    return _Tiny(7, 1).eval()


def _example() -> torch.Tensor:
    return torch.rand(1, 1, SIZE, SIZE)


# Hand counts for _Tiny on 1×1×16×16 with 7 classes.
PARAMS = (4 * 1 * 3 * 3 + 4) + (7 * 4 + 7)
CONV_MACS = 4 * SIZE * SIZE * 1 * 3 * 3  # C_out · H_out · W_out · C_in · k · k
LINEAR_MACS = 4 * 7
SCAN_MACS = SCAN_MACS_PER_ELEMENT * 4 * SIZE * SIZE


def test_parameters_equal_hand_count(tiny):
    assert count_parameters(tiny) == PARAMS
    assert weight_bytes_fp32(tiny) == 4 * PARAMS
    # conv kernel and linear matrix in int8 with one fp32 scale per output channel; biases stay fp32
    assert weight_bytes_int8(tiny) == (36 + 4 * 4) + (28 + 4 * 7) + 4 * (4 + 7)


def test_macs_of_a_single_conv_equal_the_hand_formula():
    conv = nn.Conv2d(3, 8, kernel_size=5, stride=2, padding=2)
    macs = count_macs(conv, torch.rand(1, 3, 32, 32))
    assert macs.counted == 8 * 16 * 16 * 3 * 5 * 5 and macs.extra == 0


def test_extra_macs_are_recorded_per_call_and_summed(tiny):
    macs = count_macs(tiny, _example())
    assert macs.counted == CONV_MACS + LINEAR_MACS
    assert macs.extra == SCAN_MACS
    assert macs.total == CONV_MACS + LINEAR_MACS + SCAN_MACS
    twice = nn.Sequential(_Scan(), _Scan())
    assert count_macs(twice, torch.rand(2, 5)).extra == 2 * SCAN_MACS_PER_ELEMENT * 10


def test_peak_activation_of_conv_relu_is_two_feature_maps():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU())
    feature_map_bytes = 4 * 8 * SIZE * SIZE
    assert peak_activation_bytes(model, _example()) == 2 * feature_map_bytes


def test_table_v_footprint_matches_torchsummary_definition(tiny):
    footprint = table_v_footprint(tiny, _example())
    # outputs of conv, scan, head and the model itself, each with its gradient, 4 bytes each
    outputs = 4 * SIZE * SIZE + 4 * SIZE * SIZE + 7 + 7
    assert footprint.input_bytes == 4 * SIZE * SIZE
    assert footprint.forward_backward_bytes == 2 * 4 * outputs
    assert footprint.parameter_bytes == 4 * PARAMS
    assert footprint.total_bytes == 4 * SIZE * SIZE + 2 * 4 * outputs + 4 * PARAMS


def test_peak_gflops_and_fraction_of_peak():
    gflops = peak_gflops(threads=1, size=64, seconds=0.0)
    assert gflops > 0
    assert fraction_of_peak(macs=500_000, latency_ms=1.0, gflops=1.0) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def tiny_profile(tiny_name):
    return profile_model(tiny_name, peaks={1: 50.0, 2: 90.0}, runs=3, warmup=1)


def test_profile_has_every_figure(tiny_profile):
    p = tiny_profile
    assert p.parameters == PARAMS and p.input_size == (1, SIZE, SIZE)
    assert p.macs.total == CONV_MACS + LINEAR_MACS + SCAN_MACS
    assert p.peak_activation_bytes >= 4 * 4 * SIZE * SIZE
    assert p.onnx_error is None and p.onnx_bytes > 0
    assert {(r.backend, r.threads) for r in p.latencies} == {(b, t) for b in ("pytorch", "onnxruntime") for t in (1, 2)}
    for record in p.latencies:
        assert 0 < record.median_ms <= record.p90_ms and record.runs == 3
        expected = fraction_of_peak(p.macs.total, record.median_ms, p.peak_gflops[record.threads])
        assert p.fraction_of_peak(record) == pytest.approx(expected)
    figures = json.loads(json.dumps(p.to_dict()))
    assert figures["macs"]["total"] == p.macs.total
    assert figures["latencies"][0]["fraction_of_peak"] == pytest.approx(p.fraction_of_peak(p.latencies[0]))


def test_markdown_has_the_papers_table_shapes(tiny_profile):
    text = format_markdown([tiny_profile])
    assert "| Model | Input | Parameters | Paper | Paper row |" in text
    assert "### Memory footprint (shape of HCMTMM Table V" in text
    assert "### Speed (shape of HCMTMM Table VI" in text
    assert f"| {NAME} | 1×16×16 | {PARAMS:,} | – | – |" in text
    assert "DMSNet Table 3" not in text  # only dmsnet* models go in that table


def test_markdown_dmsnet_rows_cite_the_paper(tiny_profile):
    torch_only = [r for r in tiny_profile.latencies if r.backend == "pytorch"]
    unexported = dataclasses.replace(tiny_profile, model="dmsnet_x", onnx_error="E: no", latencies=torch_only)
    text = format_markdown([dataclasses.replace(tiny_profile, model="dmsnet_light"), unexported])
    assert "| Modules | Input | # Params (M) | MACs (M) |" in text
    assert "| 5.6 | 100.8 | 30 | DMSNet Table 3: DeCNet + SCNet |" in text
    assert "| – | – | – | – |" in text  # a DMSNet variant the paper gives no row for
    assert "export failed" in text and "- dmsnet_x: E: no" in text


def test_cli_unknown_model_exits_2_with_close_matches(tiny_name, capsys):
    assert main(["bench", "--model", "bench_test_tiyn"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'bench_test_tiyn'" in err and NAME in err and "edgefer bench --list" in err


def test_cli_an_empty_model_name_is_unknown_not_every_model(capsys):
    assert main(["bench", "--model", ""]) == 2
    assert "unknown model ''" in capsys.readouterr().err


def test_cli_list_json_and_all_markdown(tiny_name, capsys, monkeypatch):
    monkeypatch.setattr(report, "peak_gflops", lambda threads, seconds: 50.0)  # the real one takes seconds
    assert main(["bench", "--list", "--filter", NAME]) == 0
    listing = capsys.readouterr().out
    assert NAME in listing and f"{PARAMS:,}" in listing and "16×16" in listing

    args = ["bench", "--model", NAME, "--runs", "2", "--warmup", "0", "--threads", "1"]
    assert main([*args, "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["parameters"] == PARAMS and len(figures["latencies"]) == 2

    assert main(["bench", "--all", "--filter", NAME, "--markdown", *args[3:]]) == 0
    assert "### All figures" in capsys.readouterr().out


def test_cli_rejects_bad_options(capsys):
    assert main(["bench", "--all", "--img-size", "48"]) == 2
    assert "--img-size applies to one model" in capsys.readouterr().err
    assert main(["bench", "--model", "x", "--runs", "0"]) == 2
    assert "--runs must be a positive integer" in capsys.readouterr().err
    assert main(["bench", "--model", "lightcnn", "--filter", "x*"]) == 2
    assert "--filter picks models for --all or --list" in capsys.readouterr().err


def test_profile_models_uses_the_best_peak_of_the_whole_run(tiny_name, monkeypatch):
    measured = iter([10.0, 30.0, 20.0])  # before the first model, after it, after the second
    monkeypatch.setattr(report, "peak_gflops", lambda threads, seconds: next(measured))
    profiles = report.profile_models([tiny_name, tiny_name], (1,), runs=1, warmup=0)
    assert [p.peak_gflops for p in profiles] == [{1: 30.0}, {1: 30.0}]


@pytest.mark.parametrize(
    ("size", "expected"),
    [("3", "--img-size 3 is too small for lightcnn; choose 16 to 1024"), ("100000", "choose at most 1024")],
)
def test_cli_refuses_an_img_size_the_model_cannot_run_at(size, expected, capsys, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the size is checked before anything is measured")

    monkeypatch.setattr(report, "peak_gflops", never)
    assert main(["bench", "--model", "lightcnn", "--img-size", size]) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


def test_cli_warns_of_more_threads_than_cores(tiny_name, capsys):
    assert main(["bench", "--list", "--filter", NAME, "--threads", "100000"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "warning: --threads 100000 is more than the" in err[0]
