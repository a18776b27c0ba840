"""Stock-client scripts for the model registry (run in .venv-mlflow through compose())."""

from __future__ import annotations

REGISTRY = """
import tempfile, uuid
import numpy as np
import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_diabetes
from sklearn.ensemble import RandomForestRegressor
from sklearn.model_selection import train_test_split

c = MlflowClient()
mlflow.set_experiment("registry-" + uuid.uuid4().hex[:8])
mlflow.autolog()
db = load_diabetes()
X_train, X_test, y_train, y_test = train_test_split(db.data, db.target, random_state=0)
rf = RandomForestRegressor(n_estimators=20, max_depth=6, max_features=3, random_state=0)
rf.fit(X_train, y_train)
predictions = rf.predict(X_test)
rid = mlflow.last_active_run().info.run_id
mlflow.autolog(disable=True)

name = "diabetes-" + uuid.uuid4().hex[:6]
out = {"name": name}
mv = mlflow.register_model(f"runs:/{rid}/model", name)
out["version"] = mv.version
out["run_id_matches"] = mv.run_id == rid
out["source_is_logged_model"] = mv.source.startswith("models:/m-")
c.set_registered_model_alias(name, "champion", mv.version)
champion = mlflow.pyfunc.load_model(f"models:/{name}@champion")
out["alias_predict_equal"] = bool(np.allclose(champion.predict(X_test), predictions))
by_number = mlflow.pyfunc.load_model(f"models:/{name}/{mv.version}")
out["number_predict_equal"] = bool(np.allclose(by_number.predict(X_test), predictions))
latest = mlflow.sklearn.load_model(f"models:/{name}/latest")
out["latest_predict_equal"] = bool(np.allclose(latest.predict(X_test), predictions))
files = mlflow.artifacts.download_artifacts(f"models:/{name}@champion", dst_path=tempfile.mkdtemp())
import pathlib
out["downloaded"] = sorted(p.name for p in pathlib.Path(files).iterdir())
out["alias_lookup"] = c.get_model_version_by_alias(name, "champion").version
model = c.get_registered_model(name)
out["aliases"] = dict(model.aliases)

copy = c.copy_model_version(f"models:/{name}@champion", name + "-copy")
out["copy_source"] = copy.source
copied = mlflow.pyfunc.load_model(f"models:/{name}-copy/{copy.version}")
out["copy_predict_equal"] = bool(np.allclose(copied.predict(X_test), predictions))

lm_id = mv.source.removeprefix("models:/")
tag = mlflow.get_logged_model(lm_id).tags.get("mlflow.modelVersions", "")
out["logged_model_links_version"] = name in tag

found = c.search_registered_models(filter_string=f"name LIKE '{name}%'")
out["search_names"] = sorted(m.name for m in found)
versions = c.search_model_versions(f"name = '{name}'")
out["search_versions"] = [v.version for v in versions]
c.delete_registered_model_alias(name, "champion")
out["after_alias_delete"] = dict(c.get_registered_model(name).aliases)
"""

PROMPTS = """
import uuid
import mlflow
from mlflow import MlflowClient

out = {}
name = "greeting_" + uuid.uuid4().hex[:6]
p1 = mlflow.genai.register_prompt(name=name, template="Hello {{name}}!", commit_message="first")
p2 = mlflow.genai.register_prompt(name=name, template="Hi {{name}}, welcome!", tags={"lang": "en"})
out["versions"] = [p1.version, p2.version]
out["load_v1"] = mlflow.genai.load_prompt(f"prompts:/{name}/1").template
out["format_v2"] = mlflow.genai.load_prompt(name, version=2).format(name="Ada")
mlflow.genai.set_prompt_alias(name, alias="production", version=1)
out["load_alias"] = mlflow.genai.load_prompt(f"prompts:/{name}@production").template
chat = mlflow.genai.register_prompt(
    name=name + "_chat", template=[{"role": "user", "content": "Tell me about {{topic}}"}]
)
out["chat_format"] = mlflow.genai.load_prompt(f"prompts:/{chat.name}/1").format(topic="owls")
# prompts stay out of the model listing, and models out of the prompt listing
c = MlflowClient()
out["prompt_in_models"] = any(m.name == name for m in c.search_registered_models())
out["prompt_search"] = sorted(p.name for p in mlflow.genai.search_prompts(f"name LIKE '{name}%'"))
"""
