"""Training code as teams write it against MLflow, pointed at the registry (driven by mlflow-client.e2e.spec.ts).

Reads MLFLOW_TRACKING_URI and MLFLOW_TRACKING_TOKEN like any MLflow program; prints one JSON line of what it saw.
PHASE=create: create, duplicate create, description and tag edits. PHASE=register: register_model, versions, search, alias, tag, Staging.
PHASE=promote: Production, then the same client with a viewer token.
"""
import json
import os
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
