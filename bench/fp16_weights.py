"""fp16 weights for a model folder's graphs, on a copy, to size the model format (bench/model-budget.ts).

    /usr/bin/python3 bench/fp16_weights.py MODEL_DIR OUT_DIR

Writes OUT_DIR (its name becomes the copy's id) with each graph of MODEL_DIR's manifest rewritten so
that every float32 weight (initializer or Constant of 16 elements or more) is stored as float16 and cast
back to float32 by a Cast node: the arithmetic stays fp32, only the stored weights are rounded. The
manifest is copied with the new sizes and sha256, so the copy loads like any model folder and its
embeddings can be compared with the fp32 original. Prints JSON (stdout): per graph, its bytes in fp32
and fp16, and its weights' bytes; and across the graphs, the bytes of the distinct weights (by content),
which is what one weights file shared by the encoder, attack and attack-step graphs (ONNX external data)
would hold, in fp32 and in fp16.

Not the shipped format: a measurement. The shipped graphs stay fp32.
"""
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

MIN_ELEMENTS = 16


def float_weights(graph):
    """(kind, holder, tensor) for each float32 weight of at least MIN_ELEMENTS elements."""
    out = []
    for t in graph.initializer:
        if t.data_type == TensorProto.FLOAT and int(np.prod(t.dims)) >= MIN_ELEMENTS:
            out.append(("initializer", None, t))
    for node in graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value" and a.t.data_type == TensorProto.FLOAT and int(np.prod(a.t.dims)) >= MIN_ELEMENTS:
                    out.append(("constant", node, a.t))
    return out


def digest(t):
    return hashlib.sha256(numpy_helper.to_array(t).astype(np.float32).tobytes()).hexdigest()


def to_fp16(model):
    """Rewrites the model in place; returns the fp32 bytes of the weights it converted."""
    graph = model.graph
    weights = float_weights(graph)
    casts = []
    converted = 0
    for kind, node, t in weights:
        array = numpy_helper.to_array(t)
        converted += array.size * 4
        half = numpy_helper.from_array(array.astype(np.float16), t.name)
        if kind == "initializer":
            name = t.name
            t.CopyFrom(half)
            t.name = name + "__fp16"
            casts.append(helper.make_node("Cast", [t.name], [name], to=TensorProto.FLOAT, name=name + "__cast"))
        else:
            output = node.output[0]
            node.output[0] = output + "__fp16"
            for a in node.attribute:
                if a.name == "value":
                    a.t.CopyFrom(half)
            casts.append(helper.make_node("Cast", [node.output[0]], [output], to=TensorProto.FLOAT, name=output + "__cast"))
    # Constant nodes' casts go right after their node; initializers' casts first. A topological
    # order is all ONNX asks for, so put every cast after the Constants and before the rest.
    constants = [n for n in graph.node if n.op_type == "Constant"]
    others = [n for n in graph.node if n.op_type != "Constant"]
    del graph.node[:]
    graph.node.extend(constants + casts + others)
    return converted


def main(src, dst):
    manifest = json.load(open(os.path.join(src, "manifest.json")))
    os.makedirs(dst, exist_ok=True)
    graphs = {}
    union32 = {}
    for role, f in manifest["files"].items():
        model = onnx.load(os.path.join(src, f["path"]))
        weights = float_weights(model.graph)
        weight_bytes = 0
        for _, _, t in weights:
            n = int(np.prod(t.dims)) * 4
            weight_bytes += n
            union32[digest(t)] = n
        to_fp16(model)
        onnx.checker.check_model(model)
        out = os.path.join(dst, f["path"])
        onnx.save(model, out)
        data = open(out, "rb").read()
        graphs[role] = {
            "path": f["path"],
            "fp32Bytes": f["bytes"],
            "fp16Bytes": len(data),
            "weightBytesFp32": weight_bytes,
            "weights": len(weights),
        }
        f["bytes"] = len(data)
        f["sha256"] = hashlib.sha256(data).hexdigest()
    manifest["id"] = os.path.basename(os.path.normpath(dst))
    manifest["name"] = manifest["name"] + " [fp16 weights, a measurement copy]"
    json.dump(manifest, open(os.path.join(dst, "manifest.json"), "w"), indent=2)
    shared32 = sum(union32.values())
    json.dump(
        {
            "source": src,
            "copy": dst,
            "graphs": graphs,
            "sharedWeights": {
                "distinct": len(union32),
                "fp32Bytes": shared32,
                "fp16Bytes": shared32 // 2,
                # Each graph without its weights (what would stay in the .onnx beside one shared weights file).
                "graphsWithoutWeightsBytes": sum(g["fp32Bytes"] - g["weightBytesFp32"] for g in graphs.values()),
            },
        },
        sys.stdout,
    )


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
