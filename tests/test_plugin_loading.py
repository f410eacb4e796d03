"""Airflow's plugin manager loads the Warehouse plugin, and no project module is loaded under two names.

The plugin manager imports every ``.py`` file of the plugins folder as a top-level module named after its file;
a package kept there would be loaded a second time (a second ``Settings``, a second registry) in every Airflow
process. The probe loads the plugins exactly as Airflow does, in a fresh interpreter, then imports the DAG files
the way the dag-processor does, and reports which module names each project file was loaded under.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from helpers import ROOT

PROBE = r"""
import json, sys
from pathlib import Path
from airflow import plugins_manager
plugins_manager.ensure_plugins_loaded()
plugins, errors = plugins_manager._get_plugins()
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1] + "/dags")
root = Path(sys.argv[1]).resolve()
ours = ("elgoose", "fake_elgoose", "elgoose_local", "include", "dags", "plugins")  # not .venv/ under the root
names = {}
for name, module in list(sys.modules.items()):
    path = getattr(module, "__file__", None)
    if path and Path(path).resolve().is_relative_to(root) and Path(path).resolve().relative_to(root).parts[0] in ours:
        names.setdefault(str(Path(path).resolve().relative_to(root)), []).append(name)
print(json.dumps({"plugins": [p.name for p in plugins], "errors": errors, "dag_errors": bag.import_errors,
                  "modules": names}))
"""


def test_the_plugin_loads_and_every_project_module_has_one_name(tmp_path):
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(ROOT)], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["errors"] == {} and report["dag_errors"] == {}
    assert "elgoose_warehouse" in report["plugins"]
    modules = report["modules"]
    assert "elgoose/registry.py" in modules and "elgoose/settings.py" in modules, sorted(modules)
    twice = {path: names for path, names in modules.items() if len(names) > 1}
    assert not twice, f"project files loaded under more than one module name: {twice}"
    plugin_files = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "plugins").rglob("*.py"))
    assert plugin_files == ["plugins/elgoose_warehouse.py"], "plugins/ holds only the plugin's entry file"
