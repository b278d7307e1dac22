"""A real install: the wheel built from the repository's tracked files works outside the repository.

The wheel is installed (not editable) into a fresh virtualenv; its dependencies are taken
from this environment through a path file, so the test needs no network. From a folder
outside the repository, `qualcode demo`, `qualcode run` and `qualcode status` must work and
the app's script must load every page: they find the codebook, the demo corpus, the
migrations and the app's pages inside the installed package. `.ci/run` does the same with
a wheel whose dependencies pip resolves.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("QUALCODE_DB", "PYTHONPATH")}
    result = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(map(str, cmd))}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a fresh virtualenv with qualcode installed from a freshly built wheel."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to know the tracked files")
    base = tmp_path_factory.mktemp("install")
    source = base / "source"
    tracked = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(base / "dist"),
          str(source)], cwd=base)
    wheel = next((base / "dist").glob("qualcode-*.whl"))
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=base)
    purelib = Path(subprocess.run([venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    # this environment's dependencies (never its qualcode: path-file entries load no editable finder)
    ours = sysconfig.get_paths()["purelib"]
    deps = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()] or [ours]
    (purelib / "zz_dependencies.pth").write_text("\n".join(deps) + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-q",
          str(wheel)], cwd=base)
    return venv / "bin"


def test_the_installed_package_is_the_wheel_not_the_repository(installed, tmp_path):
    out = _run([installed / "python", "-c", "import qualcode, qualcode.paths as p; print(qualcode.__file__); "
                "print(p.CODEBOOKS); print(p.DEMO_CORPUS)"], cwd=tmp_path).stdout.split()
    assert all("site-packages" in line and str(ROOT) not in line for line in out), out
    assert out[1].endswith("qualcode/_bundled/codebooks") and out[2].endswith("qualcode/_bundled/corpus/demo")


@pytest.fixture(scope="module")
def elsewhere(installed, tmp_path_factory) -> Path:
    """A folder outside the repository where the installed `qualcode demo` has made demo.db."""
    folder = tmp_path_factory.mktemp("elsewhere")
    demo = _run([installed / "qualcode", "demo", "--db", "demo.db"], cwd=folder).stdout
    assert "Ingested 9 file(s)" in demo and "0 failed" in demo
    return folder


def test_demo_run_and_status_work_from_another_folder(installed, elsewhere):
    tmp_path = elsewhere
    corpus = tmp_path / "mine"
    corpus.mkdir()
    shipped = Path(_run([installed / "python", "-c", "import qualcode.paths as p; print(p.DEMO_CORPUS)"],
                        cwd=tmp_path).stdout.strip())
    shutil.copy(shipped / "havoy-plan-2024.pdf", corpus / "havoy-plan-2024.pdf")
    run = _run([installed / "qualcode", "run", "mine", "--db", "mine.db"], cwd=tmp_path).stdout
    assert "Ingested 1 file(s)" in run and "0 failed" in run
    status = _run([installed / "qualcode", "status", "--db", "mine.db"], cwd=tmp_path).stdout
    assert "Store: " in status and "segments" in status and "rule" in status


def test_the_installed_app_script_loads_its_pages(installed, elsewhere):
    tmp_path = elsewhere
    script = (
        "import os, qualcode.paths as p\n"
        "from streamlit.testing.v1 import AppTest\n"
        "os.environ['QUALCODE_DB'] = 'demo.db'\n"
        "at = AppTest.from_file(str(p.APP_SCRIPT), default_timeout=120).run()\n"
        "assert not at.exception, at.exception\n"
        "print(p.APP_SCRIPT); print(' | '.join(m.value for m in at.markdown)[:200])\n"
    )
    out = _run([installed / "python", "-c", script], cwd=tmp_path).stdout
    assert "site-packages" in out.splitlines()[0]
