"""Model-version sources are checked, not trusted (security.md §B): every attack shape of the
MLflow CVE family is refused with INVALID_PARAMETER_VALUE and stores nothing; the sources this
server owns are accepted, and what is stored is exactly what was checked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from runstash_protos import registry_pb2 as pb
from runstash_protos.errors import ErrorCode, RunstashError

from tests.registry.support import Registry, open_registry


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    yield from open_registry(tmp_path)


@pytest.fixture
def local_registry(tmp_path: Path) -> Iterator[Registry]:
    yield from open_registry(tmp_path, str(tmp_path / "mlartifacts"))


def _create(reg: Registry, source: str, *, run_id: str = "", model_id: str = "") -> pb.ModelVersion:
    if not _exists(reg):
        reg.servicer.CreateRegisteredModel(pb.CreateRegisteredModel(name="m"), None)
    request = pb.CreateModelVersion(name="m", source=source)
    if run_id:
        request.run_id = run_id
    if model_id:
        request.model_id = model_id
    return reg.servicer.CreateModelVersion(request, None).model_version


def _exists(reg: Registry) -> bool:
    try:
        reg.servicer.GetRegisteredModel(pb.GetRegisteredModel(name="m"), None)
    except RunstashError:
        return False
    return True


def _refused(reg: Registry, source: str, **ids: str) -> str:
    with pytest.raises(RunstashError) as raised:
        _create(reg, source, **ids)
    assert raised.value.code is ErrorCode.INVALID_PARAMETER_VALUE, raised.value
    found = reg.servicer.SearchModelVersions(pb.SearchModelVersions(filter="name = 'm'"), None)
    assert list(found.model_versions) == []  # nothing stored
    return str(raised.value)


TRAVERSALS = [
    "runs:/{run}/../../etc",
    "runs:/{run}/%2e%2e/%2e%2e/etc",
    "runs:/{run}/%252e%252e/etc",  # double encoding
    "runs:/{run}/..%2fetc",
    "{run_root}/../../../etc/passwd",
    "{run_root}/%2E%2E/%2E%2E/etc",
    "mlflow-artifacts:/../../etc",
    "s3://bucket/path/../model",
    "https://example.com/a/../b",
]
ENCODING_TRICKS = [
    "{run_root}\\..\\..\\etc",  # backslash traversal (CVE-2023-2780, -6909)
    "{run_root}/model\\x",
    "{run_root}/model#/../../etc",  # fragment hides the path (CVE-2024-1483, -1594, -3848)
    "{run_root}/model?x=/../../etc",  # query
    "http:///#/../../../../etc/",
    "{run_root}/model%23frag",  # an encoded fragment decodes to one
    "{run_root}/model%3Fq",
    "{run_root}/model%00",  # NUL
    "{run_root}/model\x00",
    "{run_root}/mo\ndel",
]
FOREIGN = [
    "/etc",  # CVE-2023-1177: local directory
    "file:///etc/",
    "file:/etc",
    "//proc/self/root/etc",  # network-path reference (CVE-2023-6977)
    "https://example.com/model",  # the server never downloads a source
    "http://attacker/api/2.0/mlflow-artifacts/artifacts/x",  # CVE-2023-6018
    "mlflow-artifacts://attacker:5000/1/abc/artifacts/model",  # host-addressed
    "s3://other-bucket/model",
    "C:/Windows/System32",  # drive letter parsed as a scheme (CVE-2024-3573)
    "dummy-source",
]


def _fill(reg: Registry, template: str) -> str:
    return template.replace("{run}", reg.run_id).replace("{run_root}", reg.run_root)


@pytest.mark.parametrize("template", TRAVERSALS)
def test_traversal_in_any_encoding_is_refused(registry: Registry, template: str) -> None:
    message = _refused(registry, _fill(registry, template), run_id=registry.run_id)
    assert "relative path references" in message


@pytest.mark.parametrize("template", ENCODING_TRICKS)
def test_backslash_fragment_query_and_control_characters_are_refused(
    registry: Registry, template: str
) -> None:
    _refused(registry, _fill(registry, template), run_id=registry.run_id)


@pytest.mark.parametrize("source", FOREIGN)
def test_sources_outside_the_server_are_refused(registry: Registry, source: str) -> None:
    _refused(registry, source, run_id=registry.run_id)


def test_local_paths_outside_the_trusted_root_are_refused(local_registry: Registry, tmp_path: Path) -> None:
    _refused(local_registry, str(tmp_path / "elsewhere" / "model"), run_id=local_registry.run_id)
    _refused(local_registry, str(tmp_path / "mlartifacts-sibling" / "model"))  # prefix is not containment


def test_runs_source_must_name_the_request_run(registry: Registry) -> None:
    _refused(registry, f"runs:/{registry.run_id}/model")  # no run_id
    _refused(registry, f"runs:/{registry.run_id}/model", run_id="0" * 32)  # another run
    _refused(registry, "runs:/" + "0" * 32 + "/model", run_id="0" * 32)  # unknown run
    _refused(registry, f"runs://{registry.run_id}/model", run_id=registry.run_id)  # netloc form


def test_logged_model_source_must_match_model_id(registry: Registry) -> None:
    _refused(registry, f"models:/{registry.model_id}")  # no model_id
    _refused(registry, f"models:/{registry.model_id}", model_id="m-" + "0" * 32)
    _refused(registry, "models:/m-" + "0" * 32, model_id="m-" + "0" * 32)  # unknown logged model
    _refused(registry, f"runs:/{registry.run_id}/model", model_id=registry.model_id, run_id=registry.run_id)


def test_owned_sources_are_accepted_and_stored_as_checked(registry: Registry) -> None:
    runs = _create(registry, f"runs:/{registry.run_id}/model", run_id=registry.run_id)
    assert runs.source == f"runs:/{registry.run_id}/model"
    artifacts = _create(registry, f"{registry.run_root}/model", run_id=registry.run_id)
    assert artifacts.source == f"{registry.run_root}/model"
    logged = _create(registry, f"models:/{registry.model_id}", model_id=registry.model_id)
    assert logged.run_id == registry.run_id  # inherited from the logged model
    uri = registry.servicer.GetModelVersionDownloadUri(
        pb.GetModelVersionDownloadUri(name="m", version=logged.version), None
    )
    assert uri.artifact_uri == registry.model_root
    copy = _create(registry, "models:/m/1")
    assert copy.source == "models:/m/1"
    assert copy.run_id == registry.run_id


def test_local_root_accepts_paths_inside_it(local_registry: Registry, tmp_path: Path) -> None:
    inside = str(tmp_path / "mlartifacts" / "0" / "x" / "model")
    assert _create(local_registry, inside).source == inside
    assert _create(local_registry, "file://" + inside).source == "file://" + inside


def test_copy_of_a_prompt_is_refused(registry: Registry) -> None:
    tags = [pb.RegisteredModelTag(key="mlflow.prompt.is_prompt", value="true")]
    registry.servicer.CreateRegisteredModel(pb.CreateRegisteredModel(name="p", tags=tags), None)
    version_tags = [pb.ModelVersionTag(key="mlflow.prompt.is_prompt", value="true")]
    registry.servicer.CreateModelVersion(
        pb.CreateModelVersion(name="p", source="dummy-source", tags=version_tags), None
    )
    message = _refused(registry, "models:/p/1")
    assert "Prompt versions cannot be used" in message


def test_prompt_versions_only_take_placeholders(registry: Registry) -> None:
    tags = [pb.RegisteredModelTag(key="mlflow.prompt.is_prompt", value="true")]
    registry.servicer.CreateRegisteredModel(pb.CreateRegisteredModel(name="p", tags=tags), None)
    version_tags = [pb.ModelVersionTag(key="mlflow.prompt.is_prompt", value="true")]
    with pytest.raises(RunstashError, match="Prompt sources must use an MLflow placeholder"):
        registry.servicer.CreateModelVersion(
            pb.CreateModelVersion(name="p", source="/etc/passwd", tags=version_tags), None
        )
