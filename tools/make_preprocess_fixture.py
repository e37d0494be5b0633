"""Writes tests/fixtures/preprocess-pil.json: reference outputs of open_clip's image transform.

open_clip preprocesses with torchvision Resize(size, BICUBIC) + CenterCrop(size) + ToTensor on PIL
images; the TypeScript core claims to reproduce that bit for bit. The sources are synthetic
(seeded noise and gradients), so no data set is copied into the repository.
Run: /usr/bin/python3 tools/make_preprocess_fixture.py
"""
import base64
import json
import pathlib

import numpy as np
from PIL import Image
from torchvision import transforms

CASES = [  # (width, height, size): upsampling, downsampling, and odd crop offsets (round-half-even)
    (37, 23, 64),
    (300, 201, 64),
    (161, 480, 64),
    (97, 97, 48),
    (180, 137, 128),
]


def synthetic(width: int, height: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 / max(width - 1, 1), y * 255 / max(height - 1, 1), (x + y) % 64 * 4], axis=-1)
    noise = rng.normal(0, 40, size=(height, width, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def main() -> None:
    cases = []
    for i, (w, h, size) in enumerate(CASES):
        rgb = synthetic(w, h, seed=i)
        transform = transforms.Compose([
            transforms.Resize(size, interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.CenterCrop(size),
        ])
        out = np.asarray(transform(Image.fromarray(rgb, 'RGB')))
        cases.append({
            'width': w,
            'height': h,
            'size': size,
            'rgb': base64.b64encode(rgb.tobytes()).decode(),
            'expected': base64.b64encode(out.tobytes()).decode(),  # HWC uint8, size x size x 3
        })
    target = pathlib.Path(__file__).resolve().parent.parent / 'tests' / 'fixtures' / 'preprocess-pil.json'
    target.write_text(json.dumps({'generator': 'tools/make_preprocess_fixture.py', 'cases': cases}) + '\n')
    print(f'wrote {target} ({len(cases)} cases)')


if __name__ == '__main__':
    main()
