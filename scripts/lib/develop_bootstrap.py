"""Onboard the dev Home Assistant and create the config entries it should have.

scripts/develop runs this while Home Assistant starts:

    python scripts/lib/develop_bootstrap.py --url URL --config DIR [--pid PID]

Everything goes through Home Assistant's public REST API, as the UI would:
the onboarding steps (local user dev/dev), then one config flow per [[entry]]
in develop_entries.toml.  Idempotent: finished onboarding steps and entries
created earlier (remembered in DIR/.commhub-develop.json) are skipped.

Before Home Assistant starts, scripts/develop runs it with --prepare-sandbox:
it then only sends the entries' [[entry.before]] requests to the sandbox.
"""

import argparse
import asyncio
import json
from pathlib import Path
import sys
import time
import tomllib
from typing import Any

import aiohttp

USER = "dev"
PASSWORD = "dev"
ENTRIES_FILE = Path(__file__).with_name("develop_entries.toml")
STATE_FILE = ".commhub-develop.json"
START_TIMEOUT = 600  # seconds; the first start (empty config dir) is the slowest


class BootstrapError(Exception):
    """A step failed; the message says which and why."""


def log(message: str) -> None:
    """Print a progress line that stands out between Home Assistant's logs."""
    print(f"develop: {message}", flush=True)


def process_alive(pid: int) -> bool:
    """Return whether the process runs (an exited, unreaped child counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


class HomeAssistant:
    """A thin client for the REST endpoints this bootstrap needs."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        """Talk to the Home Assistant at url."""
        self.session = session
        self.url = url
        # The description placeholders of the last flow that created an entry.
        self.placeholders: dict[str, str] = {}
        # IndieAuth client id: Home Assistant's own frontend, as the UI uses.
        self.client_id = f"{url}/"
        self.redirect_uri = f"{url}/?auth_callback=1"
        self.token = ""

    async def call(
        self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> tuple[int, Any]:
        """Send a request; return (status, decoded JSON or text)."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(
            method, self.url + path, headers=headers, **kwargs
        ) as resp:
            body: Any = await resp.text()
            if resp.content_type == "application/json":
                body = json.loads(body)
            if resp.status not in ok:
                raise BootstrapError(f"{method} {path} -> HTTP {resp.status}: {body}")
            return resp.status, body

    async def wait_until_up(self, pid: int | None) -> list[dict[str, Any]]:
        """Wait until the frontend answers; return the open onboarding steps."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if pid is not None and not process_alive(pid):
                raise BootstrapError("Home Assistant exited (see its log above)")
            try:
                # The frontend is set up after onboarding (its dependency).
                await self.call("GET", "/manifest.json")
            except aiohttp.ClientError, BootstrapError:
                await asyncio.sleep(2)
                continue
            # Once onboarded, Home Assistant no longer serves this API at all.
            status, steps = await self.call("GET", "/api/onboarding", ok=(200, 404))
            return [step for step in steps if not step["done"]] if status == 200 else []
        raise BootstrapError(f"Home Assistant did not answer within {START_TIMEOUT}s")

    async def log_in(self, user_step_done: bool) -> None:
        """Get an access token for the dev user, creating the user if needed."""
        if not user_step_done:
            _, body = await self.call(
                "POST",
                "/api/onboarding/users",
                json={
                    "client_id": self.client_id,
                    "name": "Dev",
                    "username": USER,
                    "password": PASSWORD,
                    "language": "en",
                },
            )
            log(f"created the owner account {USER} / {PASSWORD}")
            code = body["auth_code"]
        else:
            code = await self._login_flow()
        _, tokens = await self.call(
            "POST",
            "/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
        )
        self.token = tokens["access_token"]

    async def _login_flow(self) -> str:
        """Log in as the existing dev user; return an authorization code."""
        _, flow = await self.call(
            "POST",
            "/auth/login_flow",
            json={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.redirect_uri,
            },
        )
        _, result = await self.call(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            json={"client_id": self.client_id, "username": USER, "password": PASSWORD},
        )
        if result.get("type") != "create_entry":
            raise BootstrapError(
                f"cannot log in as {USER}/{PASSWORD} (was the password changed?): {result}"
            )
        return str(result["result"])

    async def onboard(self, open_steps: list[dict[str, Any]]) -> None:
        """Finish whichever onboarding steps are still open."""
        todo = {step["step"] for step in open_steps}
        await self.log_in(user_step_done="user" not in todo)
        if "core_config" in todo:
            # That step also starts Home Assistant's own onboarding flows;
            # met and radio_browser are not installed (they need internet).
            log("expect errors about 'metno' and 'radios' next: harmless")
        payloads: dict[str, dict[str, str]] = {
            "core_config": {},
            "analytics": {},
            "integration": {
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
            },
        }
        for step, payload in payloads.items():
            if step in todo:
                await self.call("POST", f"/api/onboarding/{step}", json=payload)
        if todo:
            log("onboarding finished")

    async def wait_until_running(self) -> None:
        """Wait for startup to complete, so every integration has been loaded."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            _, config = await self.call("GET", "/api/config")
            if config.get("state") == "RUNNING":
                return
            await asyncio.sleep(2)
        raise BootstrapError("Home Assistant did not finish starting")

    async def run_flow(self, entry: dict[str, Any]) -> str | None:
        """Answer a config flow as described; return the new entry id."""
        handler = entry["handler"]
        status, result = await self.call(
            "POST",
            "/api/config/config_entries/flow",
            ok=(200, 404),
            json={"handler": handler},
        )
        if status == 404:
            raise BootstrapError(
                f"Home Assistant has no config flow for {handler!r}: is "
                f"custom_components/{handler} there and loading? (see the log above)"
            )
        flow_id = result["flow_id"]
        try:
            for step in entry["step"]:
                expect = step.get("expect")
                if result["type"] not in ("form", "menu") or (
                    expect and result["step_id"] != expect
                ):
                    raise BootstrapError(
                        f"expected step {expect or 'a form or menu'!r}, got: {result}"
                    )
                _, result = await self.call(
                    "POST",
                    f"/api/config/config_entries/flow/{flow_id}",
                    json=step["data"],
                )
                if result.get("errors"):
                    raise BootstrapError(
                        f"step {result['step_id']!r} rejected the data: {result['errors']}"
                    )
            if result["type"] == "abort" and result["reason"] == "already_configured":
                return None
            if result["type"] != "create_entry":
                raise BootstrapError(f"the flow did not create an entry: {result}")
        except BootstrapError:
            # Do not leave a half-answered flow behind in Home Assistant.
            await self.call(
                "DELETE", f"/api/config/config_entries/flow/{flow_id}", ok=(200, 404)
            )
            raise
        self.placeholders = result.get("description_placeholders") or {}
        return str(result["result"]["entry_id"])


async def tell_sandbox(
    session: aiohttp.ClientSession, requests: list[dict[str, Any]]
) -> None:
    """Send sandbox control requests in order (e.g. callback URLs); the first
    refused one raises."""
    for request in requests:
        async with session.request(
            request["method"], request["url"], json=request.get("json")
        ) as response:
            if response.status >= 300:
                raise BootstrapError(
                    f"{request['method']} {request['url']}: HTTP {response.status}"
                )


def load_entries(ports: dict[int, int] | None = None) -> list[dict[str, Any]]:
    """The [[entry]] tables of develop_entries.toml; ports maps the sandbox
    ports written there to others (scripts/browser-test runs its own)."""
    text = ENTRIES_FILE.read_text(encoding="utf-8")
    for old, new in (ports or {}).items():
        text = text.replace(f"127.0.0.1:{old}/", f"127.0.0.1:{new}/")
    entries: list[dict[str, Any]] = tomllib.loads(text)["entry"]
    return entries


async def prepare_sandbox(
    session: aiohttp.ClientSession, entries: list[dict[str, Any]] | None = None
) -> list[str]:
    """Send every entry's [[entry.before]] requests; return the entries that failed."""
    failures = []
    for entry in entries if entries is not None else load_entries():
        try:
            await tell_sandbox(session, entry.get("before", []))
        except (BootstrapError, aiohttp.ClientError) as err:
            log(f"{entry['name']}: could not prepare the sandbox: {err}")
            failures.append(entry["name"])
    return failures


async def create_entries(
    ha: HomeAssistant, config_dir: Path, entries: list[dict[str, Any]] | None = None
) -> list[str]:
    """Create the entries of develop_entries.toml not created before."""
    entries = entries if entries is not None else load_entries()
    state_path = config_dir / STATE_FILE
    state: dict[str, Any] = (
        json.loads(state_path.read_text(encoding="utf-8"))
        if state_path.exists()
        else {}
    )
    sandbox_calls: dict[str, list[dict[str, Any]]] = state.setdefault(
        "sandbox_calls", {}
    )
    _, existing = await ha.call("GET", "/api/config/config_entries/entry")
    existing_ids = {item["entry_id"] for item in existing}
    failures = []
    for entry in entries:
        name = entry["name"]
        if state.get(name) in existing_ids:
            log(f"{name}: config entry already there")
            continue
        try:
            entry_id = await ha.run_flow(entry)
        except BootstrapError as err:
            log(f"{name}: FAILED to create the config entry: {err}")
            failures.append(name)
            continue
        if entry_id is None:
            log(
                f"{name}: its account already has an entry (one made by an older "
                "scripts/develop? delete config/ to start from scratch)"
            )
            continue
        log(f"{name}: created config entry {entry_id}")
        state[name] = entry_id
        # The flow's last step shows URLs (webhooks) the sandbox must post to;
        # kept so that a fresh sandbox is told them again on every start.
        sandbox_calls[name] = [
            {
                "method": after["method"],
                "url": after["url"],
                "json": {
                    key: value.format(**ha.placeholders)
                    for key, value in after["json"].items()
                },
            }
            for after in entry.get("after", [])
        ]
        state_path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    for name, requests in sandbox_calls.items():
        try:
            await tell_sandbox(ha.session, requests)
        except (BootstrapError, aiohttp.ClientError) as err:
            log(f"{name}: could not tell the sandbox: {err}")
            failures.append(name)
    return failures


async def main() -> int:
    """Onboard, then create the entries; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--config", type=Path, default=Path("config"))
    parser.add_argument("--pid", type=int, help="stop waiting if this process exits")
    parser.add_argument(
        "--prepare-sandbox",
        action="store_true",
        help="only send the [[entry.before]] requests (before Home Assistant starts)",
    )
    args = parser.parse_args()

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        if args.prepare_sandbox:
            return 1 if await prepare_sandbox(session) else 0
        ha = HomeAssistant(session, args.url.rstrip("/"))
        try:
            open_steps = await ha.wait_until_up(args.pid)
            await ha.onboard(open_steps)
            await ha.wait_until_running()
            failures = await create_entries(ha, args.config)
        except BootstrapError as err:
            log(f"FAILED: {err}")
            return 1
    if failures:
        log(f"could not create: {', '.join(failures)} (Home Assistant keeps running)")
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:  # Ctrl-C in scripts/develop: it cleans up
        sys.exit(130)
