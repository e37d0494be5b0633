import subprocess
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/, for `import rclip_tools`
torch.set_num_threads(1)  # the machine's 2 cores are shared with training jobs


REPO = Path(__file__).resolve().parents[1].parent
NSFWJS = REPO / "tools" / "runs" / "nsfwjs" / "mobilenet_v2"


@pytest.fixture(scope="module")
def nsfwjs() -> Path:
    """The nsfwjs dumps (MobileNetV2 and InceptionV3 side by side; the MobileNetV2 folder, as --nsfwjs takes),
    written from node_modules on first use."""
    if not (REPO / "node_modules" / "nsfwjs").is_dir():
        pytest.skip("node_modules/nsfwjs missing: run npm ci in the repository root")
    for model in ("mobilenet_v2", "inception_v3"):
        if not (NSFWJS.parent / model / "weights.bin").exists():
            subprocess.run(["node", "tools/nsfwjs_dump.mjs", model], cwd=REPO, check=True)
    return NSFWJS
