"""Plugin: which databases and deployments a run covers (``--dbs``, ``--deployments``).

``db_kind`` and ``deployment`` are parametrized at session scope over the selected values, so
each value gets one server/database for the whole run instead of one per test. Marks follow the
fixtures a test really uses (``-m "not s3"`` deselects everything that needs SeaweedFS).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

ALL_DBS = ("sqlite", "postgresql", "mysql")
ALL_DEPLOYMENTS = ("single", "split")
DB_MARKS = {"postgresql": "pg", "mysql": "mysql"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("runstash")
    group.addoption(
        "--dbs",
        default=os.environ.get("RUNSTASH_TEST_DBS", ",".join(ALL_DBS)),
        help="comma-separated databases to run server tests on (sqlite,postgresql,mysql); "
        "env RUNSTASH_TEST_DBS",
    )
    group.addoption(
        "--deployments",
        default=os.environ.get("RUNSTASH_TEST_DEPLOYMENTS", ",".join(ALL_DEPLOYMENTS)),
        help="comma-separated deployments (single,split); env RUNSTASH_TEST_DEPLOYMENTS",
    )


def _selected(config: pytest.Config, option: str, allowed: Sequence[str]) -> list[str]:
    raw = str(config.getoption(option))
    chosen = [x.strip() for x in raw.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in allowed]
    if unknown:
        raise pytest.UsageError(f"--{option}: unknown {unknown}, choose from {list(allowed)}")
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Session scope keeps one server/database per value for the whole run instead of per test.
    if "db_kind" in metafunc.fixturenames:
        kinds = _selected(metafunc.config, "dbs", ALL_DBS)
        params = [
            pytest.param(k, id=k, marks=[getattr(pytest.mark, DB_MARKS[k])] if k in DB_MARKS else [])
            for k in kinds
        ]
        metafunc.parametrize("db_kind", params, indirect=True, scope="session")
    if "deployment" in metafunc.fixturenames:
        deps = _selected(metafunc.config, "deployments", ALL_DEPLOYMENTS)
        metafunc.parametrize("deployment", deps, indirect=True, scope="session")


def _xdist_group(item: pytest.Item) -> str:
    """The unit one pytest-xdist worker runs whole (``--dist loadgroup``, see tests/README.md).

    Tests of one database stay together within their suite, so that its session servers start
    once, on one worker; other tests go by file, so that module fixtures start once.
    """
    path = item.path.relative_to(item.config.rootpath)
    callspec = getattr(item, "callspec", None)
    db_kind = callspec.params.get("db_kind") if callspec is not None else None
    if db_kind is not None and len(path.parts) > 2:
        return f"{path.parts[1]}[{db_kind}]"
    return path.as_posix()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Marks follow the fixtures a test really uses, so `-m "not s3"` etc. select correctly.
    by_fixture = {
        "s3_endpoint": "s3",
        "mlflow_client": "mlflow_client",
        "reference_server_launcher": "differential",
    }
    grouped = config.pluginmanager.hasplugin("xdist")
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, mark in by_fixture.items():
            if fixture in names:
                item.add_marker(getattr(pytest.mark, mark))
        if grouped:
            item.add_marker(pytest.mark.xdist_group(_xdist_group(item)))


@pytest.fixture(scope="session")
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def deployment(request: pytest.FixtureRequest) -> str:
    return str(request.param)
