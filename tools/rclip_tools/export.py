"""Export an image encoder into the project's model folder format (docs/model-format.md).

Writes ``encoder.onnx``, ``attack.onnx`` (unless --no-attack; with --attack-step also ``attack_step.onnx``) and ``manifest.json`` into
``public/models/<id>/``; --verify checks both graphs in onnxruntime-node against PyTorch before
anything is moved into place; --register adds the model to ``public/models/index.json``.
Progress goes to stderr; with --verify the figures are printed on stdout as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch import nn

from . import gradgraph, stepgraph
from .checkpoints import CheckpointError, check_state_dict, load_torch_file
from .convnet import ConvEncoder, ConvEncoderConfig, count_parameters
from .keras_mobilenet import EMBEDDINGS, ConcatEmbedding, ProjectedEmbedding, architecture_name, load_embedding
from .manifest import Robustness, build_manifest, existing_calibration, parse_eps, read_calibration, register, write_json
from .openclip_vit import (ACTIVATIONS, ARCHITECTURES, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, VisionTransformer,
                           architecture, config_from_open_clip_json, load_vision_tower)
from .verify import verify_export

REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO_ROOT / "public" / "models"

EXAMPLES = """\
examples (run from tools/):
  # a published FARE checkpoint: the files of hf.co/chs20/FARE4-ViT-B-16-laion2B-s34B-b88K in ~/fare4-b16
  /usr/bin/python3 -m rclip_tools.export openclip --checkpoint ~/fare4-b16/open_clip_model.safetensors \\
      --arch ViT-B-16 --activation gelu --id fare4-vit-b-16 --name "FARE4 ViT-B/16" \\
      --robustness FARE --norm linf --eps 4/255 --licence MIT \\
      --source "hf.co/chs20/FARE4-ViT-B-16-laion2B-s34B-b88K" --verify --register

  # a ConvEncoder checkpoint ({"config": ..., "state_dict": ...}, ConvEncoder.checkpoint()) from training
  /usr/bin/python3 -m rclip_tools.export convnet --checkpoint runs/<run>/encoder.pt --trust-pickle \\
      --id rclip-tiny-fare --name "rclip tiny FARE" --robustness FARE --norm linf --eps 4/255 \\
      --recipe "..." --data "..." --licence MIT --verify --register --as default
"""


class UsageError(Exception):
    pass


def log(message: str) -> None:
    print(f"[export] {message}", file=sys.stderr, flush=True)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    weights = common.add_argument_group("weights")
    weights.add_argument("--checkpoint", type=Path, help="weights file (.pt/.pth/.bin/.safetensors)")
    weights.add_argument("--random-init", action="store_true",
                         help="no checkpoint: random weights (for tests and placeholders)")
    weights.add_argument("--trust-pickle", action="store_true",
                         help="unpickle a .pt/.bin fully instead of weights-only (needed for ConvEncoder "
                              "checkpoints under torch 1.13; only for files you made yourself)")
    weights.add_argument("--seed", type=int, default=0, help="seed for --random-init and --verify inputs")
    folder = common.add_argument_group("model folder and manifest")
    folder.add_argument("--id", required=True, help="model id = folder name, e.g. fare4-vit-b-32")
    folder.add_argument("--out", type=Path,
                        help=f"model folder (default {MODELS_DIR.relative_to(REPO_ROOT)}/<id>); its name must be <id>")
    folder.add_argument("--name", required=True, help="short human-readable name")
    folder.add_argument("--description", help="one or two sentences for the manifest (default: architecture and source)")
    folder.add_argument("--robustness", choices=("none", "FARE", "TeCoA"), default="none")
    folder.add_argument("--norm", choices=("linf", "l2"), help="threat model of the robust training")
    folder.add_argument("--eps", help="radius of the robust training in [0,1] pixel units, e.g. 4/255")
    folder.add_argument("--source", help="provenance.source (default: the checkpoint file name)")
    folder.add_argument("--recipe", default="not stated", help="provenance.recipe")
    folder.add_argument("--data", default="not stated", help="provenance.data")
    folder.add_argument("--licence", default="not stated", help="licence of the weights")
    folder.add_argument("--calibration", type=Path,
                        help="JSON file with the model's calibration (verdict bands, dedupe threshold), as "
                             "bench/calibrate.ts prints it; without it a re-export keeps the folder's current one")
    graphs = common.add_argument_group("graphs")
    graphs.add_argument("--no-attack", action="store_true", help="skip attack.onnx (the gradient graph)")
    graphs.add_argument("--attack-step", action="store_true",
                        help="also write attack_step.onnx (one L-inf PGD or APGD step with its projection, around attack.onnx; "
                             "the engine uses it on WebGPU): tools/rclip_tools/stepgraph.py")
    graphs.add_argument("--verify", action="store_true",
                        help="run both graphs in onnxruntime-node and compare with PyTorch before installing")
    index = common.add_argument_group("index.json")
    index.add_argument("--register", action="store_true", help="add/update the entry in <models dir>/index.json")
    index.add_argument("--as", dest="role", choices=("default", "baseline"),
                       help="with --register: make it the default (robust) or the baseline model")

    parser = argparse.ArgumentParser(prog="python -m rclip_tools.export", description=__doc__,
                                     epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="{openclip,convnet,mobilenet}")
    openclip = kinds.add_parser(
        "openclip", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES,
        help="open_clip ViT image tower (chs20 FARE/TeCoA releases, OpenAI/LAION CLIP)")
    openclip.add_argument("--arch", required=True,
                          help=f"{', '.join(ARCHITECTURES)}, or the path of an open_clip config JSON "
                               "(the hub's open_clip_config.json)")
    openclip.add_argument("--activation", choices=ACTIVATIONS,
                          help="MLP activation: gelu for LAION-trained towers (chs20 *-laion2B-* releases), "
                               "quickgelu for OpenAI-initialised ones (chs20/fare2-clip, fare4-clip, tecoa4-clip); "
                               "required with a named --arch, read from quick_gelu in a config JSON")
    kinds.add_parser("convnet", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
                     epilog=EXAMPLES, help="the project's ConvEncoder (tools/rclip_tools/convnet.py)")
    mobilenet = kinds.add_parser(
        "mobilenet", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EXAMPLES,
        help="nsfwjs's MobileNetV2 (and InceptionV3) truncated and pooled (tools/rclip_tools/keras_mobilenet.py): "
             "a PooledEmbedding, ConcatEmbedding (the MobileNetV2 ⊕ InceptionV3 teacher) or ProjectedEmbedding "
             "(its student) checkpoint, e.g. runs/<distill run>/teacher.pt, final.pt, or last.pt (its student)")
    mobilenet.add_argument("--nsfwjs", type=Path, default=REPO_ROOT / "tools" / "runs" / "nsfwjs" / "mobilenet_v2",
                           help="folder written by `node tools/nsfwjs_dump.mjs` (the graph; weights come from "
                                "--checkpoint); other nsfwjs models a checkpoint needs are read from its sibling "
                                "folders (runs/nsfwjs/inception_v3)")
    return parser


def build_openclip(args) -> tuple[nn.Module, dict]:
    if args.arch in ARCHITECTURES:
        if args.activation is None:
            raise UsageError("--activation is required with a named --arch (see --help: gelu for LAION towers, "
                             "quickgelu for OpenAI-initialised ones)")
        config, mean, std = architecture(args.arch, args.activation), OPENAI_CLIP_MEAN, OPENAI_CLIP_STD
        label = "open_clip {}/{}".format(*args.arch.rsplit("-", 1))  # ViT-B-32 -> ViT-B/32
    elif Path(args.arch).is_file():
        config, mean, std = config_from_open_clip_json(args.arch, args.activation)
        label = "open_clip ViT"
    else:
        raise UsageError(f"--arch {args.arch!r} is neither one of {', '.join(ARCHITECTURES)} nor a config file")
    if args.random_init:
        torch.manual_seed(args.seed)
        model = VisionTransformer(config).eval()
    else:
        model = load_vision_tower(args.checkpoint, config, args.trust_pickle)
    description = (f"{label} image tower: {config.layers} layers, width {config.width}, {config.heads} heads, "
                   f"patch {config.patch_size}, {config.image_size}px, "
                   f"{'QuickGELU' if config.activation == 'quickgelu' else 'GELU'}")
    return model, {"architecture": description, "size": config.image_size, "embedding_size": config.embed_dim,
                   "mean": mean, "std": std}


def build_convnet(args) -> tuple[nn.Module, dict]:
    if args.random_init:
        config = ConvEncoderConfig()
        torch.manual_seed(args.seed)
        model = ConvEncoder(config)
    else:
        checkpoint = load_torch_file(args.checkpoint, args.trust_pickle)
        if not isinstance(checkpoint, dict) or "config" not in checkpoint or "state_dict" not in checkpoint:
            raise CheckpointError(f"{args.checkpoint}: expected a ConvEncoder checkpoint "
                                  "{'config': ..., 'state_dict': ...} (ConvEncoder.checkpoint())")
        config = ConvEncoderConfig.from_dict(checkpoint["config"])
        model = ConvEncoder(config)
        try:
            check_state_dict(model, checkpoint["state_dict"])
        except CheckpointError as err:
            raise CheckpointError(f"{args.checkpoint}: {err}") from None
        model.load_state_dict(checkpoint["state_dict"], strict=True)
    model.eval()
    description = (f"ConvEncoder (GroupNorm/GELU residual conv net): widths {list(config.widths)}, depths "
                   f"{list(config.depths)}, {config.image_size}px, {count_parameters(model) / 1e6:.2f} M parameters")
    return model, {"architecture": description, "size": config.image_size, "embedding_size": config.embed_dim,
                   "mean": config.mean, "std": config.std}


def build_mobilenet(args) -> tuple[nn.Module, dict]:
    if args.random_init:
        raise UsageError("mobilenet takes --checkpoint (a PooledEmbedding checkpoint), not --random-init")
    checkpoint = load_torch_file(args.checkpoint, args.trust_pickle)
    if isinstance(checkpoint, dict) and "student" in checkpoint:  # a train_distill state (last.pt)
        log(f"{args.checkpoint}: the student of a train_distill state at step {checkpoint.get('step')}")
        checkpoint = checkpoint["student"]
    if not isinstance(checkpoint, dict) or checkpoint.get("kind") not in EMBEDDINGS:
        raise CheckpointError(f"{args.checkpoint}: expected a PooledEmbedding, ConcatEmbedding or ProjectedEmbedding "
                              "checkpoint (their checkpoint())")
    model = load_embedding(checkpoint, args.nsfwjs).eval()
    config = model.config
    params = f"{config.image_size}px, {count_parameters(model) / 1e6:.2f} M parameters"
    if isinstance(model, ConcatEmbedding):
        description = (f"nsfwjs {config.provenance.get('version')} {model.describe()}, BatchNorm folded, each globally "
                       f"average-pooled minus a fixed centre{', L2-normalised' if model.normalise else ''}, "
                       f"concatenated; {params}")
    else:
        head = ""
        if isinstance(model, ProjectedEmbedding):
            head = f", then a linear projection {model.base.embedding_dim} -> {model.embedding_dim}"
        description = (f"{architecture_name(config)} (nsfwjs {config.provenance.get('version')}) to {config.layer}, "
                       f"BatchNorm folded, global average pool minus a fixed centre{head}; {params}")
    return model, {"architecture": description, "size": config.image_size, "embedding_size": model.embedding_dim,
                   "mean": config.mean, "std": config.std}


def check_args(args) -> Path:
    if args.random_init == (args.checkpoint is not None):
        raise UsageError("give exactly one of --checkpoint PATH and --random-init")
    if args.checkpoint is not None and not args.checkpoint.is_file():
        raise UsageError(f"--checkpoint {args.checkpoint}: no such file")
    if args.role and not args.register:
        raise UsageError("--as needs --register")
    out = (args.out or MODELS_DIR / args.id).resolve()
    if out.name != args.id:
        raise UsageError(f"the model folder's name must equal --id: {out.name!r} != {args.id!r}")
    return out


def export(args) -> dict:
    out = check_args(args)
    # Read (and validate) before any work, so a bad file fails fast; a re-export keeps the old calibration.
    calibration = read_calibration(args.calibration) if args.calibration else existing_calibration(out / "manifest.json")
    robustness = Robustness(args.robustness, args.norm, parse_eps(args.eps) if args.eps is not None else None)
    source = args.source or (f"random init (seed {args.seed})" if args.random_init else args.checkpoint.name)
    log(f"building {args.kind} encoder from {source}")
    builders = {"openclip": build_openclip, "convnet": build_convnet, "mobilenet": build_mobilenet}
    model, info = builders[args.kind](args)
    log(f"{info['architecture']}; embedding {info['embedding_size']}")

    out.parent.mkdir(parents=True, exist_ok=True)
    # Graphs are written and verified in a staging folder next to the target, then moved in, so a
    # failed export or verification never leaves a folder whose manifest does not match its files.
    with tempfile.TemporaryDirectory(prefix=f".{args.id}.", dir=out.parent) as staging:
        staging = Path(staging)
        files = {"encoder": staging / "encoder.onnx"}
        log("exporting encoder.onnx")
        gradgraph.export_encoder(model, info["size"], files["encoder"])
        if not args.no_attack:
            log("tracing and exporting attack.onnx (distance and its gradient w.r.t. the input)")
            files["attack"] = staging / "attack.onnx"
            gradgraph.export_attack(model, info["size"], info["embedding_size"], files["attack"])
            if args.attack_step:
                log("writing attack_step.onnx (one L-inf PGD or APGD step with its projection, around attack.onnx)")
                files["attackStep"] = staging / "attack_step.onnx"
                stepgraph.build_step_graph(files["attack"], info["mean"], info["std"], files["attackStep"])
        figures = None
        if args.verify:
            log("verifying in onnxruntime-node")
            figures = verify_export(model, files["encoder"], files.get("attack"), info["size"], info["mean"],
                                    info["std"], seed=args.seed)
            log(figures.summary())
            problems = figures.problems()
            if problems:
                raise RuntimeError("verification failed, nothing installed: " + "; ".join(problems))
        out.mkdir(exist_ok=True)
        installed = {}
        for role, path in files.items():
            installed[role] = out / path.name
            os.replace(path, installed[role])
    for stale, why in ((out / "attack.onnx", args.no_attack), (out / "attack_step.onnx", args.no_attack or not args.attack_step)):
        if why and stale.exists():
            log(f"removing {stale} (left from an earlier export; not asked for this time)")
            stale.unlink()

    provenance = {
        "source": source,
        "recipe": args.recipe,
        "data": args.data,
        "tool": f"tools/rclip_tools export {args.kind} (torch {torch.__version__}, ONNX opset {gradgraph.OPSET})",
        "date": datetime.now(timezone.utc).date().isoformat(),
    }
    manifest = build_manifest(
        model_id=args.id, name=args.name,
        description=args.description or f"{info['architecture']}; weights: {source}.", architecture=info["architecture"],
        size=info["size"], mean=info["mean"], std=info["std"], embedding_size=info["embedding_size"],
        files=installed, robustness=robustness, provenance=provenance, licence=args.licence, calibration=calibration)
    write_json(out / "manifest.json", manifest)
    if calibration is not None:
        log(f"calibration: {'from ' + str(args.calibration) if args.calibration else 'kept from the previous manifest (re-measure it if the weights changed: bench/calibrate.ts)'}")
    for role, entry in manifest["files"].items():
        log(f"{out / entry['path']}: {entry['bytes'] / 1e6:.2f} MB, sha256 {entry['sha256'][:16]}…")
    log(f"wrote {out / 'manifest.json'}")
    if args.register:
        index_path = out.parent / "index.json"
        for warning in register(index_path, args.id, args.name, args.role):
            log(f"warning: {warning}")
        log(f"registered {args.id} in {index_path}" + (f" as {args.role}" if args.role else ""))
    return {"id": args.id, "folder": str(out), "verify": figures.to_dict() if figures else None}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    try:
        result = export(args)
    except UsageError as err:
        parser.error(str(err))
    except (CheckpointError, ValueError, RuntimeError, NotImplementedError) as err:
        log(f"error: {err}")
        return 1
    if result["verify"] is not None:
        print(json.dumps(result["verify"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
