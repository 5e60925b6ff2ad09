"""Print the pinned requirements of pyproject.toml's extras, one per line.

Usage: python scripts/lib/requirements.py [--hash] EXTRA...

pyproject.toml is the only place pins live; scripts/setup feeds this output to
pip, and --hash prints a digest of it that setup stores in .venv/.commhub-stamp
so that scripts/test and scripts/develop can tell when .venv is stale.
"""

import hashlib
from pathlib import Path
import sys
import tomllib


def requirements(extras: list[str]) -> list[str]:
    """Return the project's dependencies plus those of the given extras."""
    pyproject = Path(__file__).resolve().parents[2] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    reqs = list(project.get("dependencies", []))
    optional = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            sys.exit(f"pyproject.toml has no extra named {extra!r}")
        reqs += optional[extra]
    return reqs


def main(argv: list[str]) -> None:
    """Print the requirement lines, or their digest with --hash."""
    want_hash = "--hash" in argv
    lines = requirements([arg for arg in argv if arg != "--hash"])
    if want_hash:
        # Sorted: reordering the list in pyproject.toml changes nothing.
        text = "\n".join(sorted(lines)) + "\n"
        print(hashlib.sha256(text.encode()).hexdigest())
    else:
        print("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
