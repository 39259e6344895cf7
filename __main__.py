"""The Pulumi program: stack settings -> components -> stack outputs."""

from __future__ import annotations

from pathlib import Path

import pulumi

from components.api import Api
from components.model_endpoint import ModelEndpoint
from components.monitoring import Monitoring, monitored_names
from components.outputs import console_links
from components.settings import load_settings
from components.site import Site
from components.storage import Storage
from components.workflow import Sources, Workflow

ROOT = Path(__file__).resolve().parent
CACHE = ROOT / ".cache" / "pulumi"

settings = load_settings()
storage = Storage("storage", settings)
model = ModelEndpoint("model", settings, model_dir=ROOT / "model", build_dir=CACHE / "model")
workflow = Workflow(
    "workflow",
    settings,
    Sources(functions_dir=ROOT / "functions", pyproject=ROOT / "pyproject.toml", layer_cache_dir=CACHE / "layers"),
    table=storage.table,
    endpoint=model.endpoint,
)
api = Api("api", settings, workflow.state_machine, workflow.functions["history"])
site = Site(
    "site", settings, ROOT / "site", api_stage=api.stage, api_id=api.rest_api.id, origin_header=api.origin_header
)
monitoring = Monitoring("monitoring", settings, monitored_names(api, workflow, model, storage))

pulumi.export("siteUrl", site.url)
pulumi.export("apiUrl", api.url)
pulumi.export("stateMachineArn", workflow.state_machine.arn)
pulumi.export("endpointName", model.endpoint.name)
pulumi.export("tableName", storage.table.name)
pulumi.export(
    "consoleLinks",
    console_links(settings, workflow.state_machine.arn, workflow.log_group.name, monitoring.dashboard.dashboard_name),
)
