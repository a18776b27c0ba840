"""Request checks for the experiment RPCs: names, artifact locations, experiment tags, searches.

Order of checks follows the reference server (handler-required fields first, then the store's
rules), so a request with several faults reports the same one MLflow would.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Collection, Iterable, Sequence

from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import RunstashError

from runstash_metadata.settings import (
    ALLOWED_HOST_SCHEMES_ENV_VAR,
    ARTIFACT_LOCATION_MAX_LENGTH_ENV_VAR,
    ValidationSettings,
)
from runstash_metadata.validation_common import (
    check_entity_key,
    check_max_length,
    invalid,
    non_positive_max_results_message,
    parse_experiment_id,
    parse_experiment_ids,
    require,
)

MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_KEY_LENGTH = 250
MAX_EXPERIMENT_TAG_VALUE_LENGTH = 20000
MAX_CUSTOM_VIEWS_PER_EXPERIMENT = 50
MAX_SEARCH_RESULTS = 50000
MAX_SEARCH_DATASETS_EXPERIMENTS = 20
CUSTOM_VIEW_TAG_PREFIX = "mlflow.customView.view"


# Schemes whose artifact repositories connect to the host named in the URI. Letting a client store
# one would make the server connect wherever the client says (MLflow GHSA-mr9f-g8qf-4w4j).
HOST_ADDRESSED_SCHEMES = frozenset(
    {"ftp", "sftp", "hdfs", "viewfs", "http", "https", "mlflow-artifacts", "r2", "b2", "abfss"}
)
# Schemes that reach the same service are compared as one family.
_SCHEME_FAMILY = {"viewfs": "hdfs", "https": "http", "mlflow-artifacts": "http"}
# Where a port-less URI connects; mlflow-artifacts://host follows the tracking transport (either).
# hdfs/viewfs take the port from Hadoop config, so a port-less one only matches a port-less root.
_DEFAULT_PORTS: dict[str, tuple[int | None, ...]] = {
    "ftp": (21,),
    "sftp": (22,),
    "http": (80,),
    "https": (443,),
    "mlflow-artifacts": (80, 443),
    "r2": (443,),
    "b2": (443,),
    "abfss": (443,),
}

_Target = tuple[str, str, int | None]
_MALFORMED = "malformed"  # an authority clients may read differently: matches no trusted root


# ---------------------------------------------------------------- shared rules


def check_experiment_name(name: str) -> None:
    """Non-blank (3.18 also rejects whitespace-only names), at most 500 characters."""
    if not name.strip():
        raise invalid(f"Invalid experiment name: '{name}'")
    check_max_length("name", MAX_EXPERIMENT_NAME_LENGTH, name)


def check_experiment_tag(key: str, value: str) -> None:
    check_entity_key(key, "key")
    check_max_length("key", MAX_EXPERIMENT_TAG_KEY_LENGTH, key)
    check_max_length("value", MAX_EXPERIMENT_TAG_VALUE_LENGTH, value)


def is_custom_view_tag(key: str) -> bool:
    return key.startswith(CUSTOM_VIEW_TAG_PREFIX)


def _custom_view_limit_error(experiment_id: str | None) -> RunstashError:
    where = f" for experiment {experiment_id}" if experiment_id else ""
    return invalid(
        f"Unable to create another custom view{where}; the maximum number of custom views per"
        f" experiment is {MAX_CUSTOM_VIEWS_PER_EXPERIMENT}. Delete an existing custom view before"
        " creating a new one."
    )


def check_custom_view_tag_write(experiment_id: str, existing_tag_keys: Collection[str], key: str) -> None:
    """For the store (needs the experiment's current tags): may set-experiment-tag add ``key``?

    Only adding a new custom-view tag is capped; overwriting one keeps the count flat.
    """
    if not is_custom_view_tag(key) or key in existing_tag_keys:
        return
    if sum(is_custom_view_tag(k) for k in existing_tag_keys) >= MAX_CUSTOM_VIEWS_PER_EXPERIMENT:
        raise _custom_view_limit_error(experiment_id)


def _uri_scheme(uri: str) -> str:
    scheme = urllib.parse.urlparse(uri).scheme
    # A Windows drive ("C:\\x") parses as a one-letter scheme; it is a local path.
    return "" if len(scheme) == 1 and scheme.isalpha() else scheme


def _host_targets(uri: str) -> frozenset[_Target] | None:
    """The (scheme family, host, port) targets ``uri`` makes a server connect to, or None."""
    scheme = _uri_scheme(uri)
    if scheme not in HOST_ADDRESSED_SCHEMES:
        return None
    parsed = urllib.parse.urlparse(uri)
    if scheme == "mlflow-artifacts" and not parsed.netloc:
        return None  # mlflow-artifacts:/path is the tracking server itself
    # HTTP clients end the authority at a backslash where urlparse does not: never trust those.
    if "\\" in parsed.netloc or any(c.isspace() for c in parsed.netloc):
        return frozenset({(_MALFORMED, parsed.netloc, None)})
    try:
        port = parsed.port
    except ValueError:
        return frozenset({(_MALFORMED, parsed.netloc, None)})
    family = _SCHEME_FAMILY.get(scheme, scheme)
    host = (parsed.hostname or "").lower()
    ports: tuple[int | None, ...] = (port,) if port is not None else _DEFAULT_PORTS.get(scheme, (None,))
    return frozenset((family, host, p) for p in ports)


def check_artifact_location(
    location: str,
    *,
    trusted_roots: Iterable[str] = (),
    field_name: str = "artifact_location",
    settings: ValidationSettings | None = None,
) -> None:
    """An experiment artifact_location a client may choose (limits.md §2).

    ``trusted_roots`` are the server's own default artifact root and artifacts destination: a
    host-addressed URI is accepted when it targets one of their hosts.
    """
    settings = settings or ValidationSettings.from_env()
    parsed = urllib.parse.urlparse(location)
    if parsed.fragment or parsed.params:
        raise invalid(f"'{field_name}' URL can't include fragments or params.")
    if ".." in _fully_unquoted(parsed.query):
        raise invalid("Invalid query string")
    targets = _host_targets(location)
    if targets is not None and _uri_scheme(location) not in settings.allowed_host_schemes:
        trusted: set[_Target] = set()
        for root in trusted_roots:
            trusted |= _host_targets(root) or set()
        if not {t for t in targets & trusted if t[0] != _MALFORMED}:
            scheme = _uri_scheme(location)
            raise invalid(
                f"'{field_name}' cannot use the '{scheme}' scheme: the '{scheme}' scheme addresses"
                " a host other than the tracking server's configured artifact storage, so the"
                " server would connect to the host named in the URI. Set the"
                f" {ALLOWED_HOST_SCHEMES_ENV_VAR} environment variable on the server to allow it."
            )
    if location.startswith("runs:"):
        raise invalid(f"Artifact location cannot be a runs:/ URI. Given: '{location}'")
    limit = settings.artifact_location_max_length
    if len(location) > limit:
        raise invalid(
            "Invalid artifact path length. The length of the artifact path cannot be greater than"
            f" {limit} characters. To configure this limit, please set the"
            f" {ARTIFACT_LOCATION_MAX_LENGTH_ENV_VAR} environment variable."
        )


def _fully_unquoted(query: str) -> str:
    """Percent-decode until stable, so ``%252e%252e`` cannot smuggle a ``..`` past the check."""
    for _ in range(10):
        decoded = urllib.parse.unquote(query)
        if decoded == query:
            return query
        query = decoded
    return query


# ---------------------------------------------------------------- RPC checks


def check_create_experiment(
    request: pb.CreateExperiment,
    *,
    trusted_artifact_roots: Sequence[str] = (),
    settings: ValidationSettings | None = None,
) -> None:
    require(request, "name")
    if sum(is_custom_view_tag(tag.key) for tag in request.tags) > MAX_CUSTOM_VIEWS_PER_EXPERIMENT:
        raise _custom_view_limit_error(None)
    if request.artifact_location:
        check_artifact_location(
            request.artifact_location, trusted_roots=trusted_artifact_roots, settings=settings
        )
    check_experiment_name(request.name)
    for tag in request.tags:
        check_experiment_tag(tag.key, tag.value)


def check_search_experiments(request: pb.SearchExperiments) -> None:
    # Absent means 0 here: MLflow has no default and the client always sends it.
    max_results = request.max_results
    if max_results < 1:
        raise invalid(non_positive_max_results_message(max_results))
    if max_results > MAX_SEARCH_RESULTS:
        raise invalid(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at most"
            f" {MAX_SEARCH_RESULTS}"
        )


def _check_experiment_id_request(
    request: pb.GetExperiment | pb.DeleteExperiment | pb.RestoreExperiment,
) -> None:
    require(request, "experiment_id")
    parse_experiment_id(request.experiment_id)


def check_get_experiment(request: pb.GetExperiment) -> None:
    _check_experiment_id_request(request)


def check_delete_experiment(request: pb.DeleteExperiment) -> None:
    _check_experiment_id_request(request)


def check_restore_experiment(request: pb.RestoreExperiment) -> None:
    _check_experiment_id_request(request)


def check_get_experiment_by_name(request: pb.GetExperimentByName) -> None:
    require(request, "experiment_name")


def check_update_experiment(request: pb.UpdateExperiment) -> None:
    require(request, "experiment_id")
    require(request, "new_name")
    check_experiment_name(request.new_name)
    parse_experiment_id(request.experiment_id)


def check_set_experiment_tag(request: pb.SetExperimentTag) -> None:
    """Request-level rules; the custom-view cap needs the experiment's tags, see
    :func:`check_custom_view_tag_write`."""
    require(request, "experiment_id")
    require(request, "key")
    check_experiment_tag(request.key, request.value)
    parse_experiment_id(request.experiment_id)


def check_delete_experiment_tag(request: pb.DeleteExperimentTag) -> None:
    require(request, "experiment_id")
    require(request, "key")
    parse_experiment_id(request.experiment_id)


def check_search_datasets(request: pb.SearchDatasets) -> None:
    count = len(request.experiment_ids)
    if count == 0:
        raise invalid("SearchDatasets request must specify at least one experiment_id.")
    if count > MAX_SEARCH_DATASETS_EXPERIMENTS:
        raise invalid(
            f"SearchDatasets request cannot specify more than {MAX_SEARCH_DATASETS_EXPERIMENTS}"
            f" experiment_ids. Received {count} experiment_ids."
        )
    parse_experiment_ids(request.experiment_ids)
