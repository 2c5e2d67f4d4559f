import pytest

from edgefer.errors import OutputError
from edgefer.outputs import claim_output_file, claim_output_folder


def test_claiming_creates_nothing_so_a_failed_command_leaves_no_empty_folder(tmp_path):
    path = claim_output_file(tmp_path / "a" / "b.csv", force=False)
    assert path == tmp_path / "a" / "b.csv"
    assert claim_output_folder(tmp_path / "c" / "d", ["report.json"], force=False) == tmp_path / "c" / "d"
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_claimed_as_it_is(tmp_path):
    (tmp_path / "mine.txt").write_text("kept")
    assert claim_output_folder(tmp_path, ["report.json"], force=False) == tmp_path
    assert [path.name for path in tmp_path.iterdir()] == ["mine.txt"]


def test_an_existing_file_is_kept_unless_forced(tmp_path):
    path = tmp_path / "keep.csv"
    path.write_text("earlier")
    with pytest.raises(OutputError, match="exists; pass --force"):
        claim_output_file(path, force=False)
    assert path.read_text() == "earlier"
    assert claim_output_file(path, force=True) == path


def test_a_folder_is_not_a_file_and_a_file_is_not_a_folder(tmp_path):
    with pytest.raises(OutputError, match="is a folder"):
        claim_output_file(tmp_path, force=True)
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        claim_output_folder(tmp_path / "f", ["results.jsonl"], force=True)
    with pytest.raises(OutputError, match="cannot create the folder"):
        claim_output_file(tmp_path / "f" / "sub" / "out.csv", force=False)


def test_a_folder_with_earlier_products_is_kept_unless_forced(tmp_path):
    (tmp_path / "results.jsonl").write_text("earlier")
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"already holds results\.jsonl"):
        claim_output_folder(tmp_path, ["results.jsonl", "report.json"], force=False)
    assert claim_output_folder(tmp_path, ["results.jsonl"], force=True) == tmp_path
    assert claim_output_folder(tmp_path / "new", ["results.jsonl"], force=False) == tmp_path / "new"
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_folder_files_cannot_be_written_in_is_refused_and_left_as_it_was(tmp_path, monkeypatch):
    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr("edgefer.outputs.tempfile.TemporaryFile", read_only)
    with pytest.raises(
        OutputError, match=r"cannot write files in '.*new' \(Read-only file system\); choose a writable"
    ):
        claim_output_file(tmp_path / "new" / "x.csv", force=False)
    with pytest.raises(OutputError, match="cannot write files in"):
        claim_output_folder(tmp_path, ["report.json"], force=False)
    assert list(tmp_path.iterdir()) == []
