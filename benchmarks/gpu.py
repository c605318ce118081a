"""The torch kernels on a GPU without installing: ``python benchmarks/gpu.py [args]`` is ``derive gpu [args]``.

A thin script so that anyone with a clone and a CUDA machine can run it unchanged; the logic is in derive.gpu.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from derive.cli import main  # noqa: E402 - the path above must be set first

if __name__ == "__main__":
    sys.exit(main(["gpu", *sys.argv[1:]]))
