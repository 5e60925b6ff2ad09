"""Print the requirements of Home Assistant integrations and their dependencies.

Usage: python scripts/lib/ha_requirements.py DOMAIN...   (with the venv's python)

scripts/browser-test installs them into .venv-next, whose Home Assistant runs
with --skip-pip: without the frontend it would start in recovery mode.
"""

import json
from pathlib import Path
import sys

import homeassistant.components

COMPONENTS = Path(homeassistant.components.__path__[0])


def requirements(domains: list[str]) -> list[str]:
    """Requirements of the domains, their dependencies included, sorted."""
    seen: set[str] = set()
    reqs: set[str] = set()
    todo = list(domains)
    while todo:
        domain = todo.pop()
        if domain in seen:
            continue
        seen.add(domain)
        manifest = json.loads((COMPONENTS / domain / "manifest.json").read_text())
        reqs.update(manifest.get("requirements", []))
        todo.extend(manifest.get("dependencies", []))
    return sorted(reqs)


if __name__ == "__main__":
    print("\n".join(requirements(sys.argv[1:])))
