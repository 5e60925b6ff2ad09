"""Browser test: CommHub as a user sees it, in a real Home Assistant.

    python scripts/lib/browser_test.py [--only ui|next]

1. UI (Home Assistant of .venv, headless Debian chromium through Playwright):
   each of the four services is added through Settings -> Devices & services
   -> Add integration, one wrong credential first; then each entry's options
   form (a change that is kept), a reauth (IP1, Hipcall: the sandbox refuses
   the key, the flow is opened from Discovered) or a reconfigure (Mobiniti,
   Hipmob: the entry's menu), commhub.send_message from Developer tools with
   its response, notify.send_message on an IP1 number's notify entity (the
   sandbox receives it), and, with the external URL removed, Mobiniti added
   again: the no-URL last step and the Repairs issue.  Screenshots go to
   artifacts/browser/.
2. Newest release (.venv-next, see scripts/browser-test): entries for all
   four services through the config flow REST API; all must load, and the
   log must hold no warning or error caused by CommHub.

COMMHUB_BROWSER_INTEGRATION=DIR loads the integration from DIR instead of
custom_components/commhub (a copy with a string removed, to see it fail).
"""

import argparse
import asyncio
from dataclasses import dataclass, field, replace
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
import yaml

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
DEEP_TEXT = """(root) => {
  const out = [];
  const walk = (n) => {
    if (n.nodeType === 3) { const t = n.textContent.trim(); if (t) out.push(t); return; }
    if (n.nodeType !== 1 && n.nodeType !== 11) return;
    if (n.tagName === 'STYLE' || n.tagName === 'SCRIPT') return;
    if (n.shadowRoot) walk(n.shadowRoot);
    for (const c of n.childNodes) walk(c);
  };
  walk(root || document.body);
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

# A websocket command as the logged-in frontend sends it.
CALL_WS = "(msg) => document.querySelector('home-assistant').hass.callWS(msg)"


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
    # The credential reauth and reconfigure ask for (a key of the first form).
    secret: str = ""
    # Options besides scan_interval the contract names, and values to set.
    options: dict[str, str] = field(default_factory=dict)
    # The last step must show no address at all (no URL Home Assistant has).
    no_address: bool = False


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
            "api_token",
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
            "api_key",
            {"participants": "", "sender": "CommHub", "delivery_reports": ""},
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
            "access_token",
            {"polling": ""},
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
            "api_key",
            {"devices": "", "users": ""},
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
        """The inputs of a field (they carry no name of their own).

        A selector may render its inputs a moment after the field: wait for one.
        """
        deadline = time.monotonic() + TIMEOUT_MS / 1000
        while True:
            host = await self.page.evaluate_handle(FIELD_HOST, path)
            element = host.as_element()
            if element is None:
                raise CheckFailed(f"field {path!r} is not in the form")
            inputs = await element.query_selector_all("input")
            if inputs:
                return inputs
            if time.monotonic() > deadline:
                raise CheckFailed(f"field {path!r} shows no input")
            await asyncio.sleep(0.1)

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

    async def core_text(self, key: str) -> str:
        """A text of Home Assistant's own (e.g. config.abort.reauth_successful:
        async_update_reload_and_abort ends with these, not the integration's)."""
        resources: dict[str, str] = (
            await self.page.evaluate(
                CALL_WS,
                {
                    "type": "frontend/get_translations",
                    "language": "en",
                    "category": key.split(".", 1)[0],
                    "integration": ["homeassistant"],
                },
            )
        )["resources"]
        return resources.get(f"component.homeassistant.{key}", "")

    async def flow_text(self) -> str:
        """The open flow dialog's text only (not the page behind it)."""
        dialog = self.page.locator("dialog-data-entry-flow")
        result: str = await dialog.evaluate(DEEP_TEXT)
        return result

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


async def check_form(
    b: Browser, form: Form, what: str, flow: str = "config"
) -> dict[str, str]:
    """The form's title and every field the contract names, translated (flow:
    "config" or "options", where the texts live)."""
    title = b.strings.get(flow, "step", form.step, "title")
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
    if service.no_address and re.search(
        r"https?://|\d+\.\d+\.\d+\.\d+", await b.flow_text()
    ):
        raise CheckFailed(f"{what}: last step offers an address: {await b.flow_text()}")
    await b.shot(f"{service.key}-done")
    shows = f", shows {service.done_shows}…" if service.done_shows else ""
    say(f"  ok  {what}: last step {first_line[:40]!r}…{shows}")
    await page.get_by_role("button", name="Finish").click()


# Set in every options form: inside every service's interval range.
NEW_INTERVAL = 120
# The conversation the UI walk's IP1 entry follows (its notify entity's target).
IP1_NUMBER = "46701234567"
ROTATE: dict[str, tuple[str, str, str]] = {
    # How each sandbox is made to refuse the old credential: method, path, field.
    "ip1": ("PUT", "/_control/ip1/api_keys", "api_keys"),
    "hipcall": ("POST", "/_control/hipcall/token", "token"),
}


async def open_entry_row(b: Browser, url: str, title: str) -> Locator:
    """The entry's row on the integration page."""
    await b.page.goto(f"{url}/config/integrations/integration/commhub")
    row = b.page.locator("ha-config-entry-row").filter(has_text=title).first
    await row.wait_for()
    return row


async def current_options(stack: Stack, entry_id: str) -> dict[str, Any]:
    """What the options form shows now: an options flow started and dropped."""
    flow = await stack.rest(
        "POST", "/api/config/config_entries/options/flow", json={"handler": entry_id}
    )
    await stack.rest(
        "DELETE", f"/api/config/config_entries/options/flow/{flow['flow_id']}"
    )
    return {
        item["name"]: item.get("description", {}).get(
            "suggested_value", item.get("default")
        )
        for item in flow["data_schema"]
    }


async def check_options(
    b: Browser, stack: Stack, service: Service, entry: dict[str, Any]
) -> None:
    """The options form (the entry's cog): labels, a change that is kept."""
    what = f"options {service.key}"
    row = await open_entry_row(b, stack.url, entry["title"])
    await row.get_by_role("button", name="Configure", exact=True).first.click()
    form = Form(service.key, ["scan_interval", *service.options], {})
    labels = await check_form(b, form, what, flow="options")
    await (await b.list_inputs("scan_interval"))[0].fill(str(NEW_INTERVAL))
    changes = {key: value for key, value in service.options.items() if value}
    await fill(b, labels, changes)
    await b.shot(f"{service.key}-options")
    await submit(b)
    await b.page.get_by_role("button", name="Finish").click()
    wanted: dict[str, Any] = {"scan_interval": NEW_INTERVAL, **changes}
    now = await current_options(stack, entry["entry_id"])
    if any(now.get(key) != value for key, value in wanted.items()):
        raise CheckFailed(f"{what}: saved {now}, not {wanted}")
    say(f"  ok  {what}: saved {wanted}")


async def credential_dialog(
    b: Browser, form: Form, what: str, title: str, done: str
) -> None:
    """A reauth/reconfigure form: texts, a password field, wrong then right
    secret; done is the abort key it must end with."""
    labels = await check_form(b, form, what)
    description = b.strings.get("config", "step", form.step, "description")
    await b.expect_text(description.replace("{account}", title), what=what)
    secret = form.fields[0]
    kind = await b.input(secret).get_attribute("type")
    if kind != "password":
        raise CheckFailed(f"{what}: {secret!r} is a {kind!r} field, not a password")
    if form.wrong:
        await fill(b, labels, form.wrong)
        await submit(b)
        error = b.strings.get("config", "error", form.error)
        await b.expect_text(error, what=f"{what}: refused credential")
        say(f"  ok  {what}: the refused credential shows {error!r}")
    await fill(b, labels, form.values)
    await submit(b)
    text = await b.core_text(f"config.abort.{done}")
    await b.expect_text(text, what=f"{what}: result")
    await b.shot(what.replace(" ", "-"))
    say(f"  ok  {what}: {form.step!r} with a password field ends {text!r}")
    await b.page.get_by_role("button", name="Close", exact=True).last.click()


async def check_reauth(
    b: Browser, stack: Stack, service: Service, entry: dict[str, Any]
) -> None:
    """The sandbox refuses the key; the reauth flow Home Assistant starts on
    reload is opened from Discovered and given the new key."""
    what = f"reauth {service.key}"
    old = service.forms[0].values[service.secret]
    new = f"{old}-rotated"
    method, path, name = ROTATE[service.key]
    await stack.sandbox_call(
        method, path, json={name: [new] if name.endswith("s") else new}
    )
    await stack.rest(
        "POST", f"/api/config/config_entries/entry/{entry['entry_id']}/reload"
    )
    await b.page.goto(f"{stack.url}/config/integrations/dashboard")
    await b.page.get_by_role("button", name="Reconfigure").click()
    form = Form(
        f"reauth_{service.key}",
        [service.secret],
        {service.secret: new},
        {service.secret: old},
    )
    await credential_dialog(b, form, what, entry["title"], "reauth_successful")


async def check_reconfigure(
    b: Browser, stack: Stack, service: Service, entry: dict[str, Any]
) -> None:
    """Reconfigure from the entry's menu: the same account's secret again."""
    row = await open_entry_row(b, stack.url, entry["title"])
    await row.get_by_role("button", name="Menu", exact=True).first.click()
    await b.page.get_by_role("menuitem", name="Reconfigure").click()
    form = Form(
        f"reconfigure_{service.key}",
        [service.secret, "advanced", "advanced.base_url"],
        {service.secret: service.forms[0].values[service.secret]},
    )
    what = f"reconfigure {service.key}"
    await credential_dialog(b, form, what, entry["title"], "reconfigure_successful")


async def perform_action(b: Browser, url: str, yaml_text: str, what: str) -> None:
    """Developer tools -> Actions in YAML mode: type the action, perform it."""
    page = b.page
    await page.goto(f"{url}/developer-tools/action")
    await page.get_by_text("YAML mode", exact=True).click()
    await page.locator("ha-code-editor .cm-content").first.click()
    await page.keyboard.press("Control+a")
    # One insertion: typed keys would be auto-indented and bracket-closed.
    await page.keyboard.insert_text(yaml_text)
    await page.get_by_role("button", name="Perform action").click()
    say(f"  ok  {what}: performed from Developer tools")


async def action_response(b: Browser, what: str) -> Any:
    """The response Developer tools shows under the action (decoded YAML)."""
    editors = b.page.locator("ha-code-editor")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while await editors.count() < 2:
        if time.monotonic() > deadline:
            screen = await b.text()
            raise CheckFailed(f"{what}: no response shown; on screen: {screen[-500:]}")
        await b.page.wait_for_timeout(250)
    text: str = await editors.nth(1).evaluate("(e) => e.value")
    return yaml.safe_load(text)


async def check_send_action(b: Browser, stack: Stack, entry: dict[str, Any]) -> None:
    """commhub.send_message (IP1, to a number) with its per-target response."""
    what = "action commhub.send_message (IP1)"
    text = "Sent from Developer tools"
    await perform_action(
        b,
        stack.url,
        "action: commhub.send_message\n"
        "data:\n"
        f"  config_entry_id: {entry['entry_id']}\n"
        f'  to: "+{IP1_NUMBER[:2]} {IP1_NUMBER[2:4]} {IP1_NUMBER[4:]}"\n'
        f"  message: {text}\n",
        what,
    )
    names = ("services", "send_message")
    await b.expect_text(
        b.strings.get(*names, "name"),
        b.strings.get(*names, "fields", "to", "description"),
        what=f"{what}: its translated name and fields",
    )
    response = await action_response(b, what)
    results = response.get("results") if isinstance(response, dict) else None
    if (
        not results
        or results[0].get("to") != IP1_NUMBER
        or results[0].get("status") not in {"queued", "sent"}
    ):
        raise CheckFailed(f"{what}: response {response!r}")
    await b.shot("ip1-action-response")
    message = await sandbox_received(stack, text, what)
    say(
        f"  ok  {what}: response results: to {IP1_NUMBER}, {results[0]['status']};"
        f" the sandbox got it from {message['sender']!r}"
    )


async def sandbox_received(stack: Stack, text: str, what: str) -> dict[str, Any]:
    """The IP1 sandbox's message with this body (waits for it)."""
    path = f"/_control/ip1/messages?participant={IP1_NUMBER}"
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        sent = [m for m in await stack.sandbox_call("GET", path) if m["body"] == text]
        if sent:
            message: dict[str, Any] = sent[-1]
            return message
        await asyncio.sleep(0.25)
    raise CheckFailed(f"{what}: the IP1 sandbox never received {text!r}")


async def check_notify(b: Browser, stack: Stack, service: Service) -> None:
    """notify.send_message on the followed number's notify entity; the
    sandbox gets it from the sender the options set."""
    name = f"+{IP1_NUMBER} {b.strings.get('entity', 'notify', 'message', 'name')}"
    what = f"notify entity {name!r}"
    states = await stack.rest("GET", "/api/states")
    entity = next(
        (
            s["entity_id"]
            for s in states
            if s["entity_id"].startswith("notify.")
            and s["attributes"].get("friendly_name") == name
        ),
        None,
    )
    if entity is None:
        raise CheckFailed(f"{what}: no such entity")
    text = "Sent to the notify entity"
    await perform_action(
        b,
        stack.url,
        "action: notify.send_message\n"
        f"target:\n  entity_id: {entity}\n"
        f"data:\n  message: {text}\n",
        f"notify.send_message to {entity}",
    )
    message = await sandbox_received(stack, text, what)
    if message["sender"] != service.options["sender"]:
        raise CheckFailed(f"{what}: sent from {message['sender']!r}")
    say(f"  ok  {what}: the sandbox got it, from {message['sender']!r}")
    # The device page lists it under Notifiers; its more-info shows when it sent.
    await b.page.goto(f"{stack.url}/config/integrations/integration/commhub")
    await b.page.get_by_text(f"+{IP1_NUMBER}", exact=True).first.click()
    await b.expect_text(name.rsplit(" ", 1)[1], what=f"{what}: device page")
    await b.shot("ip1-notify-device")
    await b.page.get_by_text(name.rsplit(" ", 1)[1], exact=True).first.click()
    await b.page.get_by_role("dialog").wait_for()
    await b.page.wait_for_timeout(500)
    await b.shot("ip1-notify-entity")


async def check_no_url(
    b: Browser, stack: Stack, service: Service, entry: dict[str, Any]
) -> None:
    """Without an external URL: the entry added again ends with the no-URL
    text and no address; Repairs says it cannot receive webhooks."""
    await b.page.evaluate(CALL_WS, {"type": "config/core/update", "external_url": None})
    await stack.rest("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")
    again = replace(
        service,
        key=f"{service.key}_no_url",
        forms=[replace(form, wrong={}) for form in service.forms],
        done=f"{service.key}_no_url",
        done_shows="",
        no_address=True,
    )
    title = (await added_entry(stack, b, again))["title"]
    what = f"repair issue of {title}"
    issue = b.strings.get("issues", "no_webhook_url", "title").replace("{entry}", title)
    await b.page.goto(f"{stack.url}/config/repairs")
    await b.expect_text(issue, what=what)
    await b.page.get_by_text(issue, exact=True).click()
    description = b.strings.get("issues", "no_webhook_url", "description")
    first = description.replace("{entry}", title).split("\n", 1)[0]
    await b.expect_text(first, what=f"{what}: its description")
    await b.shot("repairs-no-webhook-url")
    say(f"  ok  {what}: Repairs shows {issue!r} and its description")


async def added_entry(stack: Stack, b: Browser, service: Service) -> dict[str, Any]:
    """Add the service through the UI; return the entry it created."""
    before = {e["entry_id"] for e in await commhub_entries(stack)}
    await add_service(b, stack.url, service)
    new = [e for e in await commhub_entries(stack) if e["entry_id"] not in before]
    if len(new) != 1:
        raise CheckFailed(f"add {service.key}: {len(new)} entries created, not 1")
    return new[0]


async def commhub_entries(stack: Stack) -> list[dict[str, Any]]:
    """CommHub's config entries (REST)."""
    entries = await stack.rest("GET", "/api/config/config_entries/entry")
    return [e for e in entries if e["domain"] == "commhub"]


async def walk(b: Browser, stack: Stack) -> None:
    """Add the four services; then options, reauth/reconfigure, an action,
    a notify entity and the no-URL step."""
    entries: dict[str, dict[str, Any]] = {}
    by_key = {service.key: service for service in services(stack.sandbox, stack.url)}
    for service in by_key.values():
        entries[service.key] = await added_entry(stack, b, service)
    for service in by_key.values():
        await check_options(b, stack, service, entries[service.key])
    for key in ROTATE:
        await check_reauth(b, stack, by_key[key], entries[key])
    for key in by_key.keys() - ROTATE.keys():
        await check_reconfigure(b, stack, by_key[key], entries[key])
    await check_send_action(b, stack, entries["ip1"])
    await check_notify(b, stack, by_key["ip1"])
    await check_no_url(b, stack, by_key["mobiniti"], entries["mobiniti"])


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
                await walk(b, stack)
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
