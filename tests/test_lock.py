"""The lock (constraints.txt) is what is installed, its packages agree with each other, and every executor the
README offers loads from it.

``pip check`` alone does not catch a provider that needs an older library than the lock pins: the Celery
provider declares ``celery>=5.5.0,<6`` but imports ``celery.backends.database.retry``, which celery 5.7.0
removed. So each executor is also loaded the way the scheduler loads it, and the module the Celery
workers run is imported, each in a fresh interpreter with a throw-away AIRFLOW_HOME.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Installers and the project itself are not part of the lock.
NOT_LOCKED = {"pip", "setuptools", "wheel"}
# The executors the README's Deployment section names, and the distribution each one needs.
EXECUTORS = {
    "LocalExecutor": "apache-airflow-core",
    "CeleryExecutor": "apache-airflow-providers-celery",
    # Documented as untested: checked only where the provider is installed (it is not in this lock).
    "KubernetesExecutor": "apache-airflow-providers-cncf-kubernetes",
}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned with =="
            pins[normalize(name)] = version
    return pins


def installed() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    skip = {normalize(n) for n in (*NOT_LOCKED, project)}
    found = {normalize(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    return {name: version for name, version in found.items() if name not in skip}


def test_the_environment_is_exactly_the_lock():
    pins, present = lock(), installed()
    differ = {n: (pins[n], present[n]) for n in pins.keys() & present.keys() if pins[n] != present[n]}
    assert not differ, f"installed versions differ from constraints.txt (lock, installed): {differ}"
    assert not present.keys() - pins.keys(), (
        f"installed but not locked: {sorted(present.keys() - pins.keys())}; add them to constraints.txt"
    )
    assert not pins.keys() - present.keys(), (
        f"locked but not installed: {sorted(pins.keys() - present.keys())}; "
        "run `make .venv/.installed` or drop them from constraints.txt"
    )


def test_pip_check_finds_no_broken_requirement():
    result = subprocess.run(
        [sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    print(result.stdout)
    assert result.returncode == 0, f"pip check: {result.stdout}{result.stderr}"


LOAD_EXECUTOR = textwrap.dedent(
    """
    import sys
    from airflow.executors.executor_loader import ExecutorLoader

    executor = ExecutorLoader.load_executor(sys.argv[1])
    print(type(executor).__module__ + "." + type(executor).__name__)
    if sys.argv[1] == "CeleryExecutor":
        # What `airflow celery worker` imports: the Celery app and the task the workers run.
        from airflow.providers.celery.executors import celery_executor_utils

        print(celery_executor_utils.app.main, celery_executor_utils.execute_workload.name)
    """
)


def test_every_executor_the_readme_names_loads(tmp_path):
    readme = (ROOT / "README.md").read_text()
    loaded = []
    for executor, distribution in EXECUTORS.items():
        assert executor in readme, f"the README no longer names {executor}: update EXECUTORS here"
        if normalize(distribution) not in installed() and executor == "KubernetesExecutor":
            continue  # documented as untested, and its provider is not in the lock
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(
            AIRFLOW_HOME=str(tmp_path / executor),
            AIRFLOW__CORE__EXECUTOR=executor,
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CELERY__BROKER_URL="redis://127.0.0.1:1/0",  # never contacted: loading is offline
        )
        result = subprocess.run(
            [sys.executable, "-c", LOAD_EXECUTOR, executor], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"{executor} does not load from this lock:\n{result.stderr[-3000:]}"
        loaded.append(executor)
        print(result.stdout.strip())
    assert {"LocalExecutor", "CeleryExecutor"} <= set(loaded)


@pytest.mark.parametrize("requirement_file", ["requirements.txt", "requirements-dev.txt"])
def test_every_direct_requirement_is_pinned_as_in_the_lock(requirement_file):
    pins = lock()
    for line in (ROOT / requirement_file).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r"):
            continue
        name, _, version = line.partition("==")
        name = normalize(name.split("[", 1)[0])
        assert version, f"{requirement_file}: {line!r} is not pinned exactly"
        assert pins.get(name) == version, f"{requirement_file} pins {name}=={version}, the lock {pins.get(name)}"
