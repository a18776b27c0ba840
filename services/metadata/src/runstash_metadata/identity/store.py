"""Identity rows: plain functions over a connection; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from runstash_protos.errors import already_exists, invalid_parameter, not_found
from sqlalchemy import Connection, CursorResult, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from runstash_metadata.identity.secrets import MIN_PASSWORD_LENGTH, hash_password, new_token, token_hash
from runstash_metadata.store import schema_identity as t
from runstash_metadata.store.values import now_ms


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    is_admin: bool
    password_hash: str


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    name: str
    created_ms: int
    expires_ms: int | None
    revoked: bool


def new_id(result: CursorResult[Any]) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid_parameter(f"Password must be at least {MIN_PASSWORD_LENGTH} characters.")


def create_user(conn: Connection, username: str, password: str, *, is_admin: bool = False) -> User:
    if not username or not password:
        raise invalid_parameter("Username and password cannot be empty.")
    check_password_policy(password)
    hashed = hash_password(password)
    try:
        result = conn.execute(
            insert(t.users).values(
                username=username, password_hash=hashed, is_admin=is_admin, created_ms=now_ms()
            )
        )
    except IntegrityError:
        # Unlike MLflow, the database's error text (holding the hash) is not echoed back.
        raise already_exists(f"User (username={username}) already exists.") from None
    return User(new_id(result), username, is_admin, hashed)


def _user_row(conn: Connection, condition: object) -> User | None:
    u = t.users.c
    row = conn.execute(select(u.id, u.username, u.is_admin, u.password_hash).where(condition)).first()  # type: ignore[arg-type]
    return None if row is None else User(row.id, row.username, bool(row.is_admin), row.password_hash)


def find_user(conn: Connection, username: str) -> User | None:
    return _user_row(conn, t.users.c.username == username)


def get_user(conn: Connection, username: str) -> User:
    user = find_user(conn, username)
    if user is None:
        raise not_found(f"User with username={username} not found")
    return user


def list_users(conn: Connection) -> list[User]:
    u = t.users.c
    rows = conn.execute(select(u.id, u.username, u.is_admin, u.password_hash).order_by(u.id))
    return [User(r.id, r.username, bool(r.is_admin), r.password_hash) for r in rows]


def count_admins(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).where(t.users.c.is_admin.is_(True))).scalar_one())


def set_password(conn: Connection, username: str, password: str) -> None:
    check_password_policy(password)
    user = get_user(conn, username)
    conn.execute(update(t.users).where(t.users.c.id == user.id).values(password_hash=hash_password(password)))


def set_admin(conn: Connection, username: str, is_admin: bool) -> None:
    user = get_user(conn, username)
    conn.execute(update(t.users).where(t.users.c.id == user.id).values(is_admin=is_admin))


def delete_user(conn: Connection, username: str) -> None:
    user = get_user(conn, username)
    for table in (t.grants, t.access_tokens, t.user_roles):
        conn.execute(delete(table).where(table.c.user_id == user.id))
    conn.execute(delete(t.users).where(t.users.c.id == user.id))


# ------------------------------------------------------------------ access tokens


def create_token(conn: Connection, user: User, name: str, expires_ms: int | None) -> tuple[Token, str]:
    """A new token for ``user``: its row and the secret, which is never stored nor shown again."""
    secret = new_token()
    created = now_ms()
    result = conn.execute(
        insert(t.access_tokens).values(
            user_id=user.id,
            name=name,
            token_hash=token_hash(secret),
            created_ms=created,
            expires_ms=expires_ms,
            revoked=False,
        )
    )
    return Token(new_id(result), name, created, expires_ms, False), secret


def list_tokens(conn: Connection, user: User) -> list[Token]:
    a = t.access_tokens.c
    rows = conn.execute(
        select(a.id, a.name, a.created_ms, a.expires_ms, a.revoked).where(a.user_id == user.id).order_by(a.id)
    )
    return [Token(r.id, r.name, r.created_ms, r.expires_ms, bool(r.revoked)) for r in rows]


def revoke_token(conn: Connection, user: User, token_id: int) -> None:
    a = t.access_tokens.c
    result = conn.execute(
        update(t.access_tokens).where(a.id == token_id, a.user_id == user.id).values(revoked=True)
    )
    if result.rowcount == 0:
        raise not_found(f"Token with id={token_id} not found")


def user_of_token(conn: Connection, secret: str, now: int) -> User | None:
    """The live (not revoked, not expired) token's owner, or None."""
    a, u = t.access_tokens.c, t.users.c
    row = conn.execute(
        select(u.id, u.username, u.is_admin, u.password_hash, a.revoked, a.expires_ms)
        .join_from(t.access_tokens, t.users, a.user_id == u.id)
        .where(a.token_hash == token_hash(secret))
    ).first()
    if row is None or row.revoked or (row.expires_ms is not None and row.expires_ms <= now):
        return None
    return User(row.id, row.username, bool(row.is_admin), row.password_hash)


# ------------------------------------------------------------------ grants


def grant(conn: Connection, user: User, resource_type: str, resource_id: str, permission: str) -> None:
    try:
        conn.execute(
            insert(t.grants).values(
                user_id=user.id, resource_type=resource_type, resource_id=resource_id, permission=permission
            )
        )
    except IntegrityError:
        raise already_exists(
            f"Permission for user={user.username} on resource_type={resource_type}, "
            f"resource_id={resource_id} already exists."
        ) from None


def set_grant(conn: Connection, user: User, resource_type: str, resource_id: str, permission: str) -> None:
    """Update an existing grant (404 when there is none)."""
    g = t.grants.c
    result = conn.execute(
        update(t.grants)
        .where(g.user_id == user.id, g.resource_type == resource_type, g.resource_id == resource_id)
        .values(permission=permission)
    )
    if result.rowcount == 0:
        raise not_found(f"Permission for user={user.username} not found.")


def revoke(conn: Connection, user: User, resource_type: str, resource_id: str) -> None:
    g = t.grants.c
    result = conn.execute(
        delete(t.grants).where(
            g.user_id == user.id, g.resource_type == resource_type, g.resource_id == resource_id
        )
    )
    if result.rowcount == 0:
        raise not_found(f"Permission for user={user.username} not found.")


def grants_of(conn: Connection, user_id: int) -> dict[tuple[str, str], str]:
    """Every grant of one user: ``{(resource_type, resource_id): permission}`` (one query)."""
    g = t.grants.c
    rows = conn.execute(select(g.resource_type, g.resource_id, g.permission).where(g.user_id == user_id))
    return {(r.resource_type, r.resource_id): r.permission for r in rows}


def grant_rows(conn: Connection, user_id: int) -> Sequence[tuple[int, str, str, str]]:
    g = t.grants.c
    rows = conn.execute(
        select(g.id, g.resource_type, g.resource_id, g.permission).where(g.user_id == user_id).order_by(g.id)
    )
    return [(r.id, r.resource_type, r.resource_id, r.permission) for r in rows]
