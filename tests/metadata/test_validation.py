"""Request validation: shared helpers, experiment checks and the RPC dispatch table.

Table-driven: each case is a request (or helper call), and either passes or fails with MLflow's
exact error code and message (messages checked against a live reference mlflow server).
test_validation_runs.py and test_validation_models.py repeat the few table helpers on purpose: test
modules are imported in importlib mode and do not import each other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from runstash_metadata import validation as v
from runstash_metadata.settings import MetadataSettings
from runstash_protos import metadata_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

HINT = " See the API docs for more information about request parameters."
BAD_CHARS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ),"
    " colon(:) and slashes (/)."
)
RESOLVES = (
    "Names may be treated as files in certain cases, and must not resolve to other names when"
    " treated as such. This name would resolve to "
)
INVALID = ErrorCode.INVALID_PARAMETER_VALUE


def missing(field: str) -> str:
    return f"Missing value for required parameter '{field}'.{HINT}"


@dataclass(frozen=True)
class Case:
    """``call`` passes when ``message`` is None, else raises ``code`` with exactly ``message``."""

    id: str
    call: Callable[[], Any]
    message: str | None = None
    code: ErrorCode = INVALID


def run_case(case: Case) -> None:
    if case.message is None:
        case.call()
        return
    with pytest.raises(RunstashError) as info:
        case.call()
    assert info.value.code == case.code
    assert info.value.message == case.message


def cases(*items: Case) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("case", items, ids=[c.id for c in items])


def bad_id(value: str) -> str:
    return f"Invalid experiment ID '{value}'. Experiment ID must be a valid integer."


# ---------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("0", 0), ("12", 12), (" 2 ", 2), ("0_2", 2), ("-1", -1), (str(2**63 - 1), 2**63 - 1)],
)
def test_parse_experiment_id_accepts_what_python_int_accepts(raw: str, expected: int) -> None:
    assert v.parse_experiment_id(raw) == expected


@cases(
    Case("letters", lambda: v.parse_experiment_id("abc"), bad_id("abc")),
    Case("empty", lambda: v.parse_experiment_id(""), bad_id("")),
    Case("float", lambda: v.parse_experiment_id("1.5"), bad_id("1.5")),
    Case("beyond-int64", lambda: v.parse_experiment_id(str(2**63)), bad_id(str(2**63))),
    Case("list-first-bad", lambda: v.parse_experiment_ids(["1", "x"]), bad_id("x")),
)
def test_parse_experiment_id_rejects(case: Case) -> None:
    run_case(case)


@cases(
    Case("hex32", lambda: v.check_run_id_format("0123456789abcdef0123456789abcdef")),
    Case("max-256", lambda: v.check_run_id_format("a" * 256)),
    Case("dash-underscore", lambda: v.check_run_id_format("a-b_c")),
    Case("trailing-newline-quirk", lambda: v.check_run_id_format("abc\n")),
    Case(
        "257",
        lambda: v.check_run_id_format("a" * 257),
        f"Invalid value \"{'a' * 257}\" for parameter 'run_id' supplied.",
    ),
    Case(
        "space",
        lambda: v.check_run_id_format("bad id"),
        "Invalid value \"bad id\" for parameter 'run_id' supplied.",
    ),
    Case(
        "leading-dash",
        lambda: v.check_run_id_format("-a"),
        "Invalid value \"-a\" for parameter 'run_id' supplied.",
    ),
    Case("empty", lambda: v.check_run_id_format(""), "Invalid value \"\" for parameter 'run_id' supplied."),
    Case(
        "non-ascii-escaped",
        lambda: v.check_run_id_format("é"),
        "Invalid value \"\\u00e9\" for parameter 'run_id' supplied.",
    ),
)
def test_run_id_format(case: Case) -> None:
    run_case(case)


# ---------------------------------------------------------------- entity key rule


@pytest.mark.parametrize("key", ["loss", "a/b", "a.b", "a-b c:d_e", "ü", "x" * 300, "t\n", "a.", ".a"])
def test_entity_key_accepts(key: str) -> None:
    v.check_entity_key(key, "key")


@pytest.mark.parametrize(
    ("key", "path", "message"),
    [
        ("bad$key", "name", f"Invalid value \"bad$key\" for parameter 'name' supplied: {BAD_CHARS}"),
        ("a\tb", "key", f"Invalid value \"a\\tb\" for parameter 'key' supplied: {BAD_CHARS}"),
        ("x,y", "tags[3].key", f"Invalid value \"x,y\" for parameter 'tags[3].key' supplied: {BAD_CHARS}"),
        ("a/../b", "name", f"Invalid value \"a/../b\" for parameter 'name' supplied: {RESOLVES}'b'"),
        ("a//b", "key", f"Invalid value \"a//b\" for parameter 'key' supplied: {RESOLVES}'a/b'"),
        ("a/./b", "key", f"Invalid value \"a/./b\" for parameter 'key' supplied: {RESOLVES}'a/b'"),
        ("/a", "key", f"Invalid value \"/a\" for parameter 'key' supplied: {RESOLVES}'/a'"),
        ("a/", "key", f"Invalid value \"a/\" for parameter 'key' supplied: {RESOLVES}'a'"),
        (".", "key", f"Invalid value \".\" for parameter 'key' supplied: {RESOLVES}'.'"),
        ("..", "key", f"Invalid value \"..\" for parameter 'key' supplied: {RESOLVES}'..'"),
        ("../a", "key", f"Invalid value \"../a\" for parameter 'key' supplied: {RESOLVES}'../a'"),
        ("", "key", f"Invalid value \"\" for parameter 'key' supplied: {RESOLVES}'.'"),
    ],
)
def test_entity_key_rejects(key: str, path: str, message: str) -> None:
    run_case(Case(key, lambda: v.check_entity_key(key, path), message))


def test_entity_key_rule_is_stable_across_cache_hits_and_long_keys() -> None:
    for _ in range(2):  # the second call is served from the cache
        run_case(
            Case(
                "cached",
                lambda: v.check_entity_key("x$", "name"),
                f"Invalid value \"x$\" for parameter 'name' supplied: {BAD_CHARS}",
            )
        )
    long_bad = "k" * 300 + "$"  # beyond the cached length: still the charset message
    run_case(
        Case(
            "long",
            lambda: v.check_entity_key(long_bad, "key"),
            f"Invalid value \"{long_bad}\" for parameter 'key' supplied: {BAD_CHARS}",
        )
    )


# ---------------------------------------------------------------- truncation and metric values


def test_truncation_is_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # Long values pass the checks (the store cuts them: test_store.py::test_long_values_are_truncated).
    monkeypatch.delenv("MLFLOW_TRUNCATE_LONG_VALUES", raising=False)
    assert v.truncation_enabled()
    v.check_param_value_length("p" * 6001)
    v.check_tag_value_length("t" * 9000)


@pytest.mark.parametrize("setting", ["false", "FALSE", "0", " False ", "off", "no"])
def test_truncation_disabled_rejects_long_values(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", setting)
    v.check_param_value_length("p" * 6000)
    v.check_tag_value_length("t" * 8000)
    run_case(
        Case(
            "param",
            lambda: v.check_param_value_length("p" * 6001),
            "'Param value' exceeds the maximum length of 6000 characters",
        )
    )
    run_case(
        Case(
            "tag",
            lambda: v.check_tag_value_length("t" * 8001),
            "'value' exceeds the maximum length of 8000 characters",
        )
    )
    run_case(
        Case(
            "batch-tag",
            lambda: v.check_tag_value_length("t" * 8001, "tags[2].value"),
            "'tags[2].value' exceeds the maximum length of 8000 characters",
        )
    )


@pytest.mark.parametrize("setting", ["true", "1", "TRUE", "on", "yes", ""])
def test_truncation_enabled_settings(monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    monkeypatch.setenv("MLFLOW_TRUNCATE_LONG_VALUES", setting)
    assert v.truncation_enabled()
    v.check_param_value_length("p" * 7000)


def test_malformed_truncation_setting_stops_start_up() -> None:
    # One boolean reading for every runstash flag: a value that is none of the known words is a
    # configuration mistake reported when the settings are parsed, not a silent default.
    with pytest.raises(ValueError, match="MLFLOW_TRUNCATE_LONG_VALUES: 'garbage' is not a boolean"):
        MetadataSettings.from_env("sqlite://", "/tmp", {"MLFLOW_TRUNCATE_LONG_VALUES": "garbage"})
    settings = MetadataSettings.from_env("sqlite://", "/tmp", {"MLFLOW_TRUNCATE_LONG_VALUES": "off"})
    assert settings.validation.truncate_long_values is False
    with pytest.raises(RunstashError):
        v.check_param_value_length("p" * 6001, settings.validation)


def test_normalize_metric_value() -> None:
    assert v.normalize_metric_value(math.inf) == 1.7976931348623157e308
    assert v.normalize_metric_value(-math.inf) == -1.7976931348623157e308
    assert math.isnan(v.normalize_metric_value(math.nan))
    assert v.normalize_metric_value(0.5) == 0.5
    assert v.normalize_metric_value(-3.0) == -3.0


# ---------------------------------------------------------------- required fields and run ids


@cases(
    Case("string-present", lambda: v.require(pb.GetExperiment(experiment_id="1"), "experiment_id")),
    Case("string-absent", lambda: v.require(pb.GetExperiment(), "experiment_id"), missing("experiment_id")),
    Case(
        "string-empty",
        lambda: v.require(pb.GetExperiment(experiment_id=""), "experiment_id"),
        missing("experiment_id"),
    ),
    Case("number-zero-is-present", lambda: v.require(pb.LogMetric(value=0.0), "value")),
    Case("number-absent", lambda: v.require(pb.LogMetric(), "timestamp"), missing("timestamp")),
    Case("repeated-empty", lambda: v.require(pb.LogOutputs(), "models"), missing("models")),
    Case("repeated-present", lambda: v.require(pb.LogOutputs(models=[pb.ModelOutput()]), "models")),
    Case("enum-absent", lambda: v.require(pb.FinalizeLoggedModel(), "status"), missing("status")),
    Case(
        "nested-path",
        lambda: v.require(pb.Metric(), "timestamp", path="metrics[4].timestamp"),
        missing("metrics[4].timestamp"),
    ),
)
def test_require(case: Case) -> None:
    run_case(case)


@cases(
    Case("run_id", lambda: v.require_run_id(pb.GetRun(run_id="r1"))),
    Case("run_uuid-fallback", lambda: v.require_run_id(pb.GetRun(run_uuid="r1"))),
    Case("both", lambda: v.require_run_id(pb.LogMetric(run_id="r1", run_uuid="r1"))),
    Case("neither", lambda: v.require_run_id(pb.GetRun()), missing("run_id")),
    Case(
        "empty-run_id-does-not-fall-back",
        lambda: v.require_run_id(pb.GetRun(run_id="", run_uuid="r1")),
        missing("run_id"),
    ),
    Case("empty-run_uuid", lambda: v.require_run_id(pb.UpdateRun(run_uuid="")), missing("run_id")),
    Case("no-run_uuid-field", lambda: v.require_run_id(pb.DeleteRun()), missing("run_id")),
)
def test_require_run_id(case: Case) -> None:
    run_case(case)


def test_run_id_of() -> None:
    assert v.run_id_of(pb.GetRun(run_id="a", run_uuid="b")) == "a"
    assert v.run_id_of(pb.GetRun(run_uuid="b")) == "b"
    assert v.run_id_of(pb.GetRun(run_id="", run_uuid="b")) == "b"
    assert v.run_id_of(pb.DeleteRun(run_id="c")) == "c"
    assert v.run_id_of(pb.GetRun()) == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "experiment_id",
            0,
            "Invalid value 0 for parameter 'experiment_id' supplied:  Hint: Value was of type 'int'.",
        ),
        (
            "value",
            "abc",
            "Invalid value \"abc\" for parameter 'value' supplied:  Hint: Value was of type 'str'.",
        ),
        (
            "start_time",
            True,
            "Invalid value true for parameter 'start_time' supplied:  Hint: Value was of type 'bool'.",
        ),
        (
            "tags",
            {"b": 1, "a": [1, 2]},
            'Invalid value {"a":[1,2],"b":1} for parameter \'tags\' supplied:'
            "  Hint: Value was of type 'dict'.",
        ),
        (
            "name",
            None,
            "Invalid value null for parameter 'name' supplied:  Hint: Value was of type 'NoneType'.",
        ),
        ("x", 1.5, "Invalid value 1.5 for parameter 'x' supplied:  Hint: Value was of type 'float'."),
    ],
)
def test_type_error_message(field: str, value: Any, message: str) -> None:
    assert v.type_error_message(field, value) == message + HINT


# ---------------------------------------------------------------- experiments


def views(n: int) -> list[pb.ExperimentTag]:
    return [pb.ExperimentTag(key=f"mlflow.customView.view{i}", value="{}") for i in range(n)]


VIEW_LIMIT = (
    "Unable to create another custom view; the maximum number of custom views per experiment is 50."
    " Delete an existing custom view before creating a new one."
)
HOST_SCHEME = (
    "'artifact_location' cannot use the '{0}' scheme: the '{0}' scheme addresses a host other than the"
    " tracking server's configured artifact storage, so the server would connect to the host named in"
    " the URI. Set the MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES environment variable on the server"
    " to allow it."
)
LOCATION_TOO_LONG = (
    "Invalid artifact path length. The length of the artifact path cannot be greater than {}"
    " characters. To configure this limit, please set the MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH"
    " environment variable."
)


def create(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_create_experiment(pb.CreateExperiment(**kwargs))


@cases(
    Case("ok", create(name="exp")),
    Case("ok-500", create(name="n" * 500)),
    Case("ok-tags", create(name="e", tags=[pb.ExperimentTag(key="k", value="v" * 20000)])),
    Case("ok-50-views", create(name="e", tags=views(50))),
    Case("name-absent", create(), missing("name")),
    Case("name-empty", create(name=""), missing("name")),
    Case("name-blank", create(name=" "), "Invalid experiment name: ' '"),
    Case("name-tabs", create(name="\t\n"), "Invalid experiment name: '\t\n'"),
    Case("name-501", create(name="n" * 501), "'name' exceeds the maximum length of 500 characters"),
    Case("51-views", create(name="e", tags=views(51)), VIEW_LIMIT),
    Case("views-before-location", create(name="e", tags=views(51), artifact_location="runs:/x"), VIEW_LIMIT),
    Case(
        "tag-key-empty",
        create(name="e", tags=[pb.ExperimentTag(value="1")]),
        f"Invalid value \"\" for parameter 'key' supplied: {RESOLVES}'.'",
    ),
    Case(
        "tag-key-chars",
        create(name="e", tags=[pb.ExperimentTag(key="a$")]),
        f"Invalid value \"a$\" for parameter 'key' supplied: {BAD_CHARS}",
    ),
    Case(
        "tag-key-251",
        create(name="e", tags=[pb.ExperimentTag(key="k" * 251)]),
        "'key' exceeds the maximum length of 250 characters",
    ),
    Case(
        "tag-value-20001",
        create(name="e", tags=[pb.ExperimentTag(key="k", value="v" * 20001)]),
        "'value' exceeds the maximum length of 20000 characters",
    ),
    Case(
        "name-before-tags",
        create(name=" ", tags=[pb.ExperimentTag(key="a$")]),
        "Invalid experiment name: ' '",
    ),
    Case(
        "location-before-name",
        create(name=" ", artifact_location="runs:/x"),
        "Artifact location cannot be a runs:/ URI. Given: 'runs:/x'",
    ),
)
def test_create_experiment(case: Case) -> None:
    run_case(case)


@cases(
    Case("s3", lambda: v.check_artifact_location("s3://bucket/path")),
    Case("local", lambda: v.check_artifact_location("/data/mlruns")),
    Case("proxied", lambda: v.check_artifact_location("mlflow-artifacts:/team/x")),
    Case("s3-semicolon-is-path", lambda: v.check_artifact_location("s3://b/x;p")),
    Case("runs-uppercase-not-runs", lambda: v.check_artifact_location("RUNS:/abc")),
    Case("windows-drive", lambda: v.check_artifact_location("C:\\mlruns")),
    Case("2048", lambda: v.check_artifact_location("s3://b/" + "x" * 2041)),
    Case(
        "runs",
        lambda: v.check_artifact_location("runs:/abc/x"),
        "Artifact location cannot be a runs:/ URI. Given: 'runs:/abc/x'",
    ),
    Case(
        "fragment",
        lambda: v.check_artifact_location("s3://b/x#frag"),
        "'artifact_location' URL can't include fragments or params.",
    ),
    Case(
        "params",
        lambda: v.check_artifact_location("/data/x;v=1"),
        "'artifact_location' URL can't include fragments or params.",
    ),
    Case("query-dotdot", lambda: v.check_artifact_location("s3://b/x?a=../b"), "Invalid query string"),
    Case(
        "query-encoded-dotdot",
        lambda: v.check_artifact_location("s3://b/x?a=%252e%252e/b"),
        "Invalid query string",
    ),
    Case("2049", lambda: v.check_artifact_location("s3://b/" + "x" * 2042), LOCATION_TOO_LONG.format(2048)),
    Case("http", lambda: v.check_artifact_location("http://evil/x"), HOST_SCHEME.format("http")),
    Case("HTTP-upper", lambda: v.check_artifact_location("HTTP://evil/x"), HOST_SCHEME.format("http")),
    Case("https", lambda: v.check_artifact_location("https://evil:8443/x"), HOST_SCHEME.format("https")),
    Case("ftp", lambda: v.check_artifact_location("ftp://h/x"), HOST_SCHEME.format("ftp")),
    Case("sftp", lambda: v.check_artifact_location("sftp://h/x"), HOST_SCHEME.format("sftp")),
    Case("hdfs", lambda: v.check_artifact_location("hdfs://nn:8020/x"), HOST_SCHEME.format("hdfs")),
    Case(
        "abfss",
        lambda: v.check_artifact_location("abfss://fs@acct.dfs.core.windows.net/x"),
        HOST_SCHEME.format("abfss"),
    ),
    Case(
        "proxied-with-host",
        lambda: v.check_artifact_location("mlflow-artifacts://otherhost/x"),
        HOST_SCHEME.format("mlflow-artifacts"),
    ),
    Case(
        "trusted-root-host",
        lambda: v.check_artifact_location("http://store:80/exp", trusted_roots=["http://store/root"]),
    ),
    Case(
        "trusted-family",
        lambda: v.check_artifact_location(
            "mlflow-artifacts://store:443/x", trusted_roots=["https://store/r"]
        ),
    ),
    Case(
        "other-port-untrusted",
        lambda: v.check_artifact_location("http://store:81/x", trusted_roots=["http://store/root"]),
        HOST_SCHEME.format("http"),
    ),
    Case(
        "backslash-authority-untrusted",
        lambda: v.check_artifact_location("http://store\\@evil/x", trusted_roots=["http://store\\@evil/"]),
        HOST_SCHEME.format("http"),
    ),
    Case(
        "fragment-before-scheme",
        lambda: v.check_artifact_location("http://evil/x#f"),
        "'artifact_location' URL can't include fragments or params.",
    ),
)
def test_artifact_location(case: Case) -> None:
    run_case(case)


def test_artifact_location_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ALLOWED_HOST_ADDRESSED_ARTIFACT_SCHEMES", "sftp, HTTP")
    v.check_artifact_location("http://anyhost/x")
    v.check_artifact_location("sftp://anyhost/x")
    run_case(
        Case("ftp-still-rejected", lambda: v.check_artifact_location("ftp://h/x"), HOST_SCHEME.format("ftp"))
    )
    monkeypatch.setenv("MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH", "10")
    v.check_artifact_location("/a/bcdefgh")
    run_case(
        Case("custom-limit", lambda: v.check_artifact_location("/a/bcdefghi"), LOCATION_TOO_LONG.format(10))
    )


def test_create_experiment_trusts_server_roots() -> None:
    request = pb.CreateExperiment(name="e", artifact_location="https://minio.internal/bucket/e")
    v.check_create_experiment(request, trusted_artifact_roots=["https://minio.internal/bucket"])
    with pytest.raises(RunstashError):
        v.check_create_experiment(request)


def search_experiments(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_search_experiments(pb.SearchExperiments(**kwargs))


@cases(
    Case("one", search_experiments(max_results=1)),
    Case("max", search_experiments(max_results=50000)),
    Case(
        "absent",
        search_experiments(),
        "Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer",
    ),
    Case(
        "zero",
        search_experiments(max_results=0),
        "Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer",
    ),
    Case(
        "negative",
        search_experiments(max_results=-3),
        "Invalid value -3 for parameter 'max_results' supplied. It must be a positive integer",
    ),
    Case(
        "too-many",
        search_experiments(max_results=50001),
        "Invalid value 50001 for parameter 'max_results' supplied. It must be at most 50000",
    ),
)
def test_search_experiments(case: Case) -> None:
    run_case(case)


@cases(
    Case("get-ok", lambda: v.check_get_experiment(pb.GetExperiment(experiment_id="0"))),
    Case("get-missing", lambda: v.check_get_experiment(pb.GetExperiment()), missing("experiment_id")),
    Case("get-bad", lambda: v.check_get_experiment(pb.GetExperiment(experiment_id="abc")), bad_id("abc")),
    Case("delete-ok", lambda: v.check_delete_experiment(pb.DeleteExperiment(experiment_id="3"))),
    Case(
        "delete-missing",
        lambda: v.check_delete_experiment(pb.DeleteExperiment(experiment_id="")),
        missing("experiment_id"),
    ),
    Case(
        "delete-bad",
        lambda: v.check_delete_experiment(pb.DeleteExperiment(experiment_id="1e3")),
        bad_id("1e3"),
    ),
    Case("restore-ok", lambda: v.check_restore_experiment(pb.RestoreExperiment(experiment_id="3"))),
    Case(
        "restore-missing",
        lambda: v.check_restore_experiment(pb.RestoreExperiment()),
        missing("experiment_id"),
    ),
    Case(
        "restore-bad",
        lambda: v.check_restore_experiment(pb.RestoreExperiment(experiment_id="x")),
        bad_id("x"),
    ),
    Case(
        "by-name-ok",
        lambda: v.check_get_experiment_by_name(pb.GetExperimentByName(experiment_name="Default")),
    ),
    Case(
        "by-name-missing",
        lambda: v.check_get_experiment_by_name(pb.GetExperimentByName()),
        missing("experiment_name"),
    ),
    Case(
        "by-name-empty",
        lambda: v.check_get_experiment_by_name(pb.GetExperimentByName(experiment_name="")),
        missing("experiment_name"),
    ),
)
def test_experiment_id_requests(case: Case) -> None:
    run_case(case)


def update(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_update_experiment(pb.UpdateExperiment(**kwargs))


@cases(
    Case("ok", update(experiment_id="1", new_name="renamed")),
    Case("missing-id", update(new_name="x"), missing("experiment_id")),
    Case("missing-new-name", update(experiment_id="1"), missing("new_name")),
    Case("empty-new-name", update(experiment_id="1", new_name=""), missing("new_name")),
    Case("blank-new-name", update(experiment_id="1", new_name="  "), "Invalid experiment name: '  '"),
    Case(
        "long-new-name",
        update(experiment_id="1", new_name="n" * 501),
        "'name' exceeds the maximum length of 500 characters",
    ),
    Case("bad-id", update(experiment_id="abc", new_name="x"), bad_id("abc")),
    Case(
        "name-checked-before-id",
        update(experiment_id="abc", new_name="n" * 501),
        "'name' exceeds the maximum length of 500 characters",
    ),
)
def test_update_experiment(case: Case) -> None:
    run_case(case)


def set_exp_tag(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_set_experiment_tag(pb.SetExperimentTag(**kwargs))


def delete_exp_tag(**kwargs: Any) -> Callable[[], None]:
    return lambda: v.check_delete_experiment_tag(pb.DeleteExperimentTag(**kwargs))


@cases(
    Case("set-ok", set_exp_tag(experiment_id="1", key="note", value="v")),
    Case("set-value-absent", set_exp_tag(experiment_id="1", key="note")),
    Case("set-value-20000", set_exp_tag(experiment_id="1", key="note", value="v" * 20000)),
    Case("set-missing-id", set_exp_tag(key="k"), missing("experiment_id")),
    Case("set-missing-key", set_exp_tag(experiment_id="1", value="v"), missing("key")),
    Case(
        "set-key-chars",
        set_exp_tag(experiment_id="1", key="k$"),
        f"Invalid value \"k$\" for parameter 'key' supplied: {BAD_CHARS}",
    ),
    Case(
        "set-key-path",
        set_exp_tag(experiment_id="1", key="a/../b"),
        f"Invalid value \"a/../b\" for parameter 'key' supplied: {RESOLVES}'b'",
    ),
    Case(
        "set-key-251",
        set_exp_tag(experiment_id="1", key="k" * 251),
        "'key' exceeds the maximum length of 250 characters",
    ),
    Case(
        "set-value-20001",
        set_exp_tag(experiment_id="1", key="k", value="v" * 20001),
        "'value' exceeds the maximum length of 20000 characters",
    ),
    Case("set-bad-id", set_exp_tag(experiment_id="abc", key="k", value="v"), bad_id("abc")),
    Case("delete-ok", delete_exp_tag(experiment_id="1", key="k$")),
    Case("delete-missing-key", delete_exp_tag(experiment_id="1"), missing("key")),
    Case("delete-missing-id", delete_exp_tag(key="k"), missing("experiment_id")),
    Case("delete-bad-id", delete_exp_tag(experiment_id="one", key="k"), bad_id("one")),
)
def test_experiment_tags(case: Case) -> None:
    run_case(case)


def test_custom_view_cap_for_set_experiment_tag() -> None:
    existing = {f"mlflow.customView.view{i}" for i in range(50)} | {"note"}
    v.check_custom_view_tag_write("7", existing, "mlflow.customView.view3")  # overwrite
    v.check_custom_view_tag_write("7", existing, "note2")  # not a view
    v.check_custom_view_tag_write("7", set(list(existing)[:40]), "mlflow.customView.viewNew")
    with pytest.raises(RunstashError) as info:
        v.check_custom_view_tag_write("7", existing, "mlflow.customView.viewNew")
    assert info.value.code == INVALID
    assert info.value.message == (
        "Unable to create another custom view for experiment 7; the maximum number of custom views per"
        " experiment is 50. Delete an existing custom view before creating a new one."
    )


def search_datasets(ids: list[str]) -> Callable[[], None]:
    return lambda: v.check_search_datasets(pb.SearchDatasets(experiment_ids=ids))


@cases(
    Case("one", search_datasets(["0"])),
    Case("twenty", search_datasets([str(i) for i in range(20)])),
    Case("none", search_datasets([]), "SearchDatasets request must specify at least one experiment_id."),
    Case(
        "twenty-one",
        search_datasets([str(i) for i in range(21)]),
        "SearchDatasets request cannot specify more than 20 experiment_ids. Received 21 experiment_ids.",
    ),
    Case("bad-id", search_datasets(["1", "abc"]), bad_id("abc")),
)
def test_search_datasets(case: Case) -> None:
    run_case(case)


# ---------------------------------------------------------------- dispatch table


def test_every_rpc_has_a_check() -> None:
    service = pb.DESCRIPTOR.services_by_name["MetadataService"]
    registered = {cls.DESCRIPTOR.full_name for cls in v.CHECKS}
    missing_rpcs = [m.name for m in service.methods if m.input_type.full_name not in registered]
    assert missing_rpcs == []


def test_check_request_dispatches_by_type() -> None:
    with pytest.raises(RunstashError) as info:
        v.check_request(pb.LogBatch(run_id="bad id"))
    assert info.value.message == "Invalid value \"bad id\" for parameter 'run_id' supplied."
    v.check_request(pb.LogBatch(run_id="abc"))
    v.check_request(pb.Metric())  # not a request type: nothing to check
