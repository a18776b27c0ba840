"""Map a stock-client REST call (message name, JSON body, endpoint path) to a gRPC request.

mlflow's REST store names each call by its request message and sometimes puts ids in the path
(``/api/2.0/mlflow/logged-models/{model_id}``). The runstash contract keeps mlflow's message and
field names and annotates every RPC with its REST paths, so the path parameters are read back
from the same ``google.api.http`` annotations the gateway routes by: no table of our own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from google.api import annotations_pb2, http_pb2  # type: ignore[import-untyped]
from google.protobuf import descriptor, json_format
from runstash_protos import metadata_pb2

_SERVICE = metadata_pb2.DESCRIPTOR.services_by_name["MetadataService"]
_VARIABLE = re.compile(r"\{([a-z_]+)(?:=\*\*)?\}")


def rpc_name(api_name: str) -> str | None:
    """The runstash RPC for an mlflow request message name (``LogLoggedModelParamsRequest`` too)."""
    for name in (api_name, api_name.removesuffix("Request")):
        if name in _SERVICE.methods_by_name:
            return name
    return None


def _patterns(rule: http_pb2.HttpRule) -> Iterator[str]:
    for kind in ("get", "post", "patch", "put", "delete"):
        value = getattr(rule, kind)
        if value:
            yield value
    for extra in rule.additional_bindings:
        yield from _patterns(extra)


@cache
def _path_regexes(method_name: str) -> tuple[re.Pattern[str], ...]:
    method: descriptor.MethodDescriptor = _SERVICE.methods_by_name[method_name]
    rule = method.GetOptions().Extensions[annotations_pb2.http]
    regexes = []
    for pattern in _patterns(rule):
        parts = _VARIABLE.split(pattern)
        # split() alternates literal text and variable names.
        regex = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)" for i, part in enumerate(parts)
        )
        regexes.append(re.compile(regex + "$"))
    return tuple(regexes)


def path_fields(method_name: str, endpoint: str | None) -> dict[str, str]:
    """The request fields carried in ``endpoint``'s path (empty when it has none)."""
    if not endpoint:
        return {}
    for regex in _path_regexes(method_name):
        match = regex.match(endpoint)
        if match:
            return match.groupdict()
    return {}


def build_request(method_name: str, body: dict[str, Any], endpoint: str | None) -> Any:
    """The runstash request message for an mlflow JSON body plus path parameters."""
    method = _SERVICE.methods_by_name[method_name]
    request_class = getattr(metadata_pb2, method.input_type.name)
    if method.input_type.containing_type is not None:  # pragma: no cover - requests are top level
        raise TypeError(f"unexpected nested request type {method.input_type.full_name}")
    merged = {**body, **path_fields(method_name, endpoint)}
    return json_format.ParseDict(merged, request_class(), ignore_unknown_fields=True)
