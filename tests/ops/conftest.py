import io
import json
import logging

import pytest

from ops.logs import JsonFormatter


class JsonLog:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self, logger: str | None = None) -> list[dict]:
        entries = [json.loads(line) for line in self.text().splitlines() if line]
        return [entry for entry in entries if logger is None or entry["logger"] == logger]


@pytest.fixture
def json_log():
    """What production writes: a stream handler with the JSON formatter on the root logger."""
    log = JsonLog()
    handler = logging.StreamHandler(log.stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield log
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
