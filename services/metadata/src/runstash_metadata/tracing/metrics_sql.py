"""The database-specific expressions trace metrics need, in one place.

They are kept here rather than on ``store.queries.Queries`` because only the metrics read them, and
each is a small expression over a text column: a number inside a JSON object stored as text (token
usage metadata, a span's ``mlflow.llm.cost`` attribute), an assessment's numeric value, its value
as JSON text, and a linear-interpolation percentile. Every expression yields NULL (never an error)
on text that is not what it should be, so one malformed row cannot fail a whole query.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Text, and_, case, cast, func, literal_column
from sqlalchemy.dialects.postgresql import JSONB

from runstash_metadata.store.queries import Queries

NUMBER = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
# Values stored in their JSON form (everything but strings, see assessments._flat).
_JSON_LITERAL = r"^(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false|null|\{.*|\[.*)$"


def to_float(q: Queries, expr: Any) -> Any:
    if q.name == "mysql":
        return expr + literal_column("0e0")  # MariaDB and MySQL agree on this, not on CAST(AS FLOAT)
    return cast(expr, Float)


def json_number(q: Queries, text: Any, key: str) -> Any:
    """``key``'s number in the JSON object held as ``text`` (NULL when absent or not a number)."""
    path = f'$."{key}"'
    if q.name == "postgresql":
        field = cast(text, JSONB)[key].astext
        # Nested CASEs: PostgreSQL evaluates a CASE's branches lazily, AND in any order.
        number = case((field.regexp_match(NUMBER), cast(field, Float)))
        return case((text.regexp_match(r"^\s*\{"), number))
    if q.name == "sqlite":
        return case((func.json_valid(text) == 1, func.json_extract(text, path)))
    return case((func.json_valid(text) == 1, to_float(q, func.json_value(text, path))))


def assessment_number(q: Queries, value: Any) -> Any:
    """MLflow's aggregate value of an assessment: booleans and yes/no as 1/0, numbers as they are."""
    lowered = func.lower(value)
    if q.name == "sqlite":
        numeric = and_(func.json_valid(value) == 1, func.json_type(value).in_(("integer", "real")))
    else:
        numeric = value.regexp_match(NUMBER)
    return case(
        (lowered.in_(("true", "yes")), 1.0),
        (lowered.in_(("false", "no")), 0.0),
        (numeric, to_float(q, value)),
    )


def assessment_json(q: Queries, value: Any) -> Any:
    """The value as MLflow stores it (``json.dumps``): strings, stored bare, are quoted."""
    if q.name == "postgresql":
        return case((value.regexp_match(_JSON_LITERAL), value), else_=cast(func.to_json(value), Text))
    return case((func.json_valid(value) == 1, value), else_=func.json_quote(value))


def percentile_cont(fraction: float, column: Any) -> Any:
    """PostgreSQL's ordered-set aggregate (what MLflow uses there)."""
    return func.percentile_cont(fraction).within_group(column)


def interpolated(fraction: float, value: Any, rank: Any, count: Any) -> Any:
    """The percentile of a group from rows numbered by a window (``rank`` from 1, ``count`` rows):
    linear interpolation between the rows around position fraction * (count - 1), numpy's default
    and PostgreSQL's percentile_cont. Comparisons only, no FLOOR: SQLite may lack math functions."""
    position = (count - 1) * fraction
    k = rank - 1
    at_or_below = and_(k <= position, position < k + 1)
    low = func.max(case((at_or_below, value)))
    high = func.max(case((and_(k >= position, k < position + 1), value)))
    share = func.max(case((at_or_below, position - k)))
    return low + (high - low) * share
