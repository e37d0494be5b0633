"""Exporter tests: open_clip layout, checkpoint loading, ONNX graphs vs PyTorch in onnxruntime-node.

Tiny towers (width 64, 2 layers, patch 16, 64 px) keep the suite fast; the full B/32, B/16 and L/14
layouts are checked by name and shape only (fake tensors, no memory).
"""

from __future__ import annotations

import hashlib
import json
import struct

import numpy as np
import onnx
import pytest
import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensorMode

from rclip_tools import export, gradgraph
from rclip_tools.checkpoints import CheckpointError, read_safetensors
from rclip_tools.convnet import ConvEncoder, ConvEncoderConfig
from rclip_tools.manifest import register, validate_calibration
from rclip_tools.openclip_vit import (ARCHITECTURES, SelfAttention, VisionTowerConfig, VisionTransformer,
                                      config_from_open_clip_json, load_vision_tower)
from rclip_tools.ort import ort_node_available, run_onnx
from rclip_tools.verify import verify_export

needs_ort = pytest.mark.skipif(
    not ort_node_available(),
    reason="node or node_modules/onnxruntime-node missing (run `npm ci` in the repo root); ONNX checks skipped")

TINY = VisionTowerConfig(image_size=64, patch_size=16, width=64, layers=2, heads=4, embed_dim=32)


def open_clip_visual_layout(width, layers, patch, image_size, embed_dim, mlp_ratio=4.0):
    """The image tower's state dict as open_clip's VisionTransformer (src/open_clip/transformer.py)
    defines it: conv1 without bias, class/positional embeddings, ln_pre, resblocks with an
    nn.MultiheadAttention and an MLP Sequential(c_fc, gelu, c_proj), ln_post, proj."""
    grid, mlp = image_size // patch, int(width * mlp_ratio)
    layout = {
        "class_embedding": (width,),
        "positional_embedding": (grid * grid + 1, width),
        "proj": (width, embed_dim),
        "conv1.weight": (width, 3, patch, patch),
        "ln_pre.weight": (width,), "ln_pre.bias": (width,),
        "ln_post.weight": (width,), "ln_post.bias": (width,),
    }
    for i in range(layers):
        p = f"transformer.resblocks.{i}."
        layout.update({
            p + "ln_1.weight": (width,), p + "ln_1.bias": (width,),
            p + "attn.in_proj_weight": (3 * width, width), p + "attn.in_proj_bias": (3 * width,),
            p + "attn.out_proj.weight": (width, width), p + "attn.out_proj.bias": (width,),
            p + "ln_2.weight": (width,), p + "ln_2.bias": (width,),
            p + "mlp.c_fc.weight": (mlp, width), p + "mlp.c_fc.bias": (mlp,),
            p + "mlp.c_proj.weight": (width, mlp), p + "mlp.c_proj.bias": (width,),
        })
    return layout


# open_clip model_configs: (width, layers, patch, image size, embed_dim) and the towers' known
# parameter counts.
OPEN_CLIP_TOWERS = {
    "ViT-B-32": ((768, 12, 32, 224, 512), 87_849_216),
    "ViT-B-16": ((768, 12, 16, 224, 512), 86_192_640),
    "ViT-L-14": ((1024, 24, 14, 224, 768), 303_966_208),
}


@pytest.mark.parametrize("arch", sorted(OPEN_CLIP_TOWERS))
def test_full_size_layout_matches_open_clip(arch):
    dims, parameters = OPEN_CLIP_TOWERS[arch]
    with FakeTensorMode():
        state = VisionTransformer(ARCHITECTURES[arch]).state_dict()
    ours = {k: tuple(v.shape) for k, v in state.items()}
    assert ours == open_clip_visual_layout(*dims)
    assert sum(int(np.prod(s)) for s in ours.values()) == parameters


def test_config_from_hub_open_clip_config(tmp_path):
    # chs20/TeCoA4-ViT-B-32-laion2B-s34B-b79K's open_clip_config.json (no quick_gelu: GELU).
    hub = {"model_cfg": {"embed_dim": 512, "vision_cfg": {"image_size": 224, "layers": 12, "width": 768,
                                                          "patch_size": 32},
                         "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8,
                                      "layers": 12}},
           "preprocess_cfg": {"mean": [0.48145466, 0.4578275, 0.40821073],
                              "std": [0.26862954, 0.26130258, 0.27577711],
                              "interpolation": "bicubic", "resize_mode": "shortest"}}
    path = tmp_path / "open_clip_config.json"
    path.write_text(json.dumps(hub))
    config, mean, std = config_from_open_clip_json(path)
    assert config == ARCHITECTURES["ViT-B-32"] and config.activation == "gelu"
    assert mean == tuple(hub["preprocess_cfg"]["mean"]) and std == tuple(hub["preprocess_cfg"]["std"])
    hub["model_cfg"]["quick_gelu"] = True
    path.write_text(json.dumps(hub))
    assert config_from_open_clip_json(path)[0].activation == "quickgelu"
    hub["model_cfg"]["vision_cfg"]["attentional_pool"] = True
    path.write_text(json.dumps(hub))
    with pytest.raises(ValueError, match="attentional_pool"):
        config_from_open_clip_json(path)


def test_self_attention_matches_nn_multihead_attention():
    torch.manual_seed(0)
    ours = SelfAttention(64, 4)
    nn.init.normal_(ours.in_proj_bias)
    reference = nn.MultiheadAttention(64, 4, batch_first=True)
    reference.load_state_dict(ours.state_dict())  # same parameter names and shapes
    x = torch.randn(2, 17, 64)
    with torch.no_grad():
        expected, _ = reference(x, x, x, need_weights=False)
        assert torch.allclose(ours(x), expected, atol=1e-6)


def open_clip_forward(state: dict[str, torch.Tensor], config: VisionTowerConfig, x: torch.Tensor) -> torch.Tensor:
    """open_clip's VisionTransformer.forward transcribed op by op (sequence-first transformer with
    nn.MultiheadAttention, ln_post over all tokens, then the class token, then proj), as an
    independent reference for the batch-first, hand-written attention of our module."""
    width = config.width
    act = (lambda t: t * torch.sigmoid(1.702 * t)) if config.activation == "quickgelu" else nn.functional.gelu
    ln = lambda t, p: nn.functional.layer_norm(t, (width,), state[p + ".weight"], state[p + ".bias"])
    x = nn.functional.conv2d(x, state["conv1.weight"], stride=config.patch_size)
    x = x.reshape(x.shape[0], x.shape[1], -1).permute(0, 2, 1)
    x = torch.cat([state["class_embedding"].view(1, 1, -1).expand(x.shape[0], -1, -1), x], dim=1)
    x = ln(x + state["positional_embedding"], "ln_pre").permute(1, 0, 2)  # NLD -> LND
    for i in range(config.layers):
        p = f"transformer.resblocks.{i}."
        attn = nn.MultiheadAttention(width, config.heads)
        attn.load_state_dict({k[len(p + "attn."):]: v for k, v in state.items() if k.startswith(p + "attn.")})
        h = ln(x, p + "ln_1")
        x = x + attn(h, h, h, need_weights=False)[0]
        h = nn.functional.linear(ln(x, p + "ln_2"), state[p + "mlp.c_fc.weight"], state[p + "mlp.c_fc.bias"])
        x = x + nn.functional.linear(act(h), state[p + "mlp.c_proj.weight"], state[p + "mlp.c_proj.bias"])
    x = ln(x.permute(1, 0, 2), "ln_post")
    return x[:, 0] @ state["proj"]


def tiny_tower(activation="gelu", seed=0) -> VisionTransformer:
    torch.manual_seed(seed)
    model = VisionTransformer(VisionTowerConfig(**{**TINY.to_dict(), "activation": activation})).eval()
    for p in model.parameters():  # random but not the default zeros/ones, so loading is really tested
        nn.init.normal_(p, std=0.2)
    return model


@pytest.mark.parametrize("activation", ["gelu", "quickgelu"])
def test_tower_matches_open_clip_forward(activation):
    model = tiny_tower(activation)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(x), open_clip_forward(model.state_dict(), model.config, x), atol=1e-5)


def write_safetensors(path, tensors: dict[str, torch.Tensor], dtype="F32"):
    """Writer for the test (the exporter only reads): header length u64 LE, JSON header, data."""
    np_dtype = {"F32": "<f4", "F16": "<f2"}[dtype]
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, tensor in tensors.items():
        data = tensor.detach().numpy().astype(np_dtype).tobytes()
        header[name] = {"dtype": dtype, "shape": list(tensor.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header_bytes = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(header_bytes)) + header_bytes + b"".join(chunks))


def full_clip_state(model: VisionTransformer) -> dict[str, torch.Tensor]:
    """An open_clip CLIP state dict: visual.* plus text-tower entries the loader must ignore."""
    state = {f"visual.{k}": v for k, v in model.state_dict().items()}
    state.update({"positional_embedding": torch.zeros(77, 32), "transformer.resblocks.0.ln_1.weight": torch.ones(32),
                  "text_projection": torch.zeros(32, 32), "logit_scale": torch.tensor(4.6)})
    return state


def assert_same_outputs(a: nn.Module, b: nn.Module, atol=0.0):
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(a(x), b(x), atol=atol)


@pytest.mark.parametrize("layout", ["full-clip-wrapped.pt", "bare-visual.bin", "full-clip.safetensors",
                                    "bare-fp16.safetensors"])
def test_loader_round_trips(tmp_path, layout):
    model = tiny_tower()
    path = tmp_path / layout
    if layout == "full-clip-wrapped.pt":  # DataParallel prefix inside {"state_dict": ...}
        torch.save({"state_dict": {f"module.{k}": v for k, v in full_clip_state(model).items()}, "epoch": 3}, path)
    elif layout == "bare-visual.bin":
        torch.save(model.state_dict(), path)
    elif layout == "full-clip.safetensors":
        write_safetensors(path, full_clip_state(model))
    else:
        write_safetensors(path, model.state_dict(), dtype="F16")
    loaded = load_vision_tower(path, model.config)
    if layout == "bare-fp16.safetensors":
        assert read_safetensors(path)["proj"].dtype == torch.float16
        assert_same_outputs(model.half().float(), loaded, atol=1e-5)  # fp16 rounding of the weights
    else:
        assert_same_outputs(model, loaded)


def test_loader_rejects_tampered_state_dict(tmp_path):
    state = tiny_tower().state_dict()
    del state["transformer.resblocks.1.mlp.c_fc.bias"]
    state["transformer.resblocks.0.attn.q_proj.weight"] = torch.zeros(64, 64)
    state["proj"] = torch.zeros(64, 16)
    path = tmp_path / "tampered.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError) as error:
        load_vision_tower(path, TINY)
    message = str(error.value)
    assert "missing keys (1): transformer.resblocks.1.mlp.c_fc.bias" in message
    assert "unexpected keys (1): transformer.resblocks.0.attn.q_proj.weight" in message
    assert "proj: checkpoint (64, 16), model (64, 32)" in message


def test_loader_rejects_wrong_architecture(tmp_path):
    path = tmp_path / "tiny.safetensors"
    write_safetensors(path, tiny_tower().state_dict())
    wider = VisionTowerConfig(**{**TINY.to_dict(), "layers": 3})
    with pytest.raises(CheckpointError, match=r"missing keys \(12\): transformer\.resblocks\.2\."):
        load_vision_tower(path, wider)


def export_and_verify(model, size: int, embed_dim: int, folder, mean=(0.5,) * 3, std=(0.25,) * 3):
    """Exports `model`'s encoder and attack graphs into `folder` and compares them with PyTorch
    (forward and input gradient, onnxruntime-node): the check every graph test runs."""
    gradgraph.export_encoder(model, size, folder / "encoder.onnx")
    gradgraph.export_attack(model, size, embed_dim, folder / "attack.onnx")
    return verify_export(model, folder / "encoder.onnx", folder / "attack.onnx", size, mean, std)


@needs_ort
@pytest.mark.parametrize("activation", ["gelu", "quickgelu"])
def test_tiny_tower_graphs_match_pytorch(tmp_path, activation):
    model = tiny_tower(activation)
    figures = export_and_verify(model, 64, 32, tmp_path, (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711))
    print(activation, figures.summary())
    assert figures.forward_max_abs_diff <= 1e-4
    assert figures.distance_abs_diff <= 1e-5
    assert figures.grad_rel_diff <= 1e-4


class MixedOpsEncoder(nn.Module):
    """Ops the ViT and ConvEncoder do not use: odd input size with stride 2 (output_padding),
    dilation, groups, ReLU, SiLU, a strided-free slice and a select."""

    def __init__(self):
        super().__init__()
        self.conv_a = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv_b = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=4)
        self.norm = nn.GroupNorm(2, 8)
        self.head = nn.Linear(8 * 2, 12)

    def forward(self, x):
        h = torch.relu(self.conv_a(x))
        h = nn.functional.silu(self.norm(self.conv_b(h)))
        h = h[:, :, 1:-1, 1:-1].mean(dim=3)                         # slice, then N,C,H'
        return self.head(torch.cat([h[:, :, 0], h.mean(dim=2)], 1))  # select


@needs_ort
def test_attack_graph_covers_other_ops(tmp_path):
    torch.manual_seed(0)
    model = MixedOpsEncoder().eval()
    figures = export_and_verify(model, 33, 12, tmp_path)
    print(figures.summary())
    assert figures.forward_max_abs_diff <= 1e-4 and figures.grad_rel_diff <= 1e-4


def cli(tmp_path, *args):
    """Runs the CLI into tmp_path/models; returns the folder and the parsed stdout (verify figures)."""
    return export.main([*args, "--out", str(tmp_path / "models" / args[args.index("--id") + 1])])


def file_sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@needs_ort
def test_cli_openclip_from_safetensors_and_hub_config(tmp_path, capsys):
    model = tiny_tower("quickgelu", seed=3)
    write_safetensors(tmp_path / "open_clip_model.safetensors", full_clip_state(model))
    (tmp_path / "open_clip_config.json").write_text(json.dumps({
        "model_cfg": {"embed_dim": 32, "quick_gelu": True,
                      "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 16}}}))
    code = cli(tmp_path, "openclip", "--checkpoint", str(tmp_path / "open_clip_model.safetensors"),
               "--arch", str(tmp_path / "open_clip_config.json"), "--id", "tiny-vit", "--name", "tiny ViT",
               "--robustness", "FARE", "--norm", "linf", "--eps", "4/255", "--verify", "--register", "--as", "default")
    assert code == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["forward_max_abs_diff"] <= 1e-4 and figures["grad_rel_diff"] <= 1e-4
    folder = tmp_path / "models" / "tiny-vit"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["id"] == "tiny-vit" and manifest["embeddingSize"] == 32 and manifest["input"]["size"] == 64
    assert manifest["robustness"] == {"method": "FARE", "norm": "linf", "eps": 4 / 255, "measured": None}
    assert "QuickGELU" in manifest["architecture"]
    for entry in manifest["files"].values():
        path = folder / entry["path"]
        assert entry["bytes"] == path.stat().st_size and entry["sha256"] == file_sha256(path)
    index = json.loads((tmp_path / "models" / "index.json").read_text())
    assert index["default"] == "tiny-vit" and index["models"] == [{"id": "tiny-vit", "path": "tiny-vit/", "name": "tiny ViT"}]


@needs_ort
def test_cli_convnet_checkpoint_exports_the_same_way(tmp_path, capsys):
    torch.manual_seed(0)
    encoder = ConvEncoder(ConvEncoderConfig(widths=(16, 32), depths=(1, 1), embed_dim=24, image_size=32, groups=4))
    torch.save(encoder.checkpoint(), tmp_path / "encoder.pt")
    code = cli(tmp_path, "convnet", "--checkpoint", str(tmp_path / "encoder.pt"), "--trust-pickle", "--id", "tiny-conv",
               "--name", "tiny conv", "--verify", "--register", "--as", "baseline")
    assert code == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["forward_max_abs_diff"] <= 1e-4 and figures["grad_rel_diff"] <= 1e-4
    manifest = json.loads((tmp_path / "models" / "tiny-conv" / "manifest.json").read_text())
    assert manifest["embeddingSize"] == 24 and manifest["input"]["size"] == 32
    assert manifest["robustness"] == {"method": "none", "norm": None, "eps": None, "measured": None}
    assert set(manifest["files"]) == {"encoder", "attack"} and manifest["description"]


@needs_ort
def test_dynamic_batch_encoder_has_no_shape_ops(tmp_path):
    # GroupNorm's reshape-back to Shape(x) would put Shape (+ a layout Gather) on the CPU in onnxruntime-web.
    torch.manual_seed(0)
    encoder = ConvEncoder(ConvEncoderConfig(widths=(16, 32), depths=(1, 1), embed_dim=24, image_size=32, groups=4)).eval()
    path = tmp_path / "encoder.onnx"
    gradgraph.export_encoder(encoder, 32, path)
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert "Shape" not in ops and "Reshape" in ops
    for batch in (1, 3):
        x = torch.randn(batch, 3, 32, 32)
        got = run_onnx(path, {"input": x.numpy()})["embedding"]
        with torch.no_grad():
            assert np.abs(got - encoder(x).numpy()).max() <= 1e-4


class _ConvRelu6(nn.Module):
    """Conv then ReLU6 written as keras_mobilenet.py writes it (clamp_min then clamp_max)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2)

    def forward(self, x):
        return self.conv(x).clamp_min(0).clamp_max(6).mean(dim=(2, 3))


def test_relu6_is_one_clip_with_both_bounds(tmp_path):
    # onnxruntime-web's WebGPU EP drops the min of Conv -> Clip(min) -> Clip(max) once it fuses the
    # convolution with its activation; the exporter merges the pair (gradgraph.merge_clip_pairs).
    torch.manual_seed(0)
    encoder = _ConvRelu6().eval()
    with torch.no_grad():
        encoder.conv.bias.fill_(-0.5)  # negative pre-activations, so a lost min would show
    path = tmp_path / "encoder.onnx"
    gradgraph.export_encoder(encoder, 17, path)
    graph = onnx.load(str(path)).graph
    clips = [n for n in graph.node if n.op_type == "Clip"]
    assert len(clips) == 1 and len(clips[0].input) == 3 and all(clips[0].input)
    if ort_node_available():
        x = torch.rand(2, 3, 17, 17)
        got = run_onnx(path, {"input": x.numpy()})["embedding"]
        with torch.no_grad():
            assert np.abs(got - encoder(x).numpy()).max() <= 1e-5


def test_cli_convnet_rejects_tampered_checkpoint(tmp_path, capsys):
    checkpoint = ConvEncoder(ConvEncoderConfig(widths=(16, 32), depths=(1, 1), embed_dim=24, image_size=32,
                                               groups=4)).checkpoint()
    checkpoint["state_dict"]["proj.weight"] = torch.zeros(24, 99)
    torch.save(checkpoint, tmp_path / "encoder.pt")
    code = cli(tmp_path, "convnet", "--checkpoint", str(tmp_path / "encoder.pt"), "--trust-pickle", "--id", "bad",
               "--name", "bad")
    assert code == 1
    assert "proj.weight: checkpoint (24, 99), model (24, 32)" in capsys.readouterr().err
    assert not (tmp_path / "models" / "bad").exists()


def test_cli_rejects_bad_arguments_before_any_work(tmp_path, capsys):
    with pytest.raises(SystemExit):  # named arch without --activation
        cli(tmp_path, "openclip", "--random-init", "--arch", "ViT-B-32", "--id", "x", "--name", "x")
    with pytest.raises(SystemExit):  # folder name differs from the id
        export.main(["convnet", "--random-init", "--id", "x", "--name", "x", "--out", str(tmp_path / "y")])
    assert cli(tmp_path, "convnet", "--random-init", "--id", "x", "--name", "x", "--robustness", "FARE") == 1
    assert "needs --norm" in capsys.readouterr().err
    assert not (tmp_path / "models").exists()


def test_register_updates_in_place(tmp_path):
    index_path = tmp_path / "index.json"
    register(index_path, "a", "A", "default")
    assert register(index_path, "b", "B", "baseline") == []
    register(index_path, "a", "A renamed")
    index = json.loads(index_path.read_text())
    assert index == {"default": "a", "baseline": "b",
                     "models": [{"id": "a", "path": "a/", "name": "A renamed"}, {"id": "b", "path": "b/", "name": "B"}]}


CALIBRATION = {"bands": [{"below": 0.01, "label": "near-identical"}, {"below": 0.1, "label": "similar"},
                         {"below": None, "label": "different"}], "dedupeThreshold": 0.1, "source": "test"}


def test_calibration_is_validated_like_the_runtime_does():
    assert validate_calibration(CALIBRATION) == CALIBRATION
    for broken in ({**CALIBRATION, "bands": []}, {**CALIBRATION, "dedupeThreshold": 0},
                   {**CALIBRATION, "bands": [{"below": 0.1, "label": "a"}, {"below": 0.05, "label": "b"}, {"below": None, "label": "c"}]},
                   {**CALIBRATION, "bands": [{"below": 0.1, "label": "a"}, {"below": 3, "label": "c"}]}):
        with pytest.raises(ValueError):
            validate_calibration(broken)


def test_cli_writes_calibration_from_file_and_keeps_it_on_reexport(tmp_path, capsys):
    (tmp_path / "calibration.json").write_text(json.dumps(CALIBRATION))
    args = ("convnet", "--random-init", "--id", "tiny-cal", "--name", "tiny cal", "--no-attack")
    assert cli(tmp_path, *args, "--calibration", str(tmp_path / "calibration.json")) == 0
    manifest_path = tmp_path / "models" / "tiny-cal" / "manifest.json"
    assert json.loads(manifest_path.read_text())["calibration"] == CALIBRATION
    assert cli(tmp_path, *args) == 0, "a re-export without --calibration"
    assert json.loads(manifest_path.read_text())["calibration"] == CALIBRATION
    (tmp_path / "bad.json").write_text(json.dumps({**CALIBRATION, "dedupeThreshold": 5}))
    assert cli(tmp_path, *args, "--calibration", str(tmp_path / "bad.json")) != 0
    assert json.loads(manifest_path.read_text())["calibration"] == CALIBRATION, "a bad file changes nothing"


@needs_ort
def test_attack_step_graph_is_one_projected_linf_step(tmp_path, capsys):
    """--attack-step: attack_step.onnx, listed with its hash, computes the JS steps of src/core/attack.ts:
    PGD's (momentum 1, x_prev = x) and APGD's (z, then the momentum step, both projected)."""
    torch.manual_seed(0)
    encoder = ConvEncoder(ConvEncoderConfig(widths=(8, 16), depths=(1, 1), embed_dim=16, image_size=16, groups=4))
    torch.save(encoder.checkpoint(), tmp_path / "encoder.pt")
    assert cli(tmp_path, "convnet", "--checkpoint", str(tmp_path / "encoder.pt"), "--trust-pickle", "--id", "tiny-step",
               "--name", "tiny step", "--attack-step") == 0
    folder = tmp_path / "models" / "tiny-step"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["files"]["attackStep"] == {"path": "attack_step.onnx", "sha256": file_sha256(folder / "attack_step.onnx"),
                                               "bytes": (folder / "attack_step.onnx").stat().st_size}
    mean = np.array(manifest["input"]["mean"], dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.array(manifest["input"]["std"], dtype=np.float32).reshape(1, 3, 1, 1)
    rng = np.random.default_rng(0)
    x0 = rng.random((1, 3, 16, 16), dtype=np.float32)
    eps = 4 / 255
    project = lambda y: np.clip(x0 + np.clip(y - x0, -eps, eps), 0, 1)
    x = project(x0 + rng.uniform(-eps, eps, x0.shape).astype(np.float32))
    x_prev = project(x0 + rng.uniform(-eps, eps, x0.shape).astype(np.float32))
    target = rng.standard_normal((1, 16)).astype(np.float32)
    target /= np.linalg.norm(target)
    ref = run_onnx(folder / "attack.onnx", {"input": (x - mean) / std, "target": target})
    f32 = lambda v: np.array([v], np.float32)
    # PGD (descending), APGD's first step (momentum 1) and a later one (0.75, ascending by 2·eps).
    for alpha, momentum, prev in ((-1 / 255, 1.0, x), (2 * eps, 1.0, x_prev), (2 * eps, 0.75, x_prev)):
        step = run_onnx(folder / "attack_step.onnx", {"x": x, "x_prev": prev, "x0": x0, "target": target, "eps": f32(eps),
                                                      "alpha": f32(alpha), "momentum": f32(momentum)})
        z = project(x + alpha * np.sign(ref["grad"]))
        expected = project(x + momentum * (z - x) + (1 - momentum) * (x - prev))
        assert np.abs(step["x_next"] - expected).max() <= 1e-6, (alpha, momentum)
        assert abs(step["stats"][0] - ref["distance"][0]) <= 1e-6
        assert abs(step["stats"][1] - np.abs(x - x0).max()) <= 1e-7
        assert np.abs(step["x_next"] - x0).max() <= eps + 1e-6
