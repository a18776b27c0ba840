"""Plugin: a failing test that used a server gets the tail of that server's log in its report."""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from typing import Any

import pytest

from tests.support.servers import RunningServer


def _servers_used_by(item: pytest.Item) -> list[RunningServer]:
    """RunningServers among a test's fixture values (also inside tuples/lists/dataclasses)."""
    found: list[RunningServer] = []
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    for value in funcargs.values():
        candidates: list[Any] = [value]
        if isinstance(value, tuple | list):
            candidates.extend(value)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            candidates.extend(getattr(value, f.name) for f in dataclasses.fields(value))
        found.extend(c for c in candidates if isinstance(c, RunningServer) and c not in found)
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for server in _servers_used_by(item):
            report.sections.append((f"{server.deployment} server log ({server.url})", server.log_tail()))
    return report
