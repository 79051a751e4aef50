"""docker-compose.yml, the Dockerfile, the Makefile, the README and the settings agree.

No Docker engine runs here, so these read the files and check what they say.
"""

import re
from urllib.parse import urlsplit

import pytest
import yaml

from tests.subprocesses import ROOT, SETTINGS_VARIABLES, child_env, manage

APP_SERVICES = {"migrate", "web", "worker", "beat"}
LONG_RUNNING = {"db", "redis", "mail", "web", "worker", "beat"}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def interpolate(value: str, given: dict[str, str]) -> str:
    """Resolve compose's ${NAME}, ${NAME:-default} and ${NAME:?error} as compose would."""

    def one(match):
        name, op, rest = match.group(1), match.group(2), match.group(3)
        if name in given:
            return given[name]
        if op == ":-":
            return rest
        raise AssertionError(f"${{{name}}} must be given: {rest}")

    value = re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)
    return value.replace("$$", "$")


def command_text(service) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def settings_read() -> set[str]:
    source = (ROOT / "config" / "settings.py").read_text()
    return set(re.findall(r"_(?:str|bool|int|list|url)\(\s*\"([A-Z_]+)\"", source))


def readme_variables() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    return set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.MULTILINE))


def test_every_variable_the_settings_read_is_documented_and_known_to_the_tests():
    assert settings_read() == SETTINGS_VARIABLES
    assert readme_variables() == SETTINGS_VARIABLES


def test_the_stack_has_every_service_with_health_checks(compose):
    services = compose["services"]
    assert set(services) == {"db", "redis", "mail", *APP_SERVICES}
    for name in LONG_RUNNING:
        assert "healthcheck" in services[name], name
    assert set(compose["volumes"]) == {"postgres-data", "redis-data", "media-data"}
    # Receipts survive a new web container.
    assert "media-data:/app/media" in compose["services"]["web"]["volumes"]


def test_web_worker_and_beat_run_one_image_with_one_environment(compose):
    services = compose["services"]
    environments = [services[name]["environment"] for name in APP_SERVICES]
    assert all(env == environments[0] for env in environments)
    assert all(services[name]["build"] == "." for name in APP_SERVICES)
    assert len({services[name]["image"] for name in APP_SERVICES}) == 1


def test_app_environment_uses_only_variables_the_settings_read(compose):
    environment = compose["services"]["web"]["environment"]
    assert set(environment) <= SETTINGS_VARIABLES
    for required in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "DATABASE_URL"):
        assert required in environment
    assert environment["DEBUG"] == "false"


def test_services_point_at_each_other(compose):
    env = {
        k: interpolate(str(v), {"SECRET_KEY": "x"})
        for k, v in compose["x-app"]["environment"].items()
    }
    assert urlsplit(env["DATABASE_URL"]).hostname == "db"
    assert urlsplit(env["REDIS_URL"]).hostname == "redis"
    assert urlsplit(env["EMAIL_URL"]).hostname == "mail"
    db = compose["services"]["db"]["environment"]
    assert urlsplit(env["DATABASE_URL"]).path == "/" + db["POSTGRES_DB"]
    assert urlsplit(env["DATABASE_URL"]).username == db["POSTGRES_USER"]


def test_commands_match_the_makefile_and_the_image(compose):
    services = compose["services"]
    makefile = (ROOT / "Makefile").read_text()
    assert "gunicorn config.wsgi" in command_text(services["web"])
    assert "manage.py migrate" in command_text(services["migrate"])
    for process in ("worker", "beat"):
        command = command_text(services[process])
        assert command.startswith(f"celery -A config {process}")
        assert f"$(BIN)/celery -A config {process}" in makefile
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("# ") and "FROM python:3.11" in dockerfile
    assert "collectstatic" in dockerfile and "USER convene" in dockerfile
    assert "gunicorn config.wsgi" in dockerfile


def test_the_makefile_offers_the_documented_commands():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "lint", "worker", "beat", "demo", "bench-notify"):
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE), target
    procfile = (ROOT / "Procfile").read_text()
    assert {line.split(":")[0] for line in procfile.splitlines() if line} == {
        "web",
        "worker",
        "beat",
    }


def test_the_compose_environment_passes_the_deployment_checklist(compose):
    given = {"SECRET_KEY": "k9#Vw2!pR7qLm4$Tz8xYb1@Nc6^Hd3&Fg5*Js0(Ae)Uo-Wi_Qr=Xt+Ey%Ps~Lj"}
    env = {k: interpolate(str(v), given) for k, v in compose["x-app"]["environment"].items()}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=child_env(**env))
    assert result.returncode == 0, result.stdout + result.stderr
