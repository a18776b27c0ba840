"""The model registry with the stock client: the tutorial's model registered, aliased, loaded back
through ``models:/`` URIs and predicted with; copies, the logged-model link, search; prompts.
On SQLite + local disk and PostgreSQL + S3 (SeaweedFS), single and split deployments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.compat.registry_scripts import PROMPTS, REGISTRY
from tests.compat.scripts import compose, section

if TYPE_CHECKING:
    from tests.conftest import MlflowClientRunner, RunningServer, S3Endpoint


@pytest.fixture(scope="session")
def registry_results(
    artifact_server: tuple[RunningServer, S3Endpoint | None, str], mlflow_client: MlflowClientRunner
) -> dict[str, Any]:
    script = compose({"registry": REGISTRY, "prompts": PROMPTS})
    result: dict[str, Any] = mlflow_client.run(script, artifact_server[0].url, timeout=840)
    return result


@pytest.mark.timeout(900)
def test_registered_model_loads_and_predicts(registry_results: dict[str, Any]) -> None:
    out = section(registry_results, "registry")
    assert out["version"] == "1"
    assert out["run_id_matches"] is True
    assert out["source_is_logged_model"] is True
    assert out["alias_predict_equal"] is True
    assert out["number_predict_equal"] is True
    assert out["latest_predict_equal"] is True
    assert {"MLmodel", "model.pkl"} <= set(out["downloaded"])
    assert out["alias_lookup"] == "1"
    assert out["aliases"] == {"champion": "1"}
    assert out["copy_source"].startswith("models:/")
    assert out["copy_predict_equal"] is True
    assert out["logged_model_links_version"] is True
    assert len(out["search_names"]) == 2
    assert out["search_versions"] == ["1"]
    assert out["after_alias_delete"] == {}


@pytest.mark.timeout(900)
def test_prompts_register_load_and_alias(registry_results: dict[str, Any]) -> None:
    out = section(registry_results, "prompts")
    assert out["versions"] == [1, 2]
    assert out["load_v1"] == "Hello {{name}}!"
    assert out["format_v2"] == "Hi Ada, welcome!"
    assert out["load_alias"] == "Hello {{name}}!"
    assert out["chat_format"] == [{"role": "user", "content": "Tell me about owls"}]
    assert out["prompt_in_models"] is False
    assert len(out["prompt_search"]) == 2


@pytest.mark.timeout(900)
def test_model_version_files_through_the_artifact_service(
    artifact_server: tuple[RunningServer, S3Endpoint | None, str], registry_results: dict[str, Any]
) -> None:
    """``/model-versions/get-artifact`` (the UI's route): the artifact service reads the file at
    the version's download URI; traversal and missing parameters are refused."""
    name = section(registry_results, "registry")["name"]
    url = artifact_server[0].url + "/model-versions/get-artifact"
    with httpx.Client(timeout=60.0) as client:
        ok = client.get(url, params={"name": name, "version": "1", "path": "MLmodel"})
        assert ok.status_code == 200, ok.text
        assert ok.headers["content-disposition"] == "attachment; filename=MLmodel"  # token: bare
        assert "flavors:" in ok.text
        copied = client.get(url, params={"name": name + "-copy", "version": "1", "path": "model.pkl"})
        assert copied.status_code == 200 and len(copied.content) > 1000
        escape = client.get(url, params={"name": name, "version": "1", "path": "../../../etc/passwd"})
        assert escape.status_code == 400 and escape.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        missing = client.get(url, params={"name": name, "version": "1"})
        assert missing.status_code == 400
        unknown = client.get(url, params={"name": name, "version": "9", "path": "MLmodel"})
        assert unknown.status_code == 404
