"""docker-compose.yaml, Dockerfile, .dockerignore and .env.example: valid, complete and secret-free.

The compose file is validated against the Compose specification's JSON schema as vendored by the
pinned ``check-jsonschema`` package (requirements-dev.txt), both as written and after interpolation
with the values of ``.env.example``; the interpolation follows Compose's rules (``${VAR:-default}``,
``${VAR:?error}``, ``$$`` ...). Then the shape the pipeline needs is checked service by service.
When a Compose v2 implementation is on the machine (``docker compose`` or ``docker-compose``), it
renders the file too. Nothing here builds an image or starts a container.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

AIRFLOW_IMAGE = "apache/airflow:3.3.2-python3.11"
AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
}
AIRFLOW_SERVICES = (*AIRFLOW_COMMANDS, "airflow-init")
DATABASES = ("postgres", "warehouse-postgres")
CELERY_ONLY = ("redis", "airflow-worker")
MOUNTS = {
    "./elgoose": "/opt/airflow/elgoose",
    "./dags": "/opt/airflow/dags",
    "./plugins": "/opt/airflow/plugins",
    "./include": "/opt/airflow/include",
}
API_CONNECTION = {"conn_type": "http", "host": "https://elgoose.net/api/v2"}
ELGOOSE_SETTINGS = (
    "ELGOOSE_USER_AGENT",
    "ELGOOSE_ARTIST_ID",
    "ELGOOSE_BUSTOUT_MIN_GAP",
    "ELGOOSE_CHATBOT_ROLE",
    "ELGOOSE_CHATBOT_PASSWORD",
)
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|(?<![A-Z])KEY$")
DUMMY_SECRET = "0123456789abcdef"


# --- Compose variable interpolation (https://compose-spec.io, "Interpolation") ---------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_EXPRESSION = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?", re.DOTALL)


class MissingVariable(ValueError):
    """A ``${VAR:?message}`` (or ``${VAR?message}``) whose variable has no value."""


def interpolate(text: str, env: dict[str, str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i] != "$":
            out.append(text[i])
            i += 1
        elif text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            end = _closing_brace(text, i + 1)
            out.append(_expand(text[i + 2 : end], env))
            i = end + 1
        elif name := _NAME.match(text, i + 1):
            out.append(env.get(name.group(), ""))
            i = name.end()
        else:
            raise ValueError(f"invalid interpolation at {i} in {text!r} (a literal $ is written $$)")
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for j in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return j
    raise ValueError(f"unclosed ${{ in {text!r}")


def _expand(expression: str, env: dict[str, str]) -> str:
    match = _EXPRESSION.fullmatch(expression)
    if not match:
        raise ValueError(f"invalid interpolation ${{{expression}}}")
    name, operator, argument = match.groups()
    value = env.get(name)
    if operator is None:
        return value or ""
    missing = value is None or (operator.startswith(":") and value == "")
    if operator.endswith("-"):
        return interpolate(argument, env) if missing else value
    if operator.endswith("?"):
        if missing:
            raise MissingVariable(f"{name}: {argument}")
        return value
    return "" if missing else interpolate(argument, env)  # + : the argument when set


def interpolate_document(node, env: dict[str, str]):
    if isinstance(node, dict):
        return {key: interpolate_document(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_document(value, env) for value in node]
    if isinstance(node, str):
        return interpolate(node, env)
    return node


def strings(node):
    """Every string value of a document (keys excluded)."""
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def references(node) -> dict[str, set[tuple[str, str]]]:
    """Variable name -> the (operator, argument) pairs it is referenced with ('' for plain)."""
    found: dict[str, set[tuple[str, str]]] = {}
    for text in strings(node):
        for match in _REFERENCE.finditer(text.replace("$$", "")):
            name = match.group(1) or match.group(4)
            found.setdefault(name, set()).add((match.group(2) or "", match.group(3) or ""))
    return found


# --- fixtures ----------------------------------------------------------------------------------------


def parse_env_file(path: Path) -> tuple[dict[str, str], set[str]]:
    """(variables set, variables only documented in a comment such as ``# NAME=default``)."""
    values: dict[str, str] = {}
    documented: set[str] = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if commented := re.match(r"#\s*([A-Z_][A-Z0-9_]*)=", line):
            documented.add(commented.group(1))
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f"malformed line in {path.name}: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values, documented


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def env_example() -> tuple[dict[str, str], set[str]]:
    return parse_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def env(env_example) -> dict[str, str]:
    """What a filled-in .env gives: .env.example with every empty secret set to a dummy value."""
    values, _ = env_example
    return {name: value or (DUMMY_SECRET if SECRET_NAME.search(name) else value) for name, value in values.items()}


@pytest.fixture(scope="module")
def compose(raw, env) -> dict:
    return interpolate_document(raw, env)


@pytest.fixture(scope="module")
def schema_validator() -> jsonschema.protocols.Validator:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def schema_errors(validator, document) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


# --- the interpolation helper itself ---------------------------------------------------------------


def test_interpolation_follows_compose_rules():
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("a$$b ${SET} $SET ${UNSET}", env) == "a$b v v "
    assert interpolate("${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${UNSET:-${SET}}", env) == "v d  d v"
    assert interpolate("${SET:+r} ${EMPTY:+r} ${EMPTY+r} ${UNSET+r}", env) == "r  r "
    assert interpolate("${EMPTY?m}", env) == ""
    for text in ("${EMPTY:?m}", "${UNSET?m}", "${UNSET:?m}"):
        with pytest.raises(MissingVariable):
            interpolate(text, env)
    for text in ("$(cmd)", "${1BAD}", "${SET"):
        with pytest.raises(ValueError):
            interpolate(text, env)


# --- validity ----------------------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_spec(raw, compose, schema_validator):
    assert schema_errors(schema_validator, raw) == []
    assert schema_errors(schema_validator, compose) == []


def test_schema_validation_catches_mistakes(compose, schema_validator):
    """The validator is not a rubber stamp: typical mistakes fail it."""
    broken = copy.deepcopy(compose)
    broken["services"]["airflow-scheduler"]["helthcheck"] = broken["services"]["airflow-scheduler"].pop("healthcheck")
    assert schema_errors(schema_validator, broken)
    broken = copy.deepcopy(compose)
    broken["services"]["airflow-scheduler"]["depends_on"]["postgres"]["condition"] = "service_ready"
    assert schema_errors(schema_validator, broken)
    broken = copy.deepcopy(compose)
    broken["services"]["postgres"]["environment"] = "POSTGRES_PASSWORD"
    assert schema_errors(schema_validator, broken)


def test_check_jsonschema_cli_accepts_the_compose_file():
    """The same check as a pre-commit hook or a shell would run it."""
    cli = Path(sys.executable).with_name("check-jsonschema")
    result = subprocess.run(
        [str(cli), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- the services and what the pipeline needs from them ---------------------------------------------


def test_services_and_profiles(compose):
    services = compose["services"]
    assert set(services) == {*DATABASES, *AIRFLOW_SERVICES, "redis"}
    for name, service in services.items():
        expected = ["celery"] if name in CELERY_ONLY else None
        assert service.get("profiles") == expected, name


def test_airflow_services_run_their_component_from_the_project_image(compose):
    services = compose["services"]
    for name, command in AIRFLOW_COMMANDS.items():
        assert services[name]["command"] == command, name
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["build"] == {"context": ".", "dockerfile": "Dockerfile"}, name
        assert service["image"] == "elgoose-airflow:3.3.2", name
        assert service["user"] == ("0:0" if name == "airflow-init" else "50000:0"), name


def test_init_migrates_the_metadata_database_and_sets_the_admin_password(raw, compose):
    init = compose["services"]["airflow-init"]
    script = init["command"][-1]
    assert init["entrypoint"] == "/bin/bash"
    assert script.rstrip().endswith("exec /entrypoint airflow db migrate")
    assert "set -euo pipefail" in script
    assert "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script and "AIRFLOW_ADMIN_PASSWORD" in script
    assert init["environment"]["AIRFLOW_ADMIN_USER"] == "admin"
    # The image's entrypoint acts on any non-empty value of these; user creation needs FAB.
    assert not {"_AIRFLOW_DB_MIGRATE", "_AIRFLOW_WWW_USER_CREATE"} & set(init["environment"])
    assert raw["services"]["airflow-init"]["environment"]["AIRFLOW_ADMIN_PASSWORD"].startswith(
        "${AIRFLOW_ADMIN_PASSWORD:?"
    )
    # The admin password goes to airflow-init only, not to every long-running component.
    for name in set(AIRFLOW_SERVICES) - {"airflow-init"}:
        assert "AIRFLOW_ADMIN_PASSWORD" not in compose["services"][name]["environment"], name


def test_every_airflow_service_mounts_the_code_but_not_the_fake_server(compose):
    for name in AIRFLOW_SERVICES:
        mounts = {}
        for volume in compose["services"][name]["volumes"]:
            source, target, *options = volume.split(":")
            mounts[source] = (target, options)
        for source, target in MOUNTS.items():
            assert mounts.get(source) == (target, ["ro"]), f"{name} must mount {source} read-only at {target}"
        assert mounts.get("./logs", ("",))[0] == "/opt/airflow/logs", name
        assert not [s for s in mounts if re.search(r"fake_elgoose|tests|\.env|\.local|\.venv", s)], name
    for name in (*DATABASES, "redis"):
        assert not any(v.startswith("./") for v in compose["services"][name].get("volumes", [])), name


def test_common_environment(raw, compose, env):
    common = raw["x-airflow-common"]["environment"]
    assert common["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert common["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"
    assert common["AIRFLOW__API_AUTH__JWT_SECRET"].startswith("${AIRFLOW_JWT_SECRET:?")
    assert (
        common["AIRFLOW__CORE__AUTH_MANAGER"]
        == "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
    )
    assert common["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "${AIRFLOW_ADMIN_USER:-admin}:admin"
    assert common["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"].startswith("/opt/airflow/auth/")
    for name in AIRFLOW_SERVICES:
        service_env = compose["services"][name]["environment"]
        for key, value in interpolate_document(common, env).items():
            assert service_env[key] == value, f"{name} lacks the common {key}"
        assert service_env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert service_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"


def test_connections_point_at_the_api_and_the_warehouse_service(compose):
    services = compose["services"]
    common = compose["x-airflow-common"]["environment"]
    assert json.loads(common["AIRFLOW_CONN_ELGOOSE_API"]) == API_CONNECTION

    def check_uri(uri: str, scheme: str, database_service: str) -> None:
        parts = urlsplit(uri)
        db_env = services[database_service]["environment"]
        assert parts.scheme == scheme
        assert (parts.hostname, parts.port) == (database_service, 5432)
        assert parts.username == db_env["POSTGRES_USER"]
        assert parts.password == db_env["POSTGRES_PASSWORD"] == DUMMY_SECRET
        assert parts.path == "/" + db_env["POSTGRES_DB"]

    check_uri(common["AIRFLOW_CONN_ELGOOSE_WAREHOUSE"], "postgresql", "warehouse-postgres")
    check_uri(common["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], "postgresql+psycopg2", "postgres")
    check_uri(common["AIRFLOW__CELERY__RESULT_BACKEND"], "db+postgresql", "postgres")
    assert services["warehouse-postgres"]["volumes"] != services["postgres"]["volumes"]
    assert set(compose["volumes"]) >= {"postgres-db-volume", "warehouse-db-volume"}


def test_pipeline_settings_are_passed_with_the_codes_defaults(compose):
    probe = (
        "import json; from elgoose.settings import get_settings; s = get_settings();"
        "print(json.dumps([s.user_agent, str(s.artist_id), str(s.bustout_min_gap), s.chatbot_role, '']))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ELGOOSE_")}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=clean, timeout=60)
    assert result.returncode == 0, result.stderr
    defaults = dict(zip(ELGOOSE_SETTINGS, json.loads(result.stdout), strict=True))
    common = compose["x-airflow-common"]["environment"]
    for name, default in defaults.items():
        assert common[name] == default, name
    # An empty ELGOOSE_CHATBOT_ROLE in .env means "grant nothing": it must not fall back to the default.
    assert interpolate("${ELGOOSE_CHATBOT_ROLE-elgoose_chatbot}", {"ELGOOSE_CHATBOT_ROLE": ""}) == ""
    assert "${ELGOOSE_CHATBOT_ROLE-elgoose_chatbot}" in COMPOSE_FILE.read_text()


def test_healthchecks_and_depends_on_conditions(compose):
    services = compose["services"]
    for name in (*DATABASES, "redis", *set(AIRFLOW_COMMANDS)):
        test = services[name].get("healthcheck", {}).get("test")
        assert test and test[0] in ("CMD", "CMD-SHELL"), f"{name} has no healthcheck"
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert "pg_isready" in services["warehouse-postgres"]["healthcheck"]["test"][1]
    assert services["airflow-apiserver"]["healthcheck"]["test"][-1] == "http://localhost:8080/api/v2/version"
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert isinstance(rule, dict) and "condition" in rule, f"{name} -> {dependency} has no condition"
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency}'s health"
            # A default-profile service may depend on a profiled one only optionally.
            if services[dependency].get("profiles") and not service.get("profiles"):
                assert rule.get("required") is False, f"{name} requires {dependency} from another profile"
    for name in AIRFLOW_SERVICES:
        deps = services[name]["depends_on"]
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["warehouse-postgres"]["condition"] == "service_healthy", name
        if name != "airflow-init":
            assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
    for name in ("airflow-scheduler", "airflow-triggerer", "airflow-worker"):
        assert services[name]["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy", name


def test_celery_profile(raw, env):
    compose = interpolate_document(raw, {**env, "AIRFLOW_EXECUTOR": "CeleryExecutor"})
    services = compose["services"]
    worker = services["airflow-worker"]
    assert worker["command"] == "celery worker"
    assert worker["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert worker["environment"]["DUMB_INIT_SETSID"] == "0"
    assert "celery" in worker["healthcheck"]["test"][-1] and "inspect ping" in worker["healthcheck"]["test"][-1]
    assert urlsplit(worker["environment"]["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
    # N workers, each its own container: a hostname of its own that the api-server reaches for live logs.
    assert raw["services"]["airflow-worker"]["deploy"]["replicas"] == "${AIRFLOW_CELERY_WORKERS:-2}"
    assert int(worker["deploy"]["replicas"]) == 2
    three = interpolate_document(raw, {**env, "AIRFLOW_CELERY_WORKERS": "3"})["services"]["airflow-worker"]
    assert int(three["deploy"]["replicas"]) == 3
    assert "container_name" not in worker and "hostname" not in worker, "replicas need names of their own"
    assert worker["environment"]["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == "airflow.utils.net.get_host_ip_address"
    assert worker["environment"]["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "8793"
    assert "8793" in worker["expose"]
    # A lost worker's task is noticed within the heartbeat timeout (Airflow's default: 300 s).
    assert int(worker["environment"]["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"]) <= 60
    assert services["redis"]["image"].startswith("redis:")
    for name in AIRFLOW_SERVICES:
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy", "required": False}, name
    assert (
        "--profile celery" in COMPOSE_FILE.read_text() and "AIRFLOW_EXECUTOR=CeleryExecutor" in ENV_EXAMPLE.read_text()
    )


def test_ports_are_published_on_localhost_only_by_default(raw, compose):
    services = compose["services"]
    assert raw["services"]["warehouse-postgres"]["ports"] == ["127.0.0.1:${WAREHOUSE_PORT:-5433}:5432"]
    assert services["airflow-apiserver"]["ports"] == ["127.0.0.1:8080:8080"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"warehouse-postgres", "airflow-apiserver"}


def test_no_literal_secrets(raw):
    """Every password-like value is a ${...} reference, and a secret has no non-empty default."""
    whole_reference = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}")
    checked = 0

    def environments(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "environment":
                    yield value
                else:
                    yield from environments(value)

    for environment in environments(raw):
        for key, value in environment.items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                checked += 1
                assert whole_reference.fullmatch(str(value)), f"{key}: {value!r} is not a ${{...}} reference"
    assert checked >= 8
    for text in strings(raw):
        masked = _REFERENCE.sub("<ref>", text.replace("$$", ""))  # each ${...} becomes <ref>
        for credentials in re.findall(r"://[^/@\s]*:([^/@\s]*)@", masked):
            assert credentials == "<ref>", f"literal password in {text!r}"
    for name, uses in references(raw).items():
        if SECRET_NAME.search(name):
            for operator, argument in uses:
                assert operator in (":?", "?") or argument == "", f"${{{name}}} has a default secret"


def test_env_example_defines_what_the_compose_file_uses(raw, env_example):
    values, documented = env_example
    used = references(raw)
    required = {name for name, uses in used.items() if any(op in (":?", "?") for op, _ in uses)}
    assert required == {
        "AIRFLOW_DB_PASSWORD",
        "WAREHOUSE_PASSWORD",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET_KEY",
        "AIRFLOW_ADMIN_PASSWORD",
    }
    for name in required:
        assert name in values, f".env.example must define {name}"
        assert values[name] == "", f".env.example must not commit a value for the secret {name}"
    undocumented = set(used) - set(values) - documented
    assert not undocumented, f"document these in .env.example: {sorted(undocumented)}"
    assert "COMPOSE_PROFILES" in documented
    unused = set(values) - set(used)
    assert not unused, f".env.example sets variables the compose file does not use: {sorted(unused)}"
    assert re.search(r"^\.env$", (ROOT / ".gitignore").read_text(), re.MULTILINE), ".env must be git-ignored"


def test_compose_refuses_to_start_without_its_secrets(raw, env):
    for name in ("AIRFLOW_JWT_SECRET", "WAREHOUSE_PASSWORD"):
        with pytest.raises(MissingVariable, match=f"{name}: set {name} in .env"):
            interpolate_document(raw, {**env, name: ""})


# --- the image ---------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_installs_the_pinned_requirements_then_the_project():
    instructions = dockerfile_instructions()
    assert instructions[0] == ("FROM", AIRFLOW_IMAGE)
    pin = re.search(r"^apache-airflow==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert pin and AIRFLOW_IMAGE.split(":")[1].startswith(pin.group(1) + "-"), "FROM and requirements.txt differ"
    copies = [args.split()[1:] for op, args in instructions if op in ("COPY", "ADD")]
    assert [op for op, _ in instructions if op == "ADD"] == []
    assert copies[0][:-1] == ["requirements.txt", "constraints.txt"], copies
    # the project goes where docker-compose.yaml mounts elgoose/, dags/, plugins/ and include/: /opt/airflow
    copied = {source: target for source, target in (c for c in copies[1:])}
    assert copied == {
        "pyproject.toml": "/opt/airflow/",
        **{
            name: f"/opt/airflow/{name}"
            for name in ("elgoose", "dags", "plugins", "include", "fake_elgoose", "elgoose_local")
        },
    }
    runs = [args for op, args in instructions if op == "RUN"]
    assert len(runs) == 2
    assert re.search(r"pip install --no-cache-dir .*-r \S*requirements\.txt -c \S*constraints\.txt", runs[0])
    assert re.search(r"pip install --no-cache-dir --no-deps .*-e /opt/airflow$", runs[1]), "deps: the lock only"
    run_index = next(i for i, (op, _) in enumerate(instructions) if op == "RUN")
    users = [args for op, args in instructions[:run_index] if op == "USER"]
    assert users and users[-1] == "airflow", "pip must run as the airflow user"


def dockerignored(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes."""
    ignored = False
    for line in DOCKERIGNORE.read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            ignored = not negate
    return ignored


def test_dockerignore_keeps_the_build_context_to_the_requirements_and_the_packages():
    for path in (
        "requirements.txt",
        "constraints.txt",
        "pyproject.toml",
        "elgoose/steps.py",
        "plugins/elgoose_warehouse.py",
        "dags/x.py",
    ):
        assert not dockerignored(path), path
    for path in (
        ".venv/bin/python",
        ".local/warehouse-pgdata/PG_VERSION",
        ".env",
        "logs/scheduler.log",
        "test-output/report.xml",
        ".pytest_cache/v/cache",
        "bench/data/x.json",
        ".git/HEAD",
        "tests/test_compose.py",
        "bench/run.py",
        "elgoose/__pycache__/steps.cpython-311.pyc",
    ):
        assert dockerignored(path), path
