"""The SageMaker scikit-learn 1.9-0 image's serving toolkit, run on this machine.

Two halves in one file:

- In the project's venv: ``create_venv()`` builds ``.venv-sagemaker``, a
  Python 3.12 venv with the image's pins (``tests/sagemaker/image-requirements.txt``)
  and the image's one patch (``collections.Mapping`` -> ``collections.abc.Mapping``
  in ``sagemaker_containers/_mapping.py``, as docker/sklearn/1.9-0/Dockerfile
  does); ``make sagemaker-venv`` runs it (``python -m tests.support.sagemaker_toolkit``).
  ``run_container()`` starts a container in it, offline, and returns what it answered.
- In ``.venv-sagemaker``, run as a script: the container. SageMaker extracts
  ``model.tar.gz`` into ``/opt/ml/model`` (here ``SAGEMAKER_BASE_DIR``, to which
  every ``/opt/ml/...`` of the environment is moved). Start-up is what
  ``sagemaker_containers._server.start`` does before gunicorn: the toolkit's
  own ``_modules.import_module`` (copy the code to ``code/``, write a
  ``setup.py``, ``python -m pip install .``, import), or with ``install`` off
  only the copy. Then what a gunicorn worker does on its first request
  (``sagemaker_sklearn_container/serving.py``, ``main`` and
  ``import_module``): import the user module from the code directory, refuse
  ``transform_fn`` next to ``input_fn``/``predict_fn``/``output_fn``, build the
  toolkit's ``Transformer``, ``initialize()`` it (``model_fn``) and wrap it in
  the toolkit's Flask ``Worker``, which Werkzeug's test client then drives.
  The JSON result goes to stdout; pip's and the toolkit's output to stderr.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-sagemaker"
REQUIREMENTS = ROOT / "tests" / "sagemaker" / "image-requirements.txt"
IMAGE_PYTHON_VERSION = "3.12"
# Where SageMaker puts everything in the container; here a directory of the test's.
CONTAINER_BASE = "/opt/ml"
# A module with transform_fn and any of these is refused by the image.
STEPWISE_HOOKS = ("input_fn", "predict_fn", "output_fn")
USER_HOOKS = ("model_fn", *STEPWISE_HOOKS, "transform_fn")
# A loopback port nothing listens on: an index that cannot be reached.
CLOSED_INDEX_URL = "http://127.0.0.1:9/simple"
START_TIMEOUT_SECONDS = 180


# --- The project's side ---


def venv_stamp() -> Path:
    """The file that says the venv holds the current pins (the Makefile's name for it too)."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:12]
    return VENV / f".installed-{digest}"


def venv_python() -> Path | None:
    """The venv's interpreter, if the venv is complete and current."""
    return VENV / "bin" / "python" if venv_stamp().is_file() else None


def require_venv() -> Path:
    """The venv's interpreter for a test: skipped without it, but failed under
    make, whose ``test`` target builds it first."""
    import pytest

    python = venv_python()
    if python is None:
        reason = f"{VENV.name} is absent or out of date: `make sagemaker-venv` builds it (make test does)"
        if os.environ.get("MAKELEVEL"):
            pytest.fail(reason)
        pytest.skip(reason)
    return python


def invocation(body: str, content_type: str | None = "application/json", accept: str | None = None) -> dict[str, Any]:
    """A request to the container's ``/invocations``; a header given as None is not sent."""
    headers = {name: value for name, value in (("Content-Type", content_type), ("Accept", accept)) if value is not None}
    return {"method": "POST", "path": "/invocations", "headers": headers, "body": body}


PING = {"method": "GET", "path": "/ping"}


def create_venv() -> None:
    """(Re)builds ``.venv-sagemaker`` from PyPI; the stamp is written last."""
    from components.layer_builder import find_target_python

    shutil.rmtree(VENV, ignore_errors=True)
    _check([find_target_python(IMAGE_PYTHON_VERSION), "-m", "venv", str(VENV)])
    python = str(VENV / "bin" / "python")
    _check([python, "-m", "pip", "install", "--quiet", "--no-deps", "-r", str(REQUIREMENTS)])
    mapping = _check(
        [python, "-c", "import importlib.util as u; print(u.find_spec('sagemaker_containers._mapping').origin)"]
    )
    module = Path(mapping.strip())
    module.write_text(module.read_text().replace("collections.Mapping", "collections.abc.Mapping"))
    venv_stamp().touch()


def _check(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} ... failed:\n{result.stderr[-4000:]}")
    return result.stdout


def run_container(
    python: Path,
    archive: Path,
    environment: dict[str, str],
    work_dir: Path,
    requests: list[dict[str, Any]],
    install: bool,
) -> tuple[dict[str, Any], str]:
    """Starts the container on ``archive`` with ``environment`` and sends it
    ``requests`` (``{"method", "path", "headers", "body"}``); returns its
    result and its log (stderr).

    No package index can be reached: the machine's pip configuration (it points
    at local mirrors, which a container does not have) is not read, the index is
    a closed loopback port, pip is told to use none, and where ``unshare`` can
    make one the process runs in a network namespace of its own."""
    spec = {
        "archive": str(archive),
        "base_dir": str(work_dir / "opt-ml"),
        "environment": environment,
        "install": install,
        "requests": requests,
    }
    spec_path = work_dir / "container.json"
    spec_path.write_text(json.dumps(spec))
    env = {
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(work_dir),
        "LANG": "C.UTF-8",
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_INDEX_URL": CLOSED_INDEX_URL,
    }
    command = [*_no_network_prefix(), str(_container_python(python, work_dir)), __file__, str(spec_path)]
    result = subprocess.run(
        command, env=env, cwd=work_dir, capture_output=True, text=True, timeout=START_TIMEOUT_SECONDS
    )
    assert result.returncode == 0, f"the container driver failed:\n{result.stderr[-6000:]}"
    return json.loads(result.stdout), result.stderr


def _container_python(python: Path, work_dir: Path) -> Path:
    """A throwaway interpreter over the venv's packages whose own site-packages
    take the start-up's ``pip install``: each container starts clean, and the
    venv stays as built."""
    container = work_dir / "container-python"
    _check([str(python), "-m", "venv", "--without-pip", str(container)])
    site_packages = Path("lib", f"python{IMAGE_PYTHON_VERSION}", "site-packages")
    # addsitedir, not a plain path line: the venv's own .pth files (setuptools' distutils shim) must run.
    (container / site_packages / "image-packages.pth").write_text(
        f"import site; site.addsitedir({str(python.parent.parent / site_packages)!r})\n"
    )
    return container / "bin" / "python"


def _no_network_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "--net", "true"], capture_output=True, check=False).returncode == 0:
        return [unshare, "--net"]
    return []


# --- The container's side (Python 3.12, the image's packages) ---


def _container(spec: dict[str, Any]) -> dict[str, Any]:
    base = Path(spec["base_dir"])
    for name, value in spec["environment"].items():
        os.environ[name] = (
            base.as_posix() + value[len(CONTAINER_BASE) :] if value.startswith(CONTAINER_BASE + "/") else value
        )
    os.environ["SAGEMAKER_BASE_DIR"] = str(base)
    with tarfile.open(spec["archive"]) as tar:
        tar.extractall(base / "model", filter="data")

    # The serving module's own imports (it reads the environment at import).
    from sagemaker_containers.beta.framework import env, files, modules, transformer, worker

    serving_env = env.ServingEnv()
    result: dict[str, Any] = {"workers": serving_env.model_server_workers, "install_error": None}
    started = time.perf_counter()
    if spec["install"]:
        try:
            modules.import_module(serving_env.module_dir, serving_env.module_name)
        except Exception as error:  # noqa: BLE001 - any failure stops the container: nothing is served
            result["install_error"] = f"{type(error).__name__}: {error}"
            return result
    else:
        files.download_and_extract(serving_env.module_dir, env.code_dir)
    result["start_ms"] = _ms_since(started)

    # A gunicorn worker: the code directory is on its --pythonpath.
    sys.path.append(env.code_dir)
    user_module = importlib.import_module(serving_env.module_name)
    result["hooks"] = [hook for hook in USER_HOOKS if hasattr(user_module, hook)]
    transform_fn = getattr(user_module, "transform_fn", None)
    if transform_fn is not None and any(hasattr(user_module, hook) for hook in STEPWISE_HOOKS):
        result["refused"] = "Cannot use transform_fn implementation with input_fn, predict_fn, and/or output_fn"
        return result
    if transform_fn is not None:
        user_transformer = transformer.Transformer(model_fn=user_module.model_fn, transform_fn=transform_fn)
    else:
        user_transformer = transformer.Transformer(
            model_fn=user_module.model_fn,
            **{hook: getattr(user_module, hook, None) for hook in STEPWISE_HOOKS},
        )
    started = time.perf_counter()
    user_transformer.initialize()
    result["model_load_ms"] = _ms_since(started)
    app = worker.Worker(
        transform_fn=user_transformer.transform,
        module_name=serving_env.module_name,
        execution_parameters_fn=getattr(user_module, "execution_parameters_fn", None),
    )

    from werkzeug.test import Client

    client = Client(app)
    answers = []
    for request in spec["requests"]:
        started = time.perf_counter()
        response = client.open(
            request["path"], method=request["method"], headers=request.get("headers", {}), data=request.get("body")
        )
        answers.append(
            {
                "status": response.status_code,
                "content_type": response.headers.get("Content-Type"),
                "body": response.get_data(as_text=True),
                "ms": _ms_since(started),
            }
        )
    result["answers"] = answers
    return result


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _main(argv: list[str]) -> None:
    if argv == ["create-venv"]:
        create_venv()
        return
    # pip and the toolkit print to stdout; only the result goes there.
    result_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    result = _container(json.loads(Path(argv[0]).read_text()))
    sys.stdout.flush()
    result_out.write(json.dumps(result))
    result_out.flush()


if __name__ == "__main__":
    _main(sys.argv[1:])
