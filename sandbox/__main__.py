"""Serve the sandbox: `python -m sandbox [--host H] [--port P] [--latency-ms N] [--demo]`."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
import contextlib

from aiohttp import web

from .core import Sandbox


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Serve the CommHub API sandboxes."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8500)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="added to every API response"
    )
    parser.add_argument(
        "--demo", action="store_true", help="keep changing the data (for dashboards)"
    )
    parser.add_argument(
        "--demo-interval", type=float, default=20.0, help="seconds between demo steps"
    )
    return parser.parse_args(argv)


async def _demo(sandbox: Sandbox, interval: float) -> None:
    step = 0
    while True:
        await asyncio.sleep(interval)
        step += 1
        for service in sandbox.services.values():
            service.demo_step(step)


async def _serve(args: argparse.Namespace) -> None:
    sandbox = Sandbox()
    for service in sandbox.services.values():
        service.latency = args.latency_ms / 1000
    app = sandbox.build_app()

    if args.demo:

        async def demo_task(_app: web.Application) -> AsyncIterator[None]:
            task = asyncio.create_task(_demo(sandbox, args.demo_interval))
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

        app.cleanup_ctx.append(demo_task)

    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        port = runner.addresses[0][1] if runner.addresses else args.port
        root = f"http://{args.host}:{port}"
        print(f"CommHub sandbox on {root} (control: {root}/_control)", flush=True)
        for service in sandbox.services.values():
            print(f"\n{service.name}: base URL {root}{service.prefix}", flush=True)
            for line in service.summary():
                print(f"  {line}", flush=True)
        if args.demo:
            print(f"\ndemo: data changes every {args.demo_interval:g} s", flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    """Run until interrupted."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
