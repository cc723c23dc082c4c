"""The sdists of earlier releases, which the upgrade tests install and run: built from the
release tags, kept in tests/data/releases/ (a CI clone may have no tags).

    python -m tests.releases v0.1.0 v0.2.0

Each tag's tree (`git archive`) is built with `python -m build --sdist`, without its
tests/ folder (the vendored OpenAPI description alone is 0.5 MB; pip never reads it). The
package installed from it is the release's, file for file, and the build is
reproducible (hatchling stamps every member with one fixed date): the same tag gives the
same bytes, so anyone with the tags can check the committed files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASES = ROOT / "tests" / "data" / "releases"
NOT_INSTALLED = ("tests", ".github", ".ci")


def build(tag: str, into: Path = RELEASES) -> Path:
    """The sdist of release `tag` (vX.Y.Z), written into `into`."""
    version = tag.removeprefix("v")
    with tempfile.TemporaryDirectory() as scratch:
        tree, out = Path(scratch) / "tree", Path(scratch) / "dist"
        tree.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", tag],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        for name in NOT_INSTALLED:
            shutil.rmtree(tree / name, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "build", "--sdist", "--outdir", str(out), str(tree)],
            check=True,
            capture_output=True,
        )
        [built] = out.glob(f"ghbootstrap-{version}.tar.gz")
        into.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(built, into / built.name))


def main(tags: list[str]) -> None:
    if not tags:
        raise SystemExit("usage: python -m tests.releases vX.Y.Z [vX.Y.Z ...]")
    for tag in tags:
        sdist = build(tag)
        print(f"{tag}: {sdist.relative_to(ROOT)} ({sdist.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
