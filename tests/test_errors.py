"""Quoting a third-party error inside a one-line EdgeferError."""

from edgefer.errors import first_line


def test_first_line_keeps_the_first_non_blank_line_of_a_long_message():
    assert (
        first_line(ValueError("\n  Failed to run converter passes: x\nmore detail\n"))
        == "Failed to run converter passes: x"
    )


def test_first_line_names_the_type_of_an_error_without_a_message():
    assert first_line(RuntimeError()) == "RuntimeError"
    assert first_line(ValueError("  \n ")) == "ValueError"
