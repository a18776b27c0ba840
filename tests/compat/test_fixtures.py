"""Self-checks of the shared fixtures: if these fail, every server-level suite is suspect."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.conftest import DatabaseFactory, S3Endpoint


def _exists(factory: DatabaseFactory, kind: str, name: str) -> bool:
    if kind == "postgresql":
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                return cur.fetchone() is not None
        finally:
            conn.close()
    import pymysql

    conn2 = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="")
    try:
        with conn2.cursor() as cur2:
            cur2.execute("SHOW DATABASES LIKE %s", (name,))
            return cur2.fetchone() is not None
    finally:
        conn2.close()


def test_database_factory_creates_and_drops(db_kind: str, database_factory: DatabaseFactory) -> None:
    db = database_factory.create(db_kind)
    assert db.name.startswith("rs_test_")
    if db_kind == "sqlite":
        assert db.uri == db.sqlalchemy_uri and db.uri.startswith("sqlite:///")
        return
    if database_factory.uses_containers:
        pytest.skip("existence probe talks to the local services")
    assert _exists(database_factory, db_kind, db.name)
    database_factory.drop(db)
    assert not _exists(database_factory, db_kind, db.name)


def test_s3_endpoint_bucket_roundtrip(s3_endpoint: S3Endpoint) -> None:
    s3 = s3_endpoint.client()
    s3.put_object(Bucket=s3_endpoint.bucket, Key="probe/hello.txt", Body=b"hello")
    got = s3.get_object(Bucket=s3_endpoint.bucket, Key="probe/hello.txt")["Body"].read()
    assert got == b"hello"
    s3.delete_object(Bucket=s3_endpoint.bucket, Key="probe/hello.txt")
