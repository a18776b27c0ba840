"""The expressions trace metrics (tracing/metrics.py) need, per database family.

A companion of the query objects rather than methods on them: only the metrics read these. Each
is an expression over a text column: a number inside a JSON object stored as text (token usage
metadata, a span's ``mlflow.llm.cost`` attribute), an assessment's numeric value, its value as JSON
text, and a percentile. Every expression yields NULL (never an error) on text that is not what it
should be, so one malformed row cannot fail a whole query.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Text, and_, case, cast, func, literal_column
from sqlalchemy.dialects.postgresql import JSONB

from runstash_metadata.store.queries.base import Queries

NUMBER = r"^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$"
# Values stored in their JSON form (everything but strings, see tracing/assessments._flat).
_JSON_LITERAL = r"^(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false|null|\{.*|\[.*)$"


class MetricExpressions:
    """SQLite's (JSON1 functions; percentiles by window numbering, see tracing/metrics.py)."""

    # Whether PERCENTILE is an ordered-set aggregate here (else rows are numbered in a window).
    ordered_set_percentile = False

    def to_float(self, expr: Any) -> Any:
        return cast(expr, Float)

    def json_number(self, text: Any, key: str) -> Any:
        """``key``'s number in the JSON object held as ``text`` (NULL when absent or not a number)."""
        return case((func.json_valid(text) == 1, func.json_extract(text, f'$."{key}"')))

    def is_number(self, value: Any) -> Any:
        return and_(func.json_valid(value) == 1, func.json_type(value).in_(("integer", "real")))

    def assessment_number(self, value: Any) -> Any:
        """MLflow's aggregate value of an assessment: booleans and yes/no as 1/0, numbers as they are."""
        lowered = func.lower(value)
        return case(
            (lowered.in_(("true", "yes")), 1.0),
            (lowered.in_(("false", "no")), 0.0),
            (self.is_number(value), self.to_float(value)),
        )

    def assessment_json(self, value: Any) -> Any:
        """The value as MLflow stores it (``json.dumps``): strings, stored bare, are quoted."""
        return case((func.json_valid(value) == 1, value), else_=func.json_quote(value))

    def percentile(self, fraction: float, column: Any) -> Any:
        raise NotImplementedError("no ordered-set percentile here: number rows in a window")


class PostgresMetricExpressions(MetricExpressions):
    ordered_set_percentile = True

    def json_number(self, text: Any, key: str) -> Any:
        field = cast(text, JSONB)[key].astext
        # Nested CASEs: PostgreSQL evaluates a CASE's branches lazily, AND in any order.
        number = case((field.regexp_match(NUMBER), cast(field, Float)))
        return case((text.regexp_match(r"^\s*\{"), number))

    def is_number(self, value: Any) -> Any:
        return value.regexp_match(NUMBER)

    def assessment_json(self, value: Any) -> Any:
        return case((value.regexp_match(_JSON_LITERAL), value), else_=cast(func.to_json(value), Text))

    def percentile(self, fraction: float, column: Any) -> Any:
        return func.percentile_cont(fraction).within_group(column)  # what MLflow uses there


class MysqlMetricExpressions(MetricExpressions):
    def to_float(self, expr: Any) -> Any:
        return expr + literal_column("0e0")  # MariaDB and MySQL agree on this, not on CAST(AS FLOAT)

    def json_number(self, text: Any, key: str) -> Any:
        return case((func.json_valid(text) == 1, self.to_float(func.json_value(text, f'$."{key}"'))))

    def is_number(self, value: Any) -> Any:
        return value.regexp_match(NUMBER)


def metric_expressions(q: Queries) -> MetricExpressions:
    return {"postgresql": PostgresMetricExpressions, "mysql": MysqlMetricExpressions}.get(
        q.name, MetricExpressions
    )()
