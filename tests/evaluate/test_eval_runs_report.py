"""``edgefer report``: finished runs' summaries side by side as a table and a grouped bar chart."""

import json

import pytest
from PIL import Image

from edgefer.cli.main import main
from edgefer.train.run import summarize


def _finished_run(folder, accuracies):
    """A run folder with the summary.json that ``edgefer train`` writes for these per-fold test accuracies."""
    results = [
        {"fold": i if len(accuracies) > 1 else None, "test": {"accuracy": a, "macro_f1": a / 2, "n_images": 10}}
        for i, a in enumerate(accuracies)
    ]
    folder.mkdir(parents=True)
    (folder / "summary.json").write_text(json.dumps(summarize(results)), encoding="utf-8")
    return folder


def test_report_tables_mean_and_std_and_draws_the_chart(tmp_path, capsys):
    base = _finished_run(tmp_path / "base", [0.5])
    mamba = _finished_run(tmp_path / "mamba", [0.6])
    base_ck = _finished_run(tmp_path / "base_ck", [0.8, 0.9, 1.0])
    out = tmp_path / "figs" / "bars.png"
    code = main(
        [
            "report",
            "--run", f"FER2013:Baseline={base}",
            "--run", f"FER2013:Baseline+Mamba={mamba}",
            "--run", f"CK+:Baseline={base_ck}",
            "--out", str(out),
        ]
    )  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    lines = printed.splitlines()
    assert lines[0] == "| | FER2013 | CK+ |"
    assert lines[2] == "| Baseline | 50.00 % | 90.00 % ± 10.00 (3 folds) |"
    assert lines[3] == "| Baseline+Mamba | 60.00 % | – |"
    with Image.open(out) as image:
        assert image.format == "PNG" and image.width > 300


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", "FER2013Baseline=runs/x"], "is not GROUP:LABEL=RUN_DIR"),
        (["--run", "FER2013:Baseline"], "is not GROUP:LABEL=RUN_DIR"),
        (["--run", "FER2013:Baseline={missing}"], "no summary.json in"),
        (["--run", "FER2013:Baseline={untested}"], "has no test accuracy"),
        (["--run", "FER2013:Baseline={damaged}"], "summary.json' is not valid JSON (Expecting"),
        (["--run", "FER2013:Baseline={crossval}"], "is an `edgefer crossval` run (crossval.json), not a training"),
        (["--run", "A:b={done}", "--run", "A:b={done}"], "--run A:b is given twice"),
        (["--run", "A:b={done}", "--out", "{done}/folder.png"], "is a folder; give a file path"),
        (["--run", "A:b={done}", "--out", "{done}/summary.json/x.png"], "cannot create the folder"),
        (["--run", "A:b={done}", "--out", "{done}/old.png"], "exists; pass --force to replace it"),
        (["--run", "A:b={done}", "--out", "{done}/summary.json", "--force"], "give a file name ending in .png"),
        (["--run", "A:b={done}", "--force"], "add --out FILE.png or drop --force"),
        (["--run", "A:b={done}", "--out", ""], "--out '' would hold a PNG chart"),
        (["--run", "A:b={done}", "--title", "t"], "add --out"),
        (["--run", "A:b={done}", "--title", ""], "add --out"),
    ],
)
def test_report_refuses_bad_input_with_one_line(tmp_path, capsys, args, message):
    untested = tmp_path / "untested"
    untested.mkdir()
    (untested / "summary.json").write_text(json.dumps(summarize([{"fold": None, "test": None}])), encoding="utf-8")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "summary.json").write_text('{"accuracy": ', encoding="utf-8")
    crossval = tmp_path / "crossval"
    crossval.mkdir()
    (crossval / "crossval.json").write_text("{}", encoding="utf-8")
    done = _finished_run(tmp_path / "done", [0.7])
    (done / "folder.png").mkdir()
    (done / "old.png").write_bytes(b"")
    paths = {"missing": tmp_path / "missing", "untested": untested, "done": done, "damaged": damaged}
    paths["crossval"] = crossval
    assert main(["report", *(arg.format(**paths) for arg in args)]) == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1


def test_report_keeps_an_earlier_chart_unless_forced(tmp_path, capsys):
    done = _finished_run(tmp_path / "done", [0.7])
    out = tmp_path / "bars.png"
    out.write_bytes(b"earlier")
    assert main(["report", "--run", f"A:b={tmp_path / 'missing'}", "--out", str(out)]) == 2  # claimed first
    assert "bars.png' exists; pass --force" in capsys.readouterr().err and out.read_bytes() == b"earlier"
    assert main(["report", "--run", f"A:b={done}", "--out", str(out), "--force"]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"
