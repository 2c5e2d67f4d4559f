"""Files that ship inside the package (see README.md here for their sources and licences)."""

from pathlib import Path

SAMPLE_IMAGE: Path = Path(__file__).resolve().with_name("astronaut.png")
