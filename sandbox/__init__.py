"""Local, faithful sandboxes of the cloud APIs CommHub talks to (stdlib + aiohttp)."""

from .core import Fault, RecordedRequest, Sandbox, ServiceSandbox
from .hipcall import HipcallSandbox
from .hipmob import HipmobSandbox

__all__ = [
    "Fault",
    "HipcallSandbox",
    "HipmobSandbox",
    "RecordedRequest",
    "Sandbox",
    "ServiceSandbox",
]
