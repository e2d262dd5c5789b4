"""Ships ontology/, shapes/, queries/, filings/ and examples/ inside the wheel as ``bepgraph/_data``.

They live beside ``src/`` so that they stay plain files an analyst can open;
``bepgraph.resources`` looks in the checkout first (editable install) and in
``_data`` second (wheel). Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DATA_DIRS = ("ontology", "shapes", "queries", "filings", "examples")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "bepgraph" / "_data"
        for name in DATA_DIRS:
            if (root / name).is_dir():
                shutil.copytree(root / name, target / name, dirs_exist_ok=True)


setup(cmdclass={"build_py": BuildWithData})
