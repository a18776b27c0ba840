"""The `runstash` command.

The client distribution brings `runstash sync` (the gRPC client's own command); the operator's
commands (`server`, `metadata`, `artifacts`, `gateway`, `db`, `gc`, `import`) come with
`runstash-server`, which declares them as ``runstash.commands`` entry points. So
``pip install runstash`` alone installs no server code, and asking it to serve says what to
install.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from typing import Any

import click

from runstash.cli_sync import sync
from runstash.config import MLFLOW_API_VERSION

COMMANDS_GROUP = "runstash.commands"
SERVER_COMMANDS = ("server", "metadata", "artifacts", "gateway", "db", "gc", "import")
_SERVER_MODULES = ("runstash_server", "runstash_gateway", "runstash_metadata", "runstash_artifacts")


def _needs_server(what: str) -> click.ClickException:
    return click.ClickException(f"{what} needs the runstash server: pip install runstash-server")


class RunstashGroup(click.Group):
    """Errors an operator acts on end in one line saying what to do: a schema version the server
    refuses names `runstash db upgrade`; a server command where only the client is installed
    names the server distribution."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is None and cmd_name in SERVER_COMMANDS:
            raise _needs_server(f"`runstash {cmd_name}`")
        return found

    def invoke(self, ctx: click.Context) -> Any:
        refused: tuple[type[Exception], ...] = ()  # none where only the client is installed
        try:
            from runstash_metadata.store.database import DatabaseNotFound
            from runstash_metadata.store.migrate import SchemaVersionError

            refused = (SchemaVersionError, DatabaseNotFound)
        except ModuleNotFoundError:
            pass
        try:
            return super().invoke(ctx)
        except refused as exc:
            raise click.ClickException(str(exc)) from None
        except ModuleNotFoundError as exc:
            if (exc.name or "").split(".")[0] not in _SERVER_MODULES:
                raise
            raise _needs_server(f"this command ({exc.name} is not installed)") from None


@click.group(cls=RunstashGroup)
# The version is looked up only for --version (importlib.metadata costs a server's start-up).
@click.version_option(
    message=f"runstash %(version)s (serves the MLflow REST API of mlflow {MLFLOW_API_VERSION})",
    version=None,
    package_name="runstash",
)
def main() -> None:
    """runstash: a self-hosted, MLflow-compatible experiment-tracking server."""


main.add_command(sync)


def _add_installed_commands() -> None:
    """The subcommands installed distributions declare (``runstash.commands`` entry points)."""
    for entry in entry_points(group=COMMANDS_GROUP):
        if entry.name not in main.commands:
            main.add_command(entry.load(), entry.name)


_add_installed_commands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
