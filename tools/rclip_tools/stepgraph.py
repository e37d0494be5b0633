"""``attack_step.onnx``: one L∞ attack step with its projection, built around ``attack.onnx``:
PGD's step, or APGD's (with momentum), one graph for both.

Inputs  x [1,3,S,S] (model-input pixels in [0,1], the iterate x_k), x_prev [1,3,S,S] (x_{k−1}; PGD
        passes x), x0 [1,3,S,S] (the clean pixels), target [1,D] (the reference embedding), eps [1],
        alpha [1] (the step size, signed: + pushes apart, − pulls together), momentum [1] (APGD's α;
        1 for PGD and APGD's first step).
Outputs x_next [1,3,S,S] = P(z + (1 − momentum)·((x − z) + (x − x_prev))), z = P(x + alpha·sign(∂d/∂x)),
        P(y) = clip(x0 + clip(y − x0, −eps, eps), 0, 1)
        stats [2] = [d(x) = 1 − cos(f(x), target), max|x − x0|]  (d and ‖δ‖∞ at x, before the step)

x_next is APGD's x + α(z − x) + (1 − α)(x − x_prev) (autopgd_base.py, L∞), rearranged so that
momentum 1 gives z itself, PGD's step. It is the JS step of src/core/attack.ts (L∞), moved into the
graph so that on WebGPU the image can stay in GPU buffers between steps (x_next fed back as x) and
only ``stats`` is read back. The normalisation (x − mean)/std happens in the graph;
sign(∂d/∂x) = sign(∂d/∂x̂) because std > 0. Built by graph composition from attack.onnx, so it works
for any model that has one.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build_step_graph(attack_path: Path, mean, std, out_path: Path) -> None:
    attack = onnx.load(str(attack_path))
    g = attack.graph
    inputs = {i.name: i for i in g.input}
    outputs = {o.name: o for o in g.output}
    for name in ("input", "target"):
        if name not in inputs:
            raise ValueError(f"{attack_path}: no input named {name!r}")
    for name in ("distance", "grad"):
        if name not in outputs:
            raise ValueError(f"{attack_path}: no output named {name!r}")
    x_shape = [d.dim_value for d in inputs["input"].type.tensor_type.shape.dim]
    t_shape = [d.dim_value for d in inputs["target"].type.tensor_type.shape.dim]

    # The attack graph's own names, prefixed so they cannot clash with the step's.
    prefix = "attack/"
    renamed = onnx.compose.add_prefix(attack, prefix, rename_inputs=True, rename_outputs=True,
                                      rename_initializers=True, rename_value_infos=True, rename_nodes=True,
                                      rename_edges=True, rename_functions=False)
    rg = renamed.graph
    const = lambda name, arr: numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)
    initializers = list(rg.initializer) + [
        const("step/mean", np.reshape(mean, (1, 3, 1, 1))),
        const("step/std", np.reshape(std, (1, 3, 1, 1))),
        const("step/zero", 0.0),
        const("step/one", 1.0),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "step/shape1"),
    ]
    node = helper.make_node

    def project(y: str, out: str) -> list:
        """P(y) = clip(x0 + clip(y − x0, −eps, eps), 0, 1), as projectLinf in src/core/attack.ts."""
        return [
            node("Sub", [y, "x0"], [f"{out}/delta"]),
            node("Min", [f"{out}/delta", "eps"], [f"{out}/delta_hi"]),
            node("Max", [f"{out}/delta_hi", "step/neg_eps"], [f"{out}/delta_ball"]),
            node("Add", ["x0", f"{out}/delta_ball"], [f"{out}/in_ball"]),
            node("Min", [f"{out}/in_ball", "step/one"], [f"{out}/below_one"]),
            node("Max", [f"{out}/below_one", "step/zero"], [out]),
        ]

    before = [
        node("Sub", ["x", "step/mean"], ["step/centred"]),
        node("Div", ["step/centred", "step/std"], [prefix + "input"]),
        node("Identity", ["target"], [prefix + "target"]),
    ]
    after = [
        node("Neg", ["eps"], ["step/neg_eps"]),
        # sign(g) as (g > 0) − (g < 0): ONNX Sign has no WebGPU kernel in onnxruntime-web 1.30 (it would
        # run on the CPU, a readback of the gradient every step, the thing this graph exists to avoid).
        node("Greater", [prefix + "grad", "step/zero"], ["step/positive"]),
        node("Less", [prefix + "grad", "step/zero"], ["step/negative"]),
        node("Cast", ["step/positive"], ["step/positive_f"], to=TensorProto.FLOAT),
        node("Cast", ["step/negative"], ["step/negative_f"], to=TensorProto.FLOAT),
        node("Sub", ["step/positive_f", "step/negative_f"], ["step/sign"]),
        node("Mul", ["step/sign", "alpha"], ["step/move"]),
        node("Add", ["x", "step/move"], ["step/moved"]),
        *project("step/moved", "step/z"),
        # APGD's momentum: z + (1 − α)·((x − z) + (x − x_prev)); α = 1 leaves z exactly (PGD).
        node("Sub", ["step/one", "momentum"], ["step/keep"]),
        node("Sub", ["x", "step/z"], ["step/back"]),
        node("Sub", ["x", "x_prev"], ["step/last_move"]),
        node("Add", ["step/back", "step/last_move"], ["step/carry"]),
        node("Mul", ["step/carry", "step/keep"], ["step/carried"]),
        node("Add", ["step/z", "step/carried"], ["step/with_momentum"]),
        *project("step/with_momentum", "x_next"),
        # stats = [d(x), max|x − x0|], one tensor so that one readback brings both back.
        node("Sub", ["x", "x0"], ["step/offset"]),
        node("Abs", ["step/offset"], ["step/abs_offset"]),
        node("ReduceMax", ["step/abs_offset"], ["step/linf"], keepdims=0),
        node("Reshape", ["step/linf", "step/shape1"], ["step/linf1"]),
        node("Reshape", [prefix + "distance", "step/shape1"], ["step/distance1"]),
        node("Concat", ["step/distance1", "step/linf1"], ["stats"], axis=0),
    ]
    f32 = TensorProto.FLOAT
    graph = helper.make_graph(
        before + list(rg.node) + after,
        "attack_step",
        [helper.make_tensor_value_info("x", f32, x_shape), helper.make_tensor_value_info("x_prev", f32, x_shape),
         helper.make_tensor_value_info("x0", f32, x_shape), helper.make_tensor_value_info("target", f32, t_shape),
         *(helper.make_tensor_value_info(name, f32, [1]) for name in ("eps", "alpha", "momentum"))],
        [helper.make_tensor_value_info("x_next", f32, x_shape), helper.make_tensor_value_info("stats", f32, [2])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=list(attack.opset_import), producer_name="rclip_tools.stepgraph")
    model.ir_version = attack.ir_version
    onnx.checker.check_model(model)
    onnx.save(model, str(out_path))


def main(argv: list[str] | None = None) -> None:
    """Adds attack_step.onnx to an exported model folder and lists it in its manifest (files.attackStep)."""
    import argparse
    import json

    from .manifest import file_entry

    p = argparse.ArgumentParser(prog="python -m rclip_tools.stepgraph", description=main.__doc__)
    p.add_argument("folder", type=Path, help="a model folder holding manifest.json and attack.onnx")
    a = p.parse_args(argv)
    manifest_path = a.folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    if "attack" not in manifest["files"]:
        raise SystemExit(f"{a.folder}: the manifest lists no attack.onnx to build the step graph from")
    out = a.folder / "attack_step.onnx"
    build_step_graph(a.folder / manifest["files"]["attack"]["path"], manifest["input"]["mean"], manifest["input"]["std"], out)
    manifest["files"]["attackStep"] = file_entry(out)
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"{out}: {manifest['files']['attackStep']['bytes'] / 1e6:.2f} MB; listed in {manifest_path}")


if __name__ == "__main__":
    main()
