"""Browser test: CommHub as a user sees it, in a real Home Assistant.

    python scripts/lib/browser_test.py [--only ui|next]

1. UI (Home Assistant of .venv, headless Debian chromium through Playwright):
   each of the four services is added through Settings -> Devices & services
   -> Add integration, one wrong credential first; then an options form, a
   reconfigure dialog, an action from Developer tools with its response and
   a notify entity.  Screenshots go to artifacts/browser/.
2. Newest release (.venv-next, see scripts/browser-test): entries for all
   four services through the config flow REST API; all must load, and the
   log must hold no warning or error caused by CommHub.

COMMHUB_BROWSER_INTEGRATION=DIR loads the integration from DIR instead of
custom_components/commhub (a copy with a string removed, to see it fail).
"""

import argparse
import asyncio
from dataclasses import dataclass, field
import json
from pathlib import Path
import re
import shutil
import sys
import time
from typing import Any

from playwright.async_api import (
    ElementHandle,
    Error as PlaywrightError,
    Locator,
    Page,
    async_playwright,
)

sys.path.insert(0, str(Path(__file__).parent))
from browser_stack import (
    ROOT,
    Stack,
    StackError,
    integration_dir,
    keep_going,
    say,
)

ARTIFACTS = ROOT / "artifacts/browser"
CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 20_000

# Every text node of the page, shadow roots included (Home Assistant's UI
# lives in them), one per line.
DEEP_TEXT = """() => {
  const out = [];
  const walk = (n) => {
    if (n.nodeType === 3) { const t = n.textContent.trim(); if (t) out.push(t); return; }
    if (n.nodeType !== 1 && n.nodeType !== 11) return;
    if (n.tagName === 'STYLE' || n.tagName === 'SCRIPT') return;
    if (n.shadowRoot) walk(n.shadowRoot);
    for (const c of n.childNodes) walk(c);
  };
  walk(document.body);
  return out.join('\\n');
}"""
# The fields of the open form: {"path": "advanced.base_url", "label": ...}.
FORM_FIELDS = """() => {
  const out = [];
  const walk = (n, prefix) => {
    if (n.nodeType !== 1 && n.nodeType !== 11) return;
    let inner = prefix;
    if (n.nodeType === 1 && n.tagName !== 'HA-FORM' && n.schema && n.schema.name) {
      out.push({path: prefix + n.schema.name, label: n.label || ''});
      if (n.tagName === 'HA-FORM-EXPANDABLE') inner = prefix + n.schema.name + '.';
    }
    if (n.shadowRoot) walk(n.shadowRoot, inner);
    for (const c of n.children || []) walk(c, inner);
  };
  walk(document.body, '');
  return out;
}"""
# The element that renders the field named by the argument.
FIELD_HOST = """(name) => {
  const find = (n) => {
    if (n.nodeType !== 1 && n.nodeType !== 11) return null;
    if (n.nodeType === 1 && n.tagName !== 'HA-FORM' && n.schema && n.schema.name === name) return n;
    for (const c of [n.shadowRoot, ...(n.children || [])]) {
      const hit = c && find(c);
      if (hit) return hit;
    }
    return null;
  };
  return find(document.body);
}"""


class CheckFailed(Exception):
    """An assertion on what the user sees failed."""


@dataclass
class Form:
    """One form step: the fields the contract names, what to type, what to
    type first to see an error (field -> (value, error key))."""

    step: str
    fields: list[str]
    values: dict[str, str]
    wrong: dict[str, str] = field(default_factory=dict)
    error: str = "invalid_auth"
    lists: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Service:
    """How a user adds one service: menu picks, then forms; the texts of the
    last step (create_entry key) and what it must show."""

    key: str
    menus: list[tuple[str, str]]
    forms: list[Form]
    done: str
    done_shows: str


def services(sandbox: str, external: str) -> list[Service]:
    """The four services as the contract's config flow table has them."""
    hook = f"{external}/api/webhook/"
    return [
        Service(
            "hipcall",
            [("user", "hipcall")],
            [
                Form(
                    "hipcall",
                    ["api_token", "advanced", "advanced.base_url"],
                    {
                        "api_token": "hipcall-sandbox-token",
                        "advanced.base_url": f"{sandbox}/hipcall/api/v3",
                    },
                    {"api_token": "not-the-token"},
                )
            ],
            "hipcall",
            hook,
        ),
        Service(
            "ip1",
            [("user", "ip1")],
            [
                Form(
                    "ip1",
                    ["api_key", "participants", "advanced", "advanced.base_url"],
                    {
                        "api_key": "ip1-sandbox-key",
                        "advanced.base_url": f"{sandbox}/ip1",
                    },
                    {"api_key": "not-the-key"},
                    lists={"participants": ["46701234567"]},
                )
            ],
            "ip1",
            hook,
        ),
        Service(
            "mobiniti",
            [("user", "mobiniti"), ("mobiniti", "mobiniti_token")],
            [
                Form(
                    "mobiniti_token",
                    ["access_token", "advanced", "advanced.base_url"],
                    {
                        "access_token": "mobiniti-sandbox-token",
                        "advanced.base_url": f"{sandbox}/mobiniti",
                    },
                    {"access_token": "not-the-token"},
                )
            ],
            "mobiniti",
            hook,
        ),
        Service(
            "hipmob",
            [("user", "hipmob")],
            [
                Form(
                    "hipmob",
                    ["account", "api_key", "advanced", "advanced.base_url"],
                    {
                        "account": "femi",
                        "api_key": "hipmob-sandbox-key",
                        "advanced.base_url": f"{sandbox}/hipmob",
                    },
                    {"api_key": "not-the-key"},
                ),
                Form("hipmob_app", ["app", "devices", "users"], {}),
            ],
            "",
            "",
        ),
    ]


class Strings:
    """The English texts of the integration Home Assistant loads."""

    def __init__(self, folder: Path) -> None:
        """Read folder/translations/en.json."""
        path = folder / "translations/en.json"
        self.data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))

    def get(self, *keys: str) -> str:
        """The text at keys, or "" when missing (the check then fails)."""
        node: Any = self.data
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        return node if isinstance(node, str) else ""


class Browser:
    """A logged-in page and the checks on it."""

    def __init__(self, page: Page, strings: Strings) -> None:
        """page is logged in as dev."""
        self.page = page
        self.strings = strings
        self.shots: list[Path] = []

    def input(self, path: str) -> Locator:
        """The text inputs of the field at path (e.g. advanced.base_url)."""
        name = path.rsplit(".", 1)[-1]
        return self.page.locator(f'input[name="{name}"], textarea[name="{name}"]')

    async def list_inputs(self, path: str) -> list[ElementHandle]:
        """The inputs of a list field (they carry no name of their own)."""
        host = await self.page.evaluate_handle(FIELD_HOST, path)
        element = host.as_element()
        if element is None:
            raise CheckFailed(f"field {path!r} is not in the form")
        return await element.query_selector_all("input")

    async def text(self) -> str:
        """Everything on screen, shadow roots included."""
        result: str = await self.page.evaluate(DEEP_TEXT)
        return result

    async def shot(self, name: str) -> None:
        """Save a screenshot in the artifacts folder."""
        path = ARTIFACTS / f"{name}.png"
        await self.page.screenshot(path=path)
        self.shots.append(path)

    async def expect_text(self, *wanted: str, what: str) -> str:
        """Wait until every wanted text is on screen; no raw key either."""
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while True:
            screen = await self.text()
            missing = [w for w in wanted if not w or w not in screen]
            if not missing:
                break
            if time.monotonic() > deadline:
                shown = [w for w in wanted if w] or ["(its text is missing)"]
                raise CheckFailed(f"{what}: not on screen: {missing or shown}")
            await self.page.wait_for_timeout(250)
        no_raw_keys(screen, what)
        return screen

    async def fields(self) -> dict[str, str]:
        """The open form's fields: path -> label."""
        rows: list[dict[str, str]] = await self.page.evaluate(FORM_FIELDS)
        return {row["path"]: row["label"] for row in rows}


def no_raw_keys(screen: str, what: str) -> None:
    """Fail when a translation key is shown instead of its text."""
    raw = sorted(set(re.findall(r"component\.commhub[\w.]*", screen)))
    if raw:
        raise CheckFailed(f"{what}: raw translation keys on screen: {raw}")


async def log_in(page: Page, url: str) -> None:
    """Sign in through Home Assistant's login page."""
    await page.goto(f"{url}/config/integrations/dashboard")
    await page.get_by_role("textbox", name="Username").fill("dev")
    await page.get_by_role("textbox", name="Password").fill("dev")
    await page.get_by_role("button", name="Log in").click()
    await page.get_by_role("button", name="Add integration").wait_for()


async def check_form(b: Browser, form: Form, what: str) -> dict[str, str]:
    """The form's title and every field the contract names, translated."""
    title = b.strings.get("config", "step", form.step, "title")
    await b.expect_text(title, what=f"{what}: step title")
    deadline = time.monotonic() + 5
    while True:
        labels = await b.fields()
        if set(form.fields) <= labels.keys() or time.monotonic() > deadline:
            break
        await b.page.wait_for_timeout(250)
    for path in form.fields:
        label = labels.get(path)
        if label is None:
            raise CheckFailed(
                f"{what}: field {path!r} is not in the form (it has {sorted(labels)})"
            )
        if not label or label == path.rsplit(".", 1)[-1]:
            raise CheckFailed(f"{what}: field {path!r} has no translated label")
    say(f"  ok  {what}: title {title!r}, fields {', '.join(form.fields)}")
    return labels


async def fill(b: Browser, labels: dict[str, str], values: dict[str, str]) -> None:
    """Type the values into the fields, opening a section first when needed."""
    for path, value in values.items():
        if "." in path:
            section = labels[path.split(".")[0]]
            box = b.input(path)
            if not await box.is_visible():
                await b.page.get_by_text(section, exact=True).click()
        else:
            box = b.input(path)
        await box.fill(value)


async def submit(b: Browser) -> None:
    """Press the dialog's Submit button."""
    await b.page.get_by_role("button", name="Submit").click()


async def add_service(b: Browser, url: str, service: Service) -> None:
    """Walk one service's config flow in the UI, one wrong credential first."""
    what = f"add {service.key}"
    page = b.page
    await page.goto(f"{url}/config/integrations/dashboard")
    await page.get_by_role("button", name="Add integration").click()
    # The search field has the focus once the dialog is open.
    await page.get_by_role("dialog").wait_for()
    await page.wait_for_timeout(500)
    await page.keyboard.type("CommHub")
    await page.get_by_text("CommHub", exact=True).last.click()
    for step, option in service.menus:
        title = b.strings.get("config", "step", step, "title")
        label = b.strings.get("config", "step", step, "menu_options", option)
        await b.expect_text(title, label, what=f"{what}: menu {step!r}")
        await page.get_by_text(label, exact=True).click()
        say(f"  ok  {what}: menu {step!r} -> {label!r}")
    for form in service.forms:
        labels = await check_form(b, form, f"{what}: step {form.step!r}")
        for path, values in form.lists.items():
            for value in values:
                await page.get_by_role("button", name=f"Add {labels[path]}").click()
                await (await b.list_inputs(path))[-1].fill(value)
        if form.wrong:
            await fill(b, labels, {**form.values, **form.wrong})
            await submit(b)
            error = b.strings.get("config", "error", form.error)
            await b.expect_text(error, what=f"{what}: wrong credential")
            await b.shot(f"{service.key}-{form.step}-error")
            say(f"  ok  {what}: a wrong credential shows {error!r}")
        await fill(b, labels, form.values)
        await b.shot(f"{service.key}-{form.step}")
        await submit(b)
    wanted = [service.done_shows] if service.done_shows else []
    first_line = "(Home Assistant's own text)"
    if service.done:
        done = b.strings.get("config", "create_entry", service.done)
        # Its first line (the rest is markdown: lists, links).
        first_line = done.split("{", 1)[0].split("\n", 1)[0].strip()
        wanted.append(first_line)
    await page.get_by_role("button", name="Finish").wait_for()
    screen = await b.expect_text(*wanted, what=f"{what}: last step")
    if re.search(r"\{\w+\}", screen):
        raise CheckFailed(f"{what}: last step shows an unfilled placeholder")
    await b.shot(f"{service.key}-done")
    shows = f", shows {service.done_shows}…" if service.done_shows else ""
    say(f"  ok  {what}: last step {first_line[:40]!r}…{shows}")
    await page.get_by_role("button", name="Finish").click()


async def run_ui(python: Path) -> None:
    """Step 1: the UI walk."""
    stack = Stack("ui", python, ARTIFACTS, frontend=True)
    try:
        t0 = time.monotonic()
        await stack.start()
        say(f"Home Assistant (.venv) up on {stack.url} in {time.monotonic() - t0:.0f}s")
        strings = Strings(integration_dir())
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM)
            # Home Assistant's service worker reloads the page when a flow starts.
            context = await browser.new_context(
                service_workers="block", viewport={"width": 1280, "height": 900}
            )
            context.set_default_timeout(TIMEOUT_MS)
            page = await context.new_page()
            b = Browser(page, strings)
            try:
                await log_in(page, stack.url)
                for service in services(stack.sandbox, stack.url):
                    await add_service(b, stack.url, service)
            except Exception:
                await b.shot("failure")
                raise
            finally:
                await browser.close()
        say(f"screenshots: {ARTIFACTS}/")
    finally:
        stack.stop()


# A log record: "2026-11-05 10:00:00.123 WARNING (MainThread) [logger] text".
RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+\S* (\w+) ")
# Python's warnings module: "/path/file.py:12: DeprecationWarning: text".
PY_WARNING = re.compile(r"^\S+\.py:\d+: \w*Warning: ")
# Home Assistant says this of every custom integration.
UNTESTED = "which has not been tested by Home Assistant"
# CommHub's modules, or its domain as a word (a checkout at .../commhub/ is not).
MENTIONS_COMMHUB = re.compile(
    r"custom_components[./]commhub|(?<![\w/.-])commhub(?![\w/-])"
)


def commhub_problems(log: str) -> list[str]:
    """Records at WARNING or above (or Python warnings) that mention CommHub."""
    records: list[tuple[str, list[str]]] = []
    for line in log.splitlines():
        if match := RECORD.match(line):
            records.append((match.group(1), [line]))
        elif PY_WARNING.match(line):
            records.append(("WARNING", [line]))
        elif records:
            records[-1][1].append(line)
    return [
        "\n".join(lines)
        for level, lines in records
        if level in {"WARNING", "ERROR", "CRITICAL"}
        and MENTIONS_COMMHUB.search("\n".join(lines).lower())
        and UNTESTED not in lines[0]
    ]


async def run_next(python: Path) -> None:
    """Step 2: the newest Home Assistant release loads every entry cleanly."""
    stack = Stack("next", python, ARTIFACTS, frontend=True)
    try:
        t0 = time.monotonic()
        await stack.start()
        version = (await stack.rest("GET", "/api/config"))["version"]
        say(f"Home Assistant {version} (.venv-next) up in {time.monotonic() - t0:.0f}s")
        failed = await stack.create_develop_entries()
        if failed:
            raise CheckFailed(f"HA {version}: could not create {failed}")
        # A few polls and the webhook deliveries the sandbox makes.
        await asyncio.sleep(15)
        entries = await stack.rest("GET", "/api/config/config_entries/entry")
        ours = [e for e in entries if e["domain"] == "commhub"]
        states = {e["title"]: e["state"] for e in ours}
        if len(ours) < 4 or any(state != "loaded" for state in states.values()):
            raise CheckFailed(f"HA {version}: entries not all loaded: {states}")
        say(f"  ok  HA {version}: {len(ours)} entries loaded: {', '.join(states)}")
    finally:
        stack.stop()
    problems = commhub_problems(
        stack.output.read_text(encoding="utf-8", errors="replace")
    )
    if problems:
        shown = "\n".join(problems[:5])
        raise CheckFailed(
            f"HA {version}: CommHub in the log ({stack.output}):\n{shown}"
        )
    say(f"  ok  HA {version}: no warning, error or deprecation from CommHub in the log")


def main() -> int:
    """Run the steps; the exit status says whether all passed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python", type=Path, default=ROOT / ".venv/bin/python")
    parser.add_argument(
        "--next-python", type=Path, default=ROOT / ".venv-next/bin/python"
    )
    parser.add_argument("--only", choices=["ui", "next"])
    args = parser.parse_args()
    # Only this run's screenshots and logs.
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    try:
        if args.only != "next":
            asyncio.run(run_ui(args.python))
        if args.only != "ui":
            asyncio.run(run_next(args.next_python))
    except (CheckFailed, StackError, PlaywrightError) as err:
        say(f"FAILED: {err}")
        return 1
    say("passed")
    return 0


if __name__ == "__main__":
    with keep_going():
        sys.exit(main())
