"""Training code as teams write it against MLflow, pointed at the registry (driven by mlflow-client.e2e.spec.ts).

Reads MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN like any MLflow program; prints one JSON line of what it saw.
PHASE=create: create, duplicate create, description and tag edits. PHASE=register: register_model, versions, search, alias, tag, Staging.
PHASE=promote: Production, then the same client with a viewer token.
PHASE=load: log a model folder through the artifact proxy, register it, load versions back by alias
and number, try the governed champion alias, an s3:// source, and archive_existing_versions.
"""
import hashlib
import json
import os
import shutil
import tempfile
import warnings

import mlflow
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

warnings.simplefilter("ignore")  # stage APIs are deprecated in MLflow 3 but still what many teams call
name = os.environ["MODEL"]
client = MlflowClient()
out = {}

if os.environ["PHASE"] == "create":
    created = client.create_registered_model(name, tags={"team": "risk"}, description="breast cancer screening")
    out["created"] = {"name": created.name, "tags": created.tags, "description": created.description}
    try:
        client.create_registered_model(name)
        out["duplicate"] = "accepted"
    except MlflowException as error:
        out["duplicate"] = error.error_code
    updated = client.update_registered_model(name, description="breast cancer screening, v2 features")
    client.set_registered_model_tag(name, "owner", "ana")
    client.delete_registered_model_tag(name, "team")
    edited = client.get_registered_model(name)
    out["edited"] = {"returned": updated.description, "description": edited.description, "tags": edited.tags}
elif os.environ["PHASE"] == "register":
    # The model exists: register_model must shrug off RESOURCE_ALREADY_EXISTS and add a version.
    registered = mlflow.register_model(os.environ["ARTIFACT_URI"], name)
    out["registered"] = {"version": registered.version, "status": registered.status, "source": registered.source}
    second = client.create_model_version(name, os.environ["ARTIFACT_URI"], tags={"origin": "mlflow"})
    out["second"] = {"version": second.version, "tags": second.tags}
    client.update_model_version(name, second.version, description="retrained on March data")
    out["second_description"] = client.get_model_version(name, second.version).description
    out["models"] = [m.name for m in client.search_registered_models(filter_string=f"name LIKE '{name[:6]}%'")]
    out["versions"] = sorted(v.version for v in client.search_model_versions(f"name='{name}'"))
    client.set_registered_model_alias(name, "candidate", registered.version)
    out["alias"] = client.get_model_version_by_alias(name, "candidate").version
    client.set_model_version_tag(name, registered.version, "validated", "yes")
    out["tags"] = client.get_model_version(name, registered.version).tags
    staged = client.transition_model_version_stage(name, registered.version, "Staging")
    out["staged"] = staged.current_stage
elif os.environ["PHASE"] == "load":
    import yaml
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    def sha256(path):
        with open(path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    # What log_model leaves behind on a tracking server: a model folder under a run's artifacts.
    folder = tempfile.mkdtemp()
    shutil.copy(os.environ["ONNX_PATH"], os.path.join(folder, "model.onnx"))
    with open(os.path.join(folder, "MLmodel"), "w") as f:
        f.write("artifact_path: model\nflavors:\n  onnx:\n    data: model.onnx\n    onnx_version: 1.17.0\n"
                "  python_function:\n    data: model.onnx\n    loader_module: mlflow.onnx\nmlflow_version: 3.17.2\n")
    logged_uri = "mlflow-artifacts:/7/0a1b2c3d4e/artifacts/model"
    get_artifact_repository(logged_uri).log_artifacts(folder)
    logged = mlflow.register_model(logged_uri, name)
    client.set_registered_model_alias(name, "challenger", logged.version)
    out["logged"] = {"version": logged.version, "download_uri": client.get_model_version_download_uri(name, logged.version)}
    # models:/name@alias resolves through the registry and downloads from its artifact proxy.
    by_alias = mlflow.artifacts.download_artifacts(f"models:/{name}@challenger")
    out["by_alias"] = {
        "files": sorted(os.listdir(by_alias)),
        "sha256": sha256(os.path.join(by_alias, "model.onnx")),
        "flavors": sorted(yaml.safe_load(open(os.path.join(by_alias, "MLmodel")))["flavors"]),
    }
    by_number = mlflow.artifacts.download_artifacts(f"models:/{name}/1")
    out["by_number"] = {"files": sorted(os.listdir(by_number)), "sha256": sha256(os.path.join(by_number, "model.onnx"))}
    # And through the flavour, as serving code loads it: an ONNX graph with the fixture's input.
    import mlflow.onnx
    graph = mlflow.onnx.load_model(f"models:/{name}@challenger")
    out["onnx_inputs"] = [i.name for i in graph.graph.input]
    try:
        client.set_registered_model_alias(name, "champion", logged.version)
        out["champion"] = "moved"
    except MlflowException as error:
        out["champion"] = error.error_code
    try:
        mlflow.register_model("s3://ml-artifacts/churn/model.onnx", name)
        out["s3"] = "registered"
    except MlflowException as error:
        out["s3"] = error.error_code
    client.transition_model_version_stage(name, "2", "Staging")
    client.transition_model_version_stage(name, logged.version, "Staging", archive_existing_versions=True)
    out["stages"] = {v.version: v.current_stage for v in client.search_model_versions(f"name='{name}'")}
else:
    version = os.environ["VERSION"]
    production = client.transition_model_version_stage(name, version, "Production", archive_existing_versions=True)
    out["production"] = {"stage": production.current_stage, "tags": production.tags}
    os.environ["MLFLOW_TRACKING_TOKEN"] = os.environ["VIEWER_TOKEN"]
    out["viewer_reads"] = client.get_registered_model(name).name
    try:
        client.create_registered_model(name + "-by-viewer")
        out["viewer_write"] = "accepted"
    except MlflowException as error:
        out["viewer_write"] = error.error_code

print(json.dumps(out))
