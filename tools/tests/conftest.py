import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/, for `import rclip_tools`
torch.set_num_threads(1)  # the machine's 2 cores are shared with training jobs
