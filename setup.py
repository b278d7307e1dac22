"""Packaging hook: the codebooks, the demo corpus and the app's Streamlit settings travel in the wheel.

They live at the top of the repository, where researchers edit them; building a wheel
copies them into ``qualcode/_bundled/``, where ``qualcode.paths`` finds them in an
installed qualcode. An editable install reads them from the repository instead.
Everything else about the package is in pyproject.toml.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLED = ["codebooks", "corpus/demo", ".streamlit"]


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "qualcode" / "_bundled"
        for folder in BUNDLED:
            shutil.copytree(ROOT / folder, target / folder, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*.tmp"))


setup(cmdclass={"build_py": BuildPyWithData})
