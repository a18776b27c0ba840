"""What QueryTraceMetrics accepts, as MLflow 3.17 defines it (mlflow/store/tracking/utils/
sql_trace_metrics_utils.py): the metrics of each view, the aggregations and dimensions each metric
allows, and the metrics filter grammar (one ``<view>.<entity>[.<key>] = '<value>'`` clause per
filter string, a grammar of its own, narrower than the trace search grammar)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from runstash_protos import traces_pb2 as pb
from runstash_protos.errors import invalid_parameter

TRACES, SPANS, ASSESSMENTS = "TRACES", "SPANS", "ASSESSMENTS"
TIME_BUCKET = "time_bucket"
TOKEN_METRICS = (
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)
COST_METRICS = ("input_cost", "output_cost", "total_cost")


@dataclass(frozen=True, slots=True)
class MetricSpec:
    aggregations: frozenset[str]
    dimensions: frozenset[str]


_COUNT = frozenset({"COUNT"})
_SPREAD = frozenset({"AVG", "MIN", "MAX", "PERCENTILE"})
_NUMERIC = _SPREAD | {"SUM"}
_MODEL = frozenset({"span_model_name", "span_model_provider"})
CONFIGS: dict[str, dict[str, MetricSpec]] = {
    TRACES: {
        "trace_count": MetricSpec(_COUNT, frozenset({"trace_name", "trace_status"})),
        "session_count": MetricSpec(_COUNT, frozenset()),
        "latency": MetricSpec(_SPREAD, frozenset({"trace_name"})),
        **{name: MetricSpec(_NUMERIC, frozenset({"trace_name"})) for name in TOKEN_METRICS},
    },
    SPANS: {
        "span_count": MetricSpec(_COUNT, frozenset({"span_name", "span_type", "span_status"}) | _MODEL),
        "latency": MetricSpec(_SPREAD, frozenset({"span_name", "span_status"})),
        **{name: MetricSpec(_NUMERIC, _MODEL) for name in COST_METRICS},
    },
    ASSESSMENTS: {
        "assessment_count": MetricSpec(_COUNT, frozenset({"assessment_name", "assessment_value"})),
        "assessment_value": MetricSpec(_SPREAD, frozenset({"assessment_name"})),
    },
}


@dataclass(frozen=True, slots=True)
class Aggregation:
    kind: str  # COUNT | SUM | AVG | PERCENTILE | MIN | MAX
    percentile: float | None = None

    @property
    def label(self) -> str:
        """The key of its value in a data point: MLflow's str(MetricAggregation), e.g. ``P95.0``."""
        return f"P{self.percentile}" if self.kind == "PERCENTILE" else self.kind


def aggregations(items: list[pb.MetricAggregation]) -> list[Aggregation]:
    out = []
    for item in items:
        kind = pb.MetricAggregation.AggregationType.Name(item.aggregation_type)
        has_value = item.HasField("percentile_value")
        if kind == "PERCENTILE":
            if not has_value:
                raise invalid_parameter("Percentile value is required for PERCENTILE aggregation")
            if not 0 <= item.percentile_value <= 100:
                raise invalid_parameter(
                    f"Percentile value must be between 0 and 100, got {item.percentile_value}"
                )
            out.append(Aggregation(kind, float(item.percentile_value)))
        elif has_value:
            raise invalid_parameter(
                f"Percentile value is only allowed for PERCENTILE aggregation type, got {kind}"
            )
        else:
            out.append(Aggregation(kind))
    return out


def validate(view: str, metric: str, aggs: list[Aggregation], dimensions: list[str]) -> None:
    """MLflow's validate_query_trace_metrics_params, with its messages."""
    metrics = CONFIGS[view]
    if metric not in metrics:
        raise invalid_parameter(f"metric_name must be one of {list(metrics)}, got '{metric}'")
    spec = metrics[metric]
    wrong = sorted({a.kind for a in aggs} - spec.aggregations)
    if wrong:
        raise invalid_parameter(
            f"Found invalid aggregation_type(s): {wrong}. "
            f"Supported aggregation types: {sorted(spec.aggregations)}"
        )
    unknown = sorted(set(dimensions) - spec.dimensions)
    if unknown:
        raise invalid_parameter(
            f"Found invalid dimension(s): {unknown}. Supported dimensions: {sorted(spec.dimensions)}"
        )


# ---------------------------------------------------------------- filters

# entity -> whether it takes a key, per view of the filter grammar (MLflow's *MetricSearchKey).
FILTER_ENTITIES: dict[str, dict[str, bool]] = {
    "trace": {"status": False, "tag": True, "metadata": True},
    "span": {"name": False, "status": False, "type": False},
    "assessment": {"name": False, "type": False},
}
_CLAUSE = re.compile(
    r"""^\s*(?P<ident>(?:`[^`]*`|[^\s=!<>'"`])+)\s*(?P<op>!=|<>|<=|>=|=|<|>|\w+)\s*
    (?P<value>'(?:[^']|'')*'|"(?:[^"]|"")*")\s*$""",
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class MetricFilter:
    view: str  # trace | span | assessment
    entity: str
    key: str | None
    value: str


def _identifier(text: str) -> tuple[str, str, str | None]:
    message = (
        f"Invalid identifier {text!r}. Columns should be specified as "
        "'trace.<key>', 'span.<key>', 'assessment.<key>'."
    )
    parts = text.split(".", 2)
    if len(parts) < 2:
        raise invalid_parameter(message)
    view, entity = parts[0].strip("`"), parts[1]
    key = parts[2].strip("`").strip("'\"") if len(parts) == 3 else None
    if view not in FILTER_ENTITIES:
        raise invalid_parameter(f"Invalid view type '{view}'. Valid values are {list(FILTER_ENTITIES)}")
    entities = FILTER_ENTITIES[view]
    if entity not in entities:
        raise invalid_parameter(
            f"Invalid entity '{entity}' specified for view type '{view}'. Valid entities are {list(entities)}"
        )
    if entities[entity] and key is None:
        raise invalid_parameter(
            f"Filtering by {entity} requires a key, e.g. '{view}.{entity}.<key> = <value>'"
        )
    if not entities[entity] and key is not None:
        raise invalid_parameter(
            f"Filtering by {entity} does not require a key, use '{view}.{entity}' instead"
        )
    return view, entity, key


def parse_filter(text: str) -> MetricFilter:
    match = _CLAUSE.match(text)
    if match is None:
        raise invalid_parameter(f"Invalid filter: '{text}'. Expected one filter clause.")
    view, entity, key = _identifier(match["ident"])
    if match["op"] != "=":
        raise invalid_parameter(f"Invalid comparator: '{match['op']}', only '=' operator is supported")
    raw = match["value"]
    return MetricFilter(view, entity, key, raw[1:-1].replace(raw[0] * 2, raw[0]))
