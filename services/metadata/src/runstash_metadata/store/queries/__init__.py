"""One query object per database family, chosen once from the database URL.

``queries_for_url(url)`` returns a :class:`SqliteQueries`, :class:`PostgresQueries` or
:class:`MysqlQueries`; each holds every SQL difference of its database (engines, upserts,
insert-ignore, the fused write paths, id-list parameters, error classification). Nothing outside
this package asks which database it talks to.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from runstash_metadata.store.queries.base import Queries
from runstash_metadata.store.queries.mysql import MysqlQueries
from runstash_metadata.store.queries.postgres import PostgresQueries
from runstash_metadata.store.queries.sqlite import SqliteQueries

__all__ = ["MysqlQueries", "PostgresQueries", "Queries", "SqliteQueries", "normalize_uri", "queries_for_url"]

# SQLAlchemy 2.1 picks psycopg (3) for a bare postgresql:// URI; the tutorial's URIs are written
# for psycopg2, which is what the service ships.
_DRIVER_FOR_SCHEME = {
    "postgresql": "postgresql+psycopg2",
    "postgres": "postgresql+psycopg2",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_QUERIES_FOR_BACKEND: dict[str, type[Queries]] = {
    "sqlite": SqliteQueries,
    "postgresql": PostgresQueries,
    "mysql": MysqlQueries,
    "mariadb": MysqlQueries,
}


def normalize_uri(db_uri: str) -> str:
    scheme, sep, rest = db_uri.partition("://")
    if not sep:
        raise ValueError(f"Not a database URI: {db_uri!r}")
    return f"{_DRIVER_FOR_SCHEME.get(scheme, scheme)}://{rest}"


def queries_for_url(db_uri: str) -> Queries:
    """The query object of the database ``db_uri`` names (user-facing or SQLAlchemy form)."""
    uri = normalize_uri(db_uri)
    backend = make_url(uri).get_backend_name()
    kind = _QUERIES_FOR_BACKEND.get(backend)
    if kind is None:
        raise ValueError(f"Unsupported database: {backend}")
    return kind(uri)
