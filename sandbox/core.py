"""Service-agnostic sandbox machinery.

A `Sandbox` composes `ServiceSandbox` instances into one aiohttp application. Each
service mounts its API under `/{name}`; one middleware records every request to a
service, applies that service's latency and injected faults, runs the service's
`before_handler` hook (authentication) and finally the route handler. Errors raised
as `ServiceError` anywhere in that chain are rendered by the service's
`error_response`, so every error of a service has the same shape. JSON control routes
live under `/_control`; they are neither recorded nor faulted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
import contextlib
import dataclasses
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from http import HTTPStatus
import json
import re
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, cast, get_args
from urllib.parse import parse_qsl

from aiohttp import ClientError, ClientSession, ClientTimeout, web
from multidict import CIMultiDict, MultiDict

if TYPE_CHECKING:
    from .hipcall import HipcallSandbox
    from .hipmob import HipmobSandbox
    from .ip1 import Ip1Sandbox
    from .mobiniti import MobinitiSandbox

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ControlHandler = Callable[[web.Request], Awaitable[object]]
FaultKind = Literal["error", "rate_limit", "timeout", "malformed"]

TEXT_PLAIN = "text/plain; charset=utf-8"
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Cut off mid-document so that no JSON parser accepts it, whatever the endpoint.
MALFORMED_BODY = b'{"sandbox": "malformed respon'


async def post_json(
    url: str, payload: object, *, user_agent: str, answer_within: float
) -> tuple[int | None, str | None]:
    """POST a callback through real HTTP: (status, None), or (None, the error)."""
    try:
        async with (
            ClientSession(timeout=ClientTimeout(total=answer_within)) as session,
            session.post(
                url, json=payload, headers={"User-Agent": user_agent}
            ) as response,
        ):
            await response.read()
            return response.status, None
    except (ClientError, TimeoutError, ValueError) as err:
        return None, f"{type(err).__name__}: {err}"


class LaravelFields:
    """Field errors as Laravel's validator words them, collected per field.

    Services add their rules and a `check` that raises their 422.
    """

    # Values Laravel treats as missing besides null (its "required" rule).
    blank_values: ClassVar[tuple[object, ...]] = ([],)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def fail(self, key: str, message: str) -> None:
        """Add a message for a field."""
        self.errors.setdefault(key, []).append(message)

    @staticmethod
    def label(key: str) -> str:
        """A field as messages name it: wildcard items (ids.0) as is, others as words."""
        return key if "." in key else key.replace("_", " ")

    def present(self, key: str, *, required: bool = False) -> bool:
        """Whether the field has a value to check; reports it when required."""
        value = self.data.get(key)
        if value is None or value in self.blank_values:
            if required:
                self.fail(key, f"The {self.label(key)} field is required.")
            return False
        return True


@dataclass
class Fault:
    """A failure injected in front of a service's handlers.

    kind: "error" answers `status`; "rate_limit" answers 429 with `Retry-After`
    (when `retry_after` is set); "timeout" holds the request `delay` seconds and then
    answers normally; "malformed" answers 200 with the endpoint's content type and a
    body that is not valid JSON. `count` requests are affected (None: until cleared);
    `path` (a regex searched in the path without the service prefix) and `method`
    narrow which requests match.
    """

    kind: FaultKind
    status: int = 500
    retry_after: int | None = None
    delay: float = 30.0
    count: int | None = 1
    path: str | None = None
    method: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in get_args(FaultKind):
            msg = f"unknown fault kind {self.kind!r}"
            raise ValueError(msg)
        if not isinstance(self.status, int) or not 100 <= self.status <= 599:
            msg = f"status must be an HTTP status code, not {self.status!r}"
            raise ValueError(msg)
        if not isinstance(self.delay, int | float) or self.delay < 0:
            msg = f"delay must be a non-negative number of seconds, not {self.delay!r}"
            raise ValueError(msg)
        if self.count is not None and self.count < 1:
            msg = "count must be at least 1 (or None for until cleared)"
            raise ValueError(msg)
        if self.path is not None:
            try:
                re.compile(self.path)
            except re.error as err:
                msg = f"invalid path regex {self.path!r}: {err}"
                raise ValueError(msg) from err

    def matches(self, method: str, path: str) -> bool:
        """Return whether this fault applies to a request."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or re.search(self.path, path) is not None


@dataclass
class RecordedRequest:
    """One request as a service received it (`path` is without the prefix)."""

    method: str
    path: str
    query: MultiDict[str]
    headers: CIMultiDict[str]
    body: bytes
    status: int = 0  # the response status; 0 while the request is still in flight

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode("utf-8", "replace")

    @property
    def form(self) -> MultiDict[str]:
        """The body parsed as a form (empty unless the request sent one)."""
        return parse_form(self.headers.get("Content-Type", ""), self.body)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable view for the control interface."""
        return {
            "method": self.method,
            "path": self.path,
            "query": [[key, value] for key, value in self.query.items()],
            "headers": [[key, value] for key, value in self.headers.items()],
            "body": self.text,
            "status": self.status,
        }


class ServiceError(Exception):
    """An error answer; the owning service renders it with `error_response`."""

    def __init__(
        self, status: int, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class Route(NamedTuple):
    """A service API route; `path` is relative to the service prefix."""

    method: str
    path: str
    handler: Handler
    content_type: str = TEXT_PLAIN  # of a successful answer; used by "malformed"


class ControlRoute(NamedTuple):
    """A control route; `path` is relative to `/_control/{service}`.

    The handler returns JSON-serialisable data. KeyError becomes 404, ValueError and
    TypeError become 400.
    """

    method: str
    path: str
    handler: ControlHandler


def parse_form(content_type: str, body: bytes) -> MultiDict[str]:
    """Parse a urlencoded or multipart form from raw bytes.

    The body has already been consumed for recording, so aiohttp's own
    `Request.post()` cannot read multipart forms any more.
    """
    mime = content_type.partition(";")[0].strip().lower()
    if mime == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return MultiDict(pairs)
    form: MultiDict[str] = MultiDict()
    if mime == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        message = BytesParser(policy=policy.default).parsebytes(head + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = cast("EmailMessage", part).get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                form.add(name, payload.decode("utf-8", "replace"))
    return form


async def read_form(request: web.Request) -> MultiDict[str]:
    """Return the request's form fields (empty for other content types)."""
    return parse_form(request.headers.get("Content-Type", ""), await request.read())


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """Return the request's JSON object body ({} when there is no body)."""
    body = await request.read()
    if not body.strip():
        return {}
    data = json.loads(body)
    if not isinstance(data, dict):
        msg = "expected a JSON object"
        raise TypeError(msg)
    return data


def require(
    body: Mapping[str, Any], key: str, kind: type[Any] | tuple[type[Any], ...]
) -> Any:
    """Return `body[key]`, checking it is present and of the given type(s)."""
    if key not in body:
        msg = f"missing field {key!r}"
        raise ValueError(msg)
    value = body[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int subclass, but true is never a valid count or duration.
    if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
        names = " or ".join(k.__name__ for k in kinds)
        msg = f"field {key!r} must be of type {names}"
        raise TypeError(msg)
    return value


def text_response(
    text: str, status: int = 200, reason: str | None = None
) -> web.Response:
    """A text/plain answer."""
    return web.Response(
        status=status,
        reason=reason,
        body=text.encode(),
        headers={"Content-Type": TEXT_PLAIN},
    )


def json_response(data: object, content_type: str) -> web.Response:
    """A JSON answer with an exact (possibly vendor) content type."""
    return web.Response(
        body=json.dumps(data).encode(), headers={"Content-Type": content_type}
    )


def _status_phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Sandbox Fault"


def _control_handler(handler: ControlHandler) -> Handler:
    """Wrap a control handler: JSON out, and one place that maps errors."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            data = await handler(request)
        except KeyError as err:
            return _control_error(404, f"not found: {err.args[0] if err.args else ''}")
        except (ValueError, TypeError) as err:
            return _control_error(400, str(err))
        return web.json_response(data)

    return wrapped


def _control_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class ServiceSandbox:
    """Base class of one service's sandbox.

    Subclasses set `name` and implement `seed` and `routes`; they may override
    `before_handler` (authentication), `error_response` (the service's error shape),
    `control_routes`, `state`, `summary` and `demo_step`.
    """

    name: ClassVar[str]

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.faults: list[Fault] = []
        self.latency = 0.0
        self._content_types: dict[web.AbstractRoute, str] = {}
        self._held: set[asyncio.Event] = set()
        self.seed()

    # -- hooks for subclasses ------------------------------------------------

    def seed(self) -> None:
        """Replace the service state with its seed data."""
        raise NotImplementedError

    def routes(self) -> Iterable[Route]:
        """The service's API routes."""
        raise NotImplementedError

    def control_routes(self) -> Iterable[ControlRoute]:
        """Service-specific control routes (besides the generic ones)."""
        return ()

    def state(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot of the service state."""
        return {}

    def summary(self) -> list[str]:
        """Human-readable lines (credentials, ids) printed by `python -m sandbox`."""
        return []

    def demo_step(self, step: int) -> None:
        """Change some state so that a dashboard visibly moves (`--demo`)."""

    async def before_handler(self, request: web.Request) -> None:
        """Run after faults, before the route handler (e.g. authentication)."""

    def error_response(self, error: ServiceError) -> web.Response:
        """Render an error answer in the service's format."""
        response = text_response(error.message, error.status)
        response.headers.update(error.headers)
        return response

    # -- Python API ----------------------------------------------------------

    @property
    def prefix(self) -> str:
        """The URL prefix the service's API is mounted under."""
        return f"/{self.name}"

    def reset(self) -> None:
        """Back to seed state; faults, latency and the request log cleared."""
        self.requests.clear()
        self.clear_faults()
        self.latency = 0.0
        self.seed()

    def add_fault(self, fault: Fault) -> None:
        """Inject a fault (a copy: the caller's object is never consumed)."""
        self.faults.append(dataclasses.replace(fault))

    def clear_faults(self) -> None:
        """Drop all faults and let requests held by "timeout" faults go on."""
        self.faults.clear()
        self.release_held()

    def release_held(self) -> None:
        """Let every request currently held by a "timeout" fault answer now."""
        for event in self._held:
            event.set()

    # -- wiring ----------------------------------------------------------------

    def owns(self, path: str) -> bool:
        """Return whether a request path belongs to this service's API."""
        return path == self.prefix or path.startswith(self.prefix + "/")

    def mount(self, app: web.Application) -> None:
        """Add the service's API and control routes to an application."""
        for route in self.routes():
            added = app.router.add_route(
                route.method, self.prefix + route.path, route.handler
            )
            self._content_types[added] = route.content_type
        base = f"/_control/{self.name}"
        for control in (*self._generic_control_routes(), *self.control_routes()):
            app.router.add_route(
                control.method, base + control.path, _control_handler(control.handler)
            )

    async def handle(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Record the request, then answer it (latency, faults, hook, handler)."""
        record = RecordedRequest(
            method=request.method,
            path=request.path[len(self.prefix) :] or "/",
            query=MultiDict(request.query),
            headers=CIMultiDict(request.headers),
            body=await request.read(),
        )
        self.requests.append(record)
        try:
            response = await self._answer(request, handler, record.path)
        except Exception:
            record.status = 500  # aiohttp answers an unhandled exception with 500
            raise
        record.status = response.status
        return response

    async def _answer(
        self, request: web.Request, handler: Handler, path: str
    ) -> web.StreamResponse:
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            fault = self._take_fault(request.method, path)
            if fault is not None:
                faulted = await self._apply_fault(fault, request)
                if faulted is not None:
                    return faulted
            await self.before_handler(request)
            return await handler(request)
        except ServiceError as err:
            return self.error_response(err)
        except web.HTTPException as exc:  # router 404/405: same shape as API errors
            allow = {k: v for k, v in exc.headers.items() if k.lower() == "allow"}
            return self.error_response(ServiceError(exc.status, exc.reason, allow))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, path):
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    async def _apply_fault(
        self, fault: Fault, request: web.Request
    ) -> web.StreamResponse | None:
        if fault.kind == "error":
            raise ServiceError(fault.status, _status_phrase(fault.status))
        if fault.kind == "rate_limit":
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            raise ServiceError(429, _status_phrase(429), headers)
        if fault.kind == "timeout":
            await self._hold(fault.delay)
            return None
        content_type = self._content_types.get(request.match_info.route, TEXT_PLAIN)
        return web.Response(body=MALFORMED_BODY, headers={"Content-Type": content_type})

    async def _hold(self, delay: float) -> None:
        event = asyncio.Event()
        self._held.add(event)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), delay)
        finally:
            self._held.discard(event)

    def _generic_control_routes(self) -> list[ControlRoute]:
        return [
            ControlRoute("GET", "/state", self._control_state),
            ControlRoute("GET", "/requests", self._control_requests),
            ControlRoute("DELETE", "/requests", self._control_clear_requests),
            ControlRoute("GET", "/faults", self._control_faults),
            ControlRoute("POST", "/faults", self._control_add_fault),
            ControlRoute("DELETE", "/faults", self._control_clear_faults),
            ControlRoute("POST", "/latency", self._control_latency),
        ]

    async def _control_state(self, _request: web.Request) -> object:
        return {
            "service": self.name,
            "latency_ms": round(self.latency * 1000),
            "faults": [dataclasses.asdict(fault) for fault in self.faults],
            "recorded_requests": len(self.requests),
            **self.state(),
        }

    async def _control_requests(self, _request: web.Request) -> object:
        return [record.to_json() for record in self.requests]

    async def _control_clear_requests(self, _request: web.Request) -> object:
        self.requests.clear()
        return {"ok": True}

    async def _control_faults(self, _request: web.Request) -> object:
        return [dataclasses.asdict(fault) for fault in self.faults]

    async def _control_add_fault(self, request: web.Request) -> object:
        self.add_fault(Fault(**await read_json_object(request)))
        return await self._control_faults(request)

    async def _control_clear_faults(self, _request: web.Request) -> object:
        self.clear_faults()
        return {"ok": True}

    async def _control_latency(self, request: web.Request) -> object:
        ms = require(await read_json_object(request), "ms", (int, float))
        if ms < 0:
            msg = "ms must be a non-negative number"
            raise ValueError(msg)
        self.latency = ms / 1000
        return {"latency_ms": ms}


class Sandbox:
    """All service sandboxes behind one application (default: every service)."""

    def __init__(self, services: Iterable[ServiceSandbox] | None = None) -> None:
        if services is None:
            # Imported here: core must stay importable without any service module.
            from .hipcall import HipcallSandbox  # noqa: PLC0415
            from .hipmob import HipmobSandbox  # noqa: PLC0415
            from .ip1 import Ip1Sandbox  # noqa: PLC0415
            from .mobiniti import MobinitiSandbox  # noqa: PLC0415

            services = [
                HipmobSandbox(),
                HipcallSandbox(),
                Ip1Sandbox(),
                MobinitiSandbox(),
            ]
        self.services: dict[str, ServiceSandbox] = {s.name: s for s in services}

    @property
    def hipmob(self) -> HipmobSandbox:
        """The Hipmob service sandbox."""
        return cast("HipmobSandbox", self.services["hipmob"])

    @property
    def hipcall(self) -> HipcallSandbox:
        """The Hipcall service sandbox."""
        return cast("HipcallSandbox", self.services["hipcall"])

    @property
    def ip1(self) -> Ip1Sandbox:
        """The IP1 SMS service sandbox."""
        return cast("Ip1Sandbox", self.services["ip1"])

    @property
    def mobiniti(self) -> MobinitiSandbox:
        """The Mobiniti service sandbox."""
        return cast("MobinitiSandbox", self.services["mobiniti"])

    def reset(self) -> None:
        """Reset every service to its seed state."""
        for service in self.services.values():
            service.reset()

    def build_app(self) -> web.Application:
        """An application serving every service and the control interface."""
        services = list(self.services.values())

        @web.middleware
        async def dispatch(
            request: web.Request, handler: Handler
        ) -> web.StreamResponse:
            for service in services:
                if service.owns(request.path):
                    return await service.handle(request, handler)
            return await handler(request)

        async def release(_app: web.Application) -> None:
            for service in services:
                service.release_held()

        async def control_reset(_request: web.Request) -> object:
            self.reset()
            return {"ok": True}

        app = web.Application(middlewares=[dispatch])
        app.on_shutdown.append(release)  # held "timeout" requests must not block exit
        app.router.add_post("/_control/reset", _control_handler(control_reset))
        for service in services:
            service.mount(app)
        return app
