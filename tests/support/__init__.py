"""Test support shared by every suite: real databases, servers, S3 and the stock mlflow client.

Each module has one job; the ones that define fixtures or hooks are pytest plugins that
``tests/conftest.py`` loads by name (``pytest_plugins``). Suites may import the helpers and
types directly (``from tests.support.servers import RunningServer``); ``tests.conftest`` re-exports
them under their historical names too.
"""
