"""The model-registry request scenario, replayed against the real `mlflow server` and runstash.

Same Step format as scenario.py. The sources used are ones both servers accept (a run's
``runs:/`` URI with its run_id, its ``mlflow-artifacts:/`` root, a ``models:/`` copy); the shapes
runstash refuses on purpose are covered by tests/security/test_registry_sources.py.
"""

from __future__ import annotations

from tests.differential.scenario import API, T0, KnownDifference, Step, get, post


def patch(name: str, path: str, body: object, **kw: object) -> Step:
    return Step(name, "PATCH", path, json=body, **kw)  # type: ignore[arg-type]


def delete(name: str, path: str, body: object, **kw: object) -> Step:
    return Step(name, "DELETE", path, json=body, **kw)  # type: ignore[arg-type]


RM = f"{API}/registered-models"
MV = f"{API}/model-versions"

SETUP: list[Step] = [
    post(
        "reg.exp.create",
        f"{API}/experiments/create",
        {"name": "reg-exp"},
        capture=(("exp", "experiment_id"),),
    ),
    post(
        "reg.run.create",
        f"{API}/runs/create",
        {"experiment_id": "${exp}", "start_time": T0, "run_name": "reg-run"},
        capture=(("run", "run.info.run_id"), ("run_root", "run.info.artifact_uri")),
    ),
]

MODELS: list[Step] = [
    post(
        "reg.create",
        f"{RM}/create",
        {"name": "reg-a", "tags": [{"key": "team", "value": "x"}], "description": "A"},
    ),
    post("reg.create.b", f"{RM}/create", {"name": "reg-b"}),
    post("reg.create.c", f"{RM}/create", {"name": "other-c", "tags": [{"key": "team", "value": "y"}]}),
    post("reg.create.duplicate", f"{RM}/create", {"name": "reg-a"}),
    post("reg.create.missing-name", f"{RM}/create", {}),
    post("reg.create.slash", f"{RM}/create", {"name": "a/b"}),
    post("reg.create.colon", f"{RM}/create", {"name": "a:b"}),
    post("reg.create.int-name", f"{RM}/create", {"name": 5}),
    get("reg.get", f"{RM}/get", ("name", "reg-a")),
    get("reg.get.missing", f"{RM}/get", ("name", "nope")),
    get("reg.get.no-name", f"{RM}/get"),
    patch("reg.update", f"{RM}/update", {"name": "reg-b", "description": "B"}),
    patch("reg.update.missing", f"{RM}/update", {"name": "nope", "description": "B"}),
    post("reg.set-tag", f"{RM}/set-tag", {"name": "reg-b", "key": "k", "value": "v"}),
    post("reg.set-tag.bad-key", f"{RM}/set-tag", {"name": "reg-b", "key": "../x", "value": "v"}),
    post("reg.set-tag.missing", f"{RM}/set-tag", {"name": "nope", "key": "k", "value": "v"}),
    delete("reg.delete-tag", f"{RM}/delete-tag", {"name": "reg-b", "key": "k"}),
    delete("reg.delete-tag.absent", f"{RM}/delete-tag", {"name": "reg-b", "key": "never"}),
    post("reg.rename", f"{RM}/rename", {"name": "reg-b", "new_name": "reg-b2"}),
    post("reg.rename.missing", f"{RM}/rename", {"name": "nope", "new_name": "x"}),
    get("reg.get.renamed", f"{RM}/get", ("name", "reg-b2")),
]

VERSIONS: list[Step] = [
    post(
        "mv.create.runs",
        f"{MV}/create",
        {"name": "reg-a", "source": "runs:/${run}/model", "run_id": "${run}"},
    ),
    post(
        "mv.create.artifacts",
        f"{MV}/create",
        {
            "name": "reg-a",
            "source": "${run_root}/model",
            "run_id": "${run}",
            "tags": [{"key": "flavor", "value": "sk"}],
            "description": "second",
            "run_link": "http://link",
        },
    ),
    post("mv.create.copy", f"{MV}/create", {"name": "reg-b2", "source": "models:/reg-a/1"}),
    post(
        "mv.create.missing-model",
        f"{MV}/create",
        {"name": "nope", "source": "runs:/${run}/model", "run_id": "${run}"},
    ),
    post("mv.create.missing-source", f"{MV}/create", {"name": "reg-a"}),
    post("mv.create.runs-wrong-run", f"{MV}/create", {"name": "reg-a", "source": "runs:/${run}/model"}),
    post("mv.create.relative", f"{MV}/create", {"name": "reg-a", "source": "s3://b/x/../model"}),
    post("mv.create.https", f"{MV}/create", {"name": "reg-a", "source": "https://example.com/model"}),
    get("mv.get", f"{MV}/get", ("name", "reg-a"), ("version", "2")),
    get("mv.get.missing", f"{MV}/get", ("name", "reg-a"), ("version", "99")),
    get("mv.get.not-int", f"{MV}/get", ("name", "reg-a"), ("version", "abc")),
    get("mv.get.no-model", f"{MV}/get", ("name", "nope"), ("version", "1")),
    get("mv.download-uri.no-model", f"{MV}/get-download-uri", ("name", "nope"), ("version", "1")),
    patch("mv.update.no-model", f"{MV}/update", {"name": "nope", "version": "1"}),
    post("mv.latest.no-model", f"{RM}/get-latest-versions", {"name": "nope"}),
    get("alias.get.no-model", f"{RM}/alias", ("name", "nope"), ("alias", "x")),
    patch("mv.update", f"{MV}/update", {"name": "reg-a", "version": "1", "description": "first"}),
    post("mv.set-tag", f"{MV}/set-tag", {"name": "reg-a", "version": "1", "key": "k", "value": "v"}),
    post("mv.set-tag.missing", f"{MV}/set-tag", {"name": "reg-a", "version": "42", "key": "k", "value": "v"}),
    delete("mv.delete-tag", f"{MV}/delete-tag", {"name": "reg-a", "version": "1", "key": "k"}),
    get("mv.download-uri.runs", f"{MV}/get-download-uri", ("name", "reg-a"), ("version", "1")),
    get("mv.download-uri.artifacts", f"{MV}/get-download-uri", ("name", "reg-a"), ("version", "2")),
    get("mv.download-uri.copy", f"{MV}/get-download-uri", ("name", "reg-b2"), ("version", "1")),
    post("mv.transition", f"{MV}/transition-stage", {"name": "reg-a", "version": "1", "stage": "production"}),
    post(
        "mv.transition.archive",
        f"{MV}/transition-stage",
        {"name": "reg-a", "version": "2", "stage": "Production", "archive_existing_versions": True},
    ),
    post(
        "mv.transition.bad-stage",
        f"{MV}/transition-stage",
        {"name": "reg-a", "version": "1", "stage": "Bogus"},
    ),
    post(
        "mv.transition.archive-none",
        f"{MV}/transition-stage",
        {"name": "reg-a", "version": "1", "stage": "None", "archive_existing_versions": True},
    ),
    post("mv.latest", f"{RM}/get-latest-versions", {"name": "reg-a"}),
    post("mv.latest.staged", f"{RM}/get-latest-versions", {"name": "reg-a", "stages": ["Archived"]}),
    post("mv.latest.bad-stage", f"{RM}/get-latest-versions", {"name": "reg-a", "stages": ["x"]}),
    post("mv.create.copy-stage", f"{MV}/create", {"name": "reg-a", "source": "models:/reg-a/Production"}),
]

ALIASES: list[Step] = [
    post("alias.set", f"{RM}/alias", {"name": "reg-a", "alias": "champ", "version": "1"}),
    post("alias.set.repoint", f"{RM}/alias", {"name": "reg-a", "alias": "champ", "version": "2"}),
    post("alias.set.second", f"{RM}/alias", {"name": "reg-a", "alias": "old", "version": "1"}),
    post("alias.set.bad", f"{RM}/alias", {"name": "reg-a", "alias": "bad alias", "version": "1"}),
    post("alias.set.latest", f"{RM}/alias", {"name": "reg-a", "alias": "Latest", "version": "1"}),
    post("alias.set.v3", f"{RM}/alias", {"name": "reg-a", "alias": "v3", "version": "1"}),
    post("alias.set.missing-version", f"{RM}/alias", {"name": "reg-a", "alias": "x", "version": "99"}),
    post("alias.set.missing-model", f"{RM}/alias", {"name": "nope", "alias": "x", "version": "1"}),
    get("alias.get", f"{RM}/alias", ("name", "reg-a"), ("alias", "champ")),
    get("alias.get.unknown", f"{RM}/alias", ("name", "reg-a"), ("alias", "nope")),
    get("alias.get.latest", f"{RM}/alias", ("name", "reg-a"), ("alias", "latest")),
    get("alias.model", f"{RM}/get", ("name", "reg-a")),
    get("alias.version", f"{MV}/get", ("name", "reg-a"), ("version", "1")),
    delete("alias.delete", f"{RM}/alias", {"name": "reg-a", "alias": "old"}),
    delete("alias.delete.absent", f"{RM}/alias", {"name": "reg-a", "alias": "never"}),
    post("mv.create.copy-alias", f"{MV}/create", {"name": "reg-b2", "source": "models:/reg-a@champ"}),
]

SEARCH: list[Step] = [
    get("rms.all", f"{RM}/search"),
    get("rms.like", f"{RM}/search", ("filter", "name LIKE 'reg-%'")),
    get("rms.ilike", f"{RM}/search", ("filter", "name ILIKE 'REG-%'")),
    get("rms.in", f"{RM}/search", ("filter", "name IN ('reg-a', 'other-c')")),
    get("rms.not-equal", f"{RM}/search", ("filter", "name != 'reg-a'")),
    get("rms.tag", f"{RM}/search", ("filter", "tags.team = 'x'")),
    get("rms.tag-like", f"{RM}/search", ("filter", "tag.team LIKE '%'")),
    get("rms.page1", f"{RM}/search", ("max_results", "1"), capture=(("rm_token", "next_page_token"),)),
    get("rms.page2", f"{RM}/search", ("max_results", "1"), ("page_token", "${rm_token}")),
    get("rms.order-desc", f"{RM}/search", ("order_by", "name DESC")),
    get("rms.order-timestamp", f"{RM}/search", ("order_by", "timestamp DESC")),
    get("rms.bad-or", f"{RM}/search", ("filter", "name = 'a' OR name = 'b'")),
    get("rms.bad-key", f"{RM}/search", ("filter", "foo = 'x'")),
    get("rms.bad-comparator", f"{RM}/search", ("filter", "name > 'a'")),
    get("rms.bad-tag-list", f"{RM}/search", ("filter", "tags.t IN ('v')")),
    get("rms.unquoted", f"{RM}/search", ("filter", "name = reg")),
    get("rms.number", f"{RM}/search", ("filter", "name = 5")),
    get("rms.bad-entity", f"{RM}/search", ("filter", "param.x = 'y'")),
    get("rms.bad-order", f"{RM}/search", ("order_by", "creation_timestamp")),
    get("rms.bad-direction", f"{RM}/search", ("order_by", "name sideways")),
    get("rms.duplicate-order", f"{RM}/search", ("order_by", "name"), ("order_by", "name DESC")),
    get("rms.too-many", f"{RM}/search", ("max_results", "1001")),
    get("rms.bad-token", f"{RM}/search", ("page_token", "abc")),
    get("mvs.all", f"{MV}/search"),
    get("mvs.name", f"{MV}/search", ("filter", "name = 'reg-a'")),
    get("mvs.run", f"{MV}/search", ("filter", "run_id = '${run}'")),
    get("mvs.run-in", f"{MV}/search", ("filter", "run_id IN ('${run}')")),
    get("mvs.source", f"{MV}/search", ("filter", "source_path LIKE 'runs:%'")),
    get("mvs.version", f"{MV}/search", ("filter", "name = 'reg-a' AND version_number >= 2")),
    get("mvs.tag", f"{MV}/search", ("filter", "tags.flavor = 'sk'")),
    get("mvs.order", f"{MV}/search", ("order_by", "version_number ASC"), ("order_by", "name DESC")),
    get("mvs.page1", f"{MV}/search", ("max_results", "2"), capture=(("mv_token", "next_page_token"),)),
    get("mvs.page2", f"{MV}/search", ("max_results", "2"), ("page_token", "${mv_token}")),
    get("mvs.bad-version", f"{MV}/search", ("filter", "version_number = 'a'")),
    get("mvs.bad-list", f"{MV}/search", ("filter", "version_number IN (1,2)")),
    get("mvs.bad-key", f"{MV}/search", ("filter", "current_stage = 'None'")),
    get("mvs.bad-like", f"{MV}/search", ("filter", "version_number LIKE 1")),
    get("mvs.bad-order", f"{MV}/search", ("order_by", "foo ASC")),
    get("mvs.bad-order-tag", f"{MV}/search", ("order_by", "tags.x")),
    get("mvs.zero", f"{MV}/search", ("max_results", "0")),
]

DELETES: list[Step] = [
    delete("mv.delete", f"{MV}/delete", {"name": "reg-a", "version": "1"}),
    get("mv.get.deleted", f"{MV}/get", ("name", "reg-a"), ("version", "1")),
    delete("mv.delete.again", f"{MV}/delete", {"name": "reg-a", "version": "1"}),
    get("alias.after-delete", f"{RM}/get", ("name", "reg-a")),
    post(
        "mv.create.after-delete",
        f"{MV}/create",
        {"name": "reg-a", "source": "runs:/${run}/m2", "run_id": "${run}"},
    ),
    delete("reg.delete", f"{RM}/delete", {"name": "reg-b2"}),
    get("reg.get.deleted", f"{RM}/get", ("name", "reg-b2")),
    delete("reg.delete.missing", f"{RM}/delete", {"name": "reg-b2"}),
    Step("reg.delete.query-only", "DELETE", f"{RM}/delete", query=(("name", "reg-a"),)),
    get("rms.after-deletes", f"{RM}/search"),
]

HOOK = f"{API}/webhooks"
_MV_CREATED = [{"entity": "MODEL_VERSION", "action": "CREATED"}]
# 8.8.8.8 is an address literal: public, resolved without DNS; no event below fires it.
WEBHOOKS: list[Step] = [
    post(
        "hook.create",
        HOOK,
        {
            "name": "h1",
            "url": "https://8.8.8.8/hook",
            "events": _MV_CREATED,
            "secret": "x",
            "description": "d",
        },
        capture=(("hook", "webhook.webhook_id"),),
    ),
    post("hook.create.http", HOOK, {"name": "h2", "url": "http://example.com/h", "events": _MV_CREATED}),
    post("hook.create.loopback", HOOK, {"name": "h2", "url": "https://127.0.0.1/h", "events": _MV_CREATED}),
    post(
        "hook.create.metadata-ip",
        HOOK,
        {"name": "h2", "url": "https://169.254.169.254/", "events": _MV_CREATED},
    ),
    post(
        "hook.create.bad-action",
        HOOK,
        {
            "name": "h2",
            "url": "https://8.8.8.8/h",
            "events": [{"entity": "MODEL_VERSION", "action": "DELETED"}],
        },
    ),
    post("hook.create.bad-name", HOOK, {"name": "-bad", "url": "https://8.8.8.8/h", "events": _MV_CREATED}),
    post("hook.create.no-events", HOOK, {"name": "h2", "url": "https://8.8.8.8/h"}),
    get("hook.get", HOOK + "/${hook}"),
    get("hook.get.missing", HOOK + "/nope"),
    get("hook.list", HOOK),
    patch("hook.update", HOOK + "/${hook}", {"status": "DISABLED", "description": "off"}),
    delete("hook.delete", HOOK + "/${hook}", {}),
    get("hook.get.deleted", HOOK + "/${hook}"),
    get("hook.list.after-delete", HOOK),
]

REGISTRY_SCENARIO: list[Step] = SETUP + MODELS + VERSIONS + ALIASES + SEARCH + DELETES + WEBHOOKS

REGISTRY_KNOWN_DIFFERENCES: dict[str, KnownDifference] = {
    "rms.duplicate-order": KnownDifference(
        "MLflow answers 500 INTERNAL_ERROR (retried by the client); runstash rejects it as bad input "
        "(limits.md §6), as for runs/search",
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    "mv.create.https": KnownDifference(
        "same refusal as MLflow (INVALID_PARAMETER_VALUE), worded as runstash's one source rule",
        400,
        "INVALID_PARAMETER_VALUE",
    ),
    "mv.create.relative": KnownDifference(
        "same refusal as MLflow; runstash refuses it before parsing (traversal in any encoding)",
        400,
        "INVALID_PARAMETER_VALUE",
    ),
}
