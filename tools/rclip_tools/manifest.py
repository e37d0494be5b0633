"""Writes a model folder's ``manifest.json`` and updates ``public/models/index.json``
(contract: docs/model-format.md)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

FORMAT_VERSION = 1
ROBUSTNESS_METHODS = ("none", "FARE", "TeCoA")
NORMS = ("linf", "l2")


def parse_eps(text: str) -> float:
    """'4/255' or '0.0157' → float (in [0,1] pixel units, > 0 as the runtime's manifest check requires)."""
    try:
        value = float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"eps must be a number or a fraction like 4/255, got {text!r}") from None
    if not value > 0:
        raise ValueError(f"eps must be positive, got {text!r}")
    return value


def file_entry(path: Path) -> dict:
    data = path.read_bytes()
    return {"path": path.name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


@dataclass
class Robustness:
    method: str = "none"
    norm: str | None = None
    eps: float | None = None

    def __post_init__(self):
        if self.method not in ROBUSTNESS_METHODS:
            raise ValueError(f"robustness method must be one of {ROBUSTNESS_METHODS}, got {self.method!r}")
        if self.method == "none":
            if self.norm is not None or self.eps is not None:
                raise ValueError("--norm/--eps describe a robust training; they need --robustness FARE or TeCoA")
        elif self.norm not in NORMS or self.eps is None:
            raise ValueError(f"robustness {self.method} needs --norm ({'/'.join(NORMS)}) and --eps")

    def to_json(self) -> dict:
        return {"method": self.method, "norm": self.norm, "eps": self.eps, "measured": None}


def validate_calibration(calibration, where: str = "calibration") -> dict:
    """The manifest's optional ``calibration`` (verdict bands and dedupe threshold), checked by the same
    rules as src/core/manifest.ts: bands with strictly increasing upper bounds in (0, 2], the last one's
    ``below`` null; ``dedupeThreshold`` in (0, 2]; an optional ``source`` string."""
    def bad(problem: str):
        raise ValueError(f"{where}: {problem}")

    def is_distance(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and 0 < x <= 2

    if not isinstance(calibration, dict):
        bad("must be an object")
    bands = calibration.get("bands")
    if not isinstance(bands, list) or not bands:
        bad("bands must be a non-empty array")
    previous = 0
    for i, band in enumerate(bands):
        if not isinstance(band, dict) or not isinstance(band.get("label"), str) or not band["label"]:
            bad(f"bands[{i}] must be an object with a non-empty label")
        below = band.get("below", "missing")
        if i == len(bands) - 1:
            if below is not None:
                bad(f"bands[{i}].below must be null (the last band has no upper bound)")
        elif not is_distance(below) or below <= previous:
            bad(f"bands[{i}].below must be a distance in (0, 2] above the previous bound ({previous})")
        else:
            previous = below
    if not is_distance(calibration.get("dedupeThreshold")):
        bad("dedupeThreshold must be a distance in (0, 2]")
    if "source" in calibration and not isinstance(calibration["source"], str):
        bad("source must be a string")
    return calibration


def read_calibration(path: Path) -> dict:
    """A calibration file (the object bench/calibrate.ts prints), validated."""
    return validate_calibration(json.loads(Path(path).read_text()), str(path))


def existing_calibration(manifest_path: Path) -> dict | None:
    """The calibration of the manifest being replaced, if any: a re-export keeps it."""
    if not manifest_path.exists():
        return None
    calibration = json.loads(manifest_path.read_text()).get("calibration")
    return None if calibration is None else validate_calibration(calibration, f"{manifest_path}: calibration")


def build_manifest(*, model_id: str, name: str, description: str, architecture: str, size: int,
                   mean, std, embedding_size: int, files: dict[str, Path], robustness: Robustness,
                   provenance: dict, licence: str, calibration: dict | None = None) -> dict:
    manifest = {
        "formatVersion": FORMAT_VERSION,
        "id": model_id,
        "name": name,
        "description": description,
        "architecture": architecture,
        "input": {
            "size": size,
            "mean": [float(m) for m in mean],
            "std": [float(s) for s in std],
            "resize": "bicubic",
            "crop": "center",
            "background": [1, 1, 1],
        },
        "embeddingSize": embedding_size,
        # Hashes and sizes of the files as written, so they must be final before this is called.
        "files": {role: file_entry(path) for role, path in files.items()},
        "robustness": robustness.to_json(),
        "provenance": provenance,
        "licence": licence,
    }
    if calibration is not None:
        manifest["calibration"] = validate_calibration(calibration)
    return manifest


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def register(index_path: Path, model_id: str, name: str, role: str | None = None) -> list[str]:
    """Add or update the model's entry in index.json (creating it if needed); ``role`` 'default' or
    'baseline' also points that slot at it. Returns warnings about an incomplete index."""
    index = json.loads(index_path.read_text()) if index_path.exists() else {"models": []}
    entry = {"id": model_id, "path": f"{model_id}/", "name": name}
    models = [m for m in index.get("models", []) if m.get("id") != model_id]
    position = next((i for i, m in enumerate(index.get("models", [])) if m.get("id") == model_id), len(models))
    models.insert(position, entry)
    index["models"] = models
    if role is not None:
        if role not in ("default", "baseline"):
            raise ValueError(f"role must be 'default' or 'baseline', got {role!r}")
        index[role] = model_id
    ordered = {k: index[k] for k in ("default", "baseline") if k in index}
    ordered.update({k: v for k, v in index.items() if k not in ordered})
    index_path.parent.mkdir(parents=True, exist_ok=True)
    write_json(index_path, ordered)
    known = {m["id"] for m in models}
    return [f"{index_path}: no '{slot}' model yet (register one with --as {slot})" if slot not in ordered
            else f"{index_path}: '{slot}' points at {ordered[slot]!r}, which has no entry"
            for slot in ("default", "baseline") if slot not in ordered or ordered[slot] not in known]
