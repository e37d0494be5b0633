"""The PyTorch interpretation of nsfwjs's InceptionV3 (rclip_tools.keras_mobilenet.KerasConvNet, up to
`mixed5`, the layer the MobileNetV2 ⊕ InceptionV3 teacher pools) against TensorFlow.js itself
(tools/nsfwjs_tfjs_run.mjs, CPU backend) on real photos at 160 px, the teacher's input size.

What this adds to the MobileNetV2 check (test_nsfwjs_conversion.py): Conv2D without bias followed by
BatchNorm with scale=False (folded), Activation('relu'), MaxPooling2D (3x3 stride 2 'valid'),
AveragePooling2D (3x3 stride 1 'same', whose average counts only the cells inside the image, as Keras/TF
do) and Concatenate on channels; 1x7 / 7x1 'same' convolutions. Checked: `mixed2` (after the stem, both
max pools and three inception blocks) and `mixed5`. tfjs runs the layers the outputs need, its input
declared at 160 px (the bundled head's Flatten/Dense fix 299; tools/nsfwjs_tfjs_run.mjs).
"""

from __future__ import annotations

from rclip_tools.keras_mobilenet import KerasConvNet, load_keras_model
from test_nsfwjs_conversion import TOOLS_DIR, _ensure_dump, _photos, _run_tfjs, mismatch, pytestmark  # noqa: F401 (the skip)

DUMP_DIR = TOOLS_DIR / "runs" / "nsfwjs" / "inception_v3"
LAYERS = ("mixed2", "mixed5")
SIDE = 160
N_PHOTOS = 3
# Tolerance on max |torch - tfjs| as a fraction of the layer's activation scale (max |tfjs|). The uint8
# quantisation of the weights is no error source here: both sides dequantise the same bytes (value = min +
# scale * q per tensor) and then compute in float32, tfjs with BatchNorm as its own op, torch with it folded
# into the convolution in float64. What remains is float32 rounding over ~35 layers (sums of up to
# 3*3*288 terms): measured 1.5e-6 of the scale at mixed2 and 2.1e-6 at mixed5 (scales 8.1 and 6.0). A real
# conversion error is orders larger: dequantising every tensor half a quantisation step off (q + 0.5)
# moves mixed2 by 4x its scale (mixed5 by 115x), and an average pool that counts the padding
# (count_include_pad=True, torch's default) by 0.63 / 0.45 of the scale. 2e-5 leaves a ~10x margin.
REL_TOL = 2e-5


def test_keras_inception_matches_tfjs_on_photos():
    pixels = _photos(SIDE, N_PHOTOS)
    _ensure_dump(DUMP_DIR)
    expected = _run_tfjs(pixels.transpose(0, 2, 3, 1), "inception_v3", LAYERS)

    layers, weights, _ = load_keras_model(DUMP_DIR)
    failures = []
    for name in LAYERS:
        net = KerasConvNet(layers, weights, name).eval()
        assert {op for _, op, _, _ in net.program} >= {"maxpool", "avgpool", "concat", "relu", "conv"}
        assert expected[name].shape[-1] == net.out_channels
        failures += mismatch(name, net, pixels, expected[name], REL_TOL)
    assert not failures, "; ".join(failures)
