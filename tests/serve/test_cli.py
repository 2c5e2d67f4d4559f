"""`edgefer serve` refuses bad options with a one-line error (exit 2) before loading any model."""

from __future__ import annotations

import socket

import pytest

from edgefer.cli.main import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--mqtt", "http://broker:1883"], "mqtt://host"),
        (["--mqtt", "mqtt://broker:99999"], "invalid port"),
        (["--port", "0"], "--port must be"),
        (["--max-body-mb", "0"], "--max-body-mb must be positive"),
        (["--token", "short"], "shorter than 8 characters"),
        (["--thing-id", "a/b"], "thing id 'a/b' is not allowed"),
        (["--public-url", "notaurl"], "is not an absolute http(s) base URL"),
        (["--public-url", "http://[::1"], "is not an absolute http(s) base URL"),
        (["--public-url", "http://host/p?x=1"], "is not an absolute http(s) base URL"),
    ],
)
def test_bad_options_exit_2(argv: list[str], message: str, capsys) -> None:
    assert main(["serve", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("edgefer serve: error:") and message in err and "Traceback" not in err


def test_port_in_use_exits_2(capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
