"""Where the project's bundled files live (the package is installed editable from the repo)."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_CORPUS = PROJECT_ROOT / "corpus" / "demo"
CODEBOOKS = PROJECT_ROOT / "codebooks"
