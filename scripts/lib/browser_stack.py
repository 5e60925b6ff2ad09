"""Throwaway Home Assistant + sandbox instances for scripts/browser-test.

Each Stack gets its own temporary config dir and free ports, so it never
clashes with a running scripts/develop; everything it started is stopped on
exit and Home Assistant's output is kept in the artifacts folder.
"""

import asyncio
from collections.abc import Iterator
import contextlib
import os
from pathlib import Path
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))
import develop_bootstrap as bootstrap

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "scripts/lib/configuration.yaml"
# The develop_entries.toml sandbox ports this runner maps to free ones.
DEVELOP_PORTS = (8500, 8501)
START_TIMEOUT = 300  # seconds; a first start on an empty config dir


class StackError(Exception):
    """Something the stack needs did not come up; the message says what."""


def say(message: str) -> None:
    """One progress line of the browser test."""
    print(f"browser-test: {message}", flush=True)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def integration_dir() -> Path:
    """The integration Home Assistant loads: the work tree's, or the folder
    COMMHUB_BROWSER_INTEGRATION names (a modified copy, to see a test fail)."""
    override = os.environ.get("COMMHUB_BROWSER_INTEGRATION")
    return Path(override).resolve() if override else ROOT / "custom_components/commhub"


class Stack:
    """A sandbox pair and one Home Assistant, in a temporary config dir."""

    def __init__(self, name: str, python: Path, artifacts: Path, frontend: bool):
        """name labels the logs; python is the venv interpreter Home Assistant
        runs with; frontend=False leaves out the UI (a venv without it)."""
        self.name = name
        self.python = python
        self.artifacts = artifacts
        self.frontend = frontend
        self.config = Path(tempfile.mkdtemp(prefix=f"browser-test-{name}-"))
        self.sandbox_ports = [free_port(), free_port()]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.hass: subprocess.Popen[bytes] | None = None
        self.output = artifacts / f"{name}-home-assistant.log"

    @property
    def sandbox(self) -> str:
        """The first sandbox's base URL (all four services live there)."""
        return f"http://127.0.0.1:{self.sandbox_ports[0]}"

    def entries(self) -> list[dict[str, Any]]:
        """develop_entries.toml, pointed at this stack's sandboxes."""
        return bootstrap.load_entries(
            dict(zip(DEVELOP_PORTS, self.sandbox_ports, strict=True))
        )

    def _write_config(self) -> None:
        (self.config / "custom_components").mkdir()
        for sub in ("www", "media"):
            (self.config / sub).mkdir()
        (self.config / "custom_components/commhub").symlink_to(integration_dir())
        # A regular package: Home Assistant 2026.11 rescans custom_components
        # after taking the config dir off sys.path, which empties a namespace
        # package's path.
        (self.config / "custom_components/__init__.py").touch()
        text = TEMPLATE.read_text(encoding="utf-8")
        text = text.replace("@CONFIG@", str(self.config))
        text = text.replace("@EXTERNAL_URL@", self.url)
        if not self.frontend:
            # Without the frontend: only what onboarding and config flows need.
            text = re.sub(
                r"^frontend:\nconfig:\nhistory:\nlogbook:\n",
                "api:\nconfig:\nonboarding:\n",
                text,
                flags=re.MULTILINE,
            )
        (self.config / "configuration.yaml").write_text(text, encoding="utf-8")

    def _spawn(
        self,
        args: list[str],
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
    ) -> subprocess.Popen[bytes]:
        with log.open("wb") as out:
            proc = subprocess.Popen(
                args,
                cwd=cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
        self.procs.append(proc)
        return proc

    async def start(self) -> None:
        """Start the sandboxes and Home Assistant; onboard the user dev/dev."""
        self.artifacts.mkdir(parents=True, exist_ok=True)
        self._write_config()
        for index, port in enumerate(self.sandbox_ports, 1):
            self._spawn(
                [str(ROOT / ".venv/bin/python"), "-m", "sandbox", "--port", str(port)],
                self.artifacts / f"{self.name}-sandbox-{index}.log",
            )
        for port in self.sandbox_ports:
            await self._wait_port(port)
        env_args = [str(self.python), "-m", "homeassistant"]
        self.hass = self._spawn(
            [*env_args, "--config", str(self.config), "--skip-pip"],
            self.output,
            # The default port of a fresh config dir; YAML's http: would be
            # migrated as a change the UI asks to confirm.
            {"SETUP_PORT": str(self.port)},
            # Not the work tree: its custom_components/ would shadow the config's.
            cwd=self.config,
        )
        async with aiohttp.ClientSession() as session:
            await bootstrap.prepare_sandbox(session, self.entries())
            ha = bootstrap.HomeAssistant(session, self.url)
            steps = await self._wait_onboarding(ha)
            await ha.onboard(steps)
            await ha.wait_until_running()
            self.token = ha.token

    async def _wait_port(self, port: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return
            await asyncio.sleep(0.3)
        raise StackError(f"the sandbox on port {port} did not start")

    async def _wait_onboarding(self, ha: bootstrap.HomeAssistant) -> list[Any]:
        """Wait for the onboarding API (a fresh config dir always has it)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.hass is not None and self.hass.poll() is not None:
                raise StackError(f"Home Assistant exited; see {self.output}")
            with contextlib.suppress(aiohttp.ClientError, bootstrap.BootstrapError):
                _, steps = await ha.call("GET", "/api/onboarding")
                return [step for step in steps if not step["done"]]
            await asyncio.sleep(1)
        raise StackError(f"Home Assistant did not answer within {START_TIMEOUT}s")

    async def create_develop_entries(self) -> list[str]:
        """develop_entries.toml's entries through the config flow REST API;
        return the names that failed."""
        async with aiohttp.ClientSession() as session:
            ha = bootstrap.HomeAssistant(session, self.url)
            ha.token = self.token
            return await bootstrap.create_entries(ha, self.config, self.entries())

    async def rest(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call Home Assistant's REST API as dev; return the decoded body."""
        async with aiohttp.ClientSession() as session:
            ha = bootstrap.HomeAssistant(session, self.url)
            ha.token = self.token
            return (await ha.call(method, path, **kwargs))[1]

    async def sandbox_call(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the first sandbox (e.g. its /_control/ interface)."""
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.sandbox + path, **kwargs) as resp,
        ):
            resp.raise_for_status()
            return await resp.json(content_type=None)

    def stop(self) -> None:
        """Stop everything started; keep the logs, drop the config dir."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.config, ignore_errors=True)


@contextlib.contextmanager
def keep_going() -> Iterator[None]:
    """Let Ctrl-C end the run through the normal cleanup."""
    try:
        yield
    except KeyboardInterrupt:
        say("interrupted")
        raise SystemExit(130) from None
