"""Training-time proxies for the benchmark suite (the TypeScript suite is the reference): semantic
2AFC with WordNet ground truth, copy retrieval recall@1, and push-apart drift, clean, under PGD-10
L-inf 4/255 (the columns of the earlier runs) and under APGD (apgd.py, 100 iterations by default) at
4/255 and 2/255 on each task's margin, on the evaluation split only.

Semantic triplets: the ImageNet file names start with a WordNet 3.0 noun offset. For a reference
photo, "related" is the evaluation photo whose class shares the deepest common hypernym with it
(depth >= RELATED_MIN_DEPTH, depth = shortest hypernym path to `entity`), "unrelated" a seeded
choice among photos whose deepest common hypernym has depth <= UNRELATED_MAX_DEPTH.
Copy retrieval: the gallery is every evaluation photo; each query is a seeded edited copy (crop,
colour jitter, JPEG q60) that must retrieve its own original.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch
from torch import nn

from . import augment
from .apgd import apgd_linf
from .proxy_eval import cosine_distance, jpeg, push_apart_drift

WORDNET_NOUNS = Path("/usr/share/wordnet/data.noun")
RELATED_MIN_DEPTH = 6
UNRELATED_MAX_DEPTH = 4


@functools.lru_cache(maxsize=1)
def hypernyms(path: Path = WORDNET_NOUNS) -> dict[str, list[str]]:
    """noun offset -> offsets of its hypernyms (@ and @i pointers)."""
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: apt-get install wordnet-base (scripts/setup.sh --all)")
    graph: dict[str, list[str]] = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith("  "):
            continue
        f = line.split(" ")
        w_cnt = int(f[3], 16)
        i = 4 + 2 * w_cnt
        p_cnt = int(f[i])
        ptrs = f[i + 1:i + 1 + 4 * p_cnt]
        graph[f[0]] = [ptrs[j + 1] for j in range(0, len(ptrs), 4) if ptrs[j] in ("@", "@i") and ptrs[j + 2] == "n"]
    return graph


def ancestors_with_depth(offset: str) -> dict[str, int]:
    """Every hypernym of `offset` (itself included) -> its depth (shortest path from the root)."""
    graph = hypernyms()
    seen, frontier = {offset}, [offset]
    while frontier:
        frontier = [h for s in frontier for h in graph.get(s, []) if h not in seen]
        seen.update(frontier)
    depth: dict[str, int] = {}
    def d(s: str) -> int:
        if s not in depth:
            hs = graph.get(s, [])
            depth[s] = 0 if not hs else 1 + min(d(h) for h in hs)
        return depth[s]
    return {s: d(s) for s in seen}


def common_depth(a: str, b: str) -> int:
    aa, bb = ancestors_with_depth(a), ancestors_with_depth(b)
    return max(aa[s] for s in aa.keys() & bb.keys())


def semantic_triplets(wnids: list[str], seed: int = 0) -> list[tuple[int, int, int]]:
    """(ref, related, unrelated) indices into wnids."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i, a in enumerate(wnids):
        depths = [(common_depth(a[1:], b[1:]) if j != i else -1) for j, b in enumerate(wnids)]
        best = max(depths)
        if best < RELATED_MIN_DEPTH:
            continue
        related = min(j for j, dj in enumerate(depths) if dj == best)
        far = [j for j, dj in enumerate(depths) if 0 <= dj <= UNRELATED_MAX_DEPTH]
        if far:
            out.append((i, related, far[int(torch.randint(len(far), (1,), generator=g))]))
    return out


def edited_copies(images: torch.Tensor, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    size = images.shape[-1]
    copy = augment.random_resized_crop(images * 255, size, g, scale=(0.6, 0.9))
    copy = augment.color_jitter(copy, g, 0.15, 0.15, 0.15, 0.02, p=1.0)
    return jpeg(copy, 60)


def _embed(model: nn.Module, x: torch.Tensor, batch: int = 32) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([model(x[i:i + batch]) for i in range(0, len(x), batch)])


def pgd_linf(model: nn.Module, x: torch.Tensor, objective, eps: float, steps: int, step_size: float) -> torch.Tensor:
    """Maximises objective(embedding) (per image) from delta = 0; returns the adversarial pixels."""
    delta = torch.zeros_like(x)
    for _ in range(steps):
        delta.requires_grad_(True)
        obj = objective(model((x + delta).clamp(0, 1)))
        grad, = torch.autograd.grad(obj.sum(), delta)
        delta = (delta.detach() + step_size * grad.sign()).clamp(-eps, eps)
        delta = (x + delta).clamp(0, 1) - x
    return (x + delta).detach()


def _margin_robust(model: nn.Module, x: torch.Tensor, margin, eps: float, iters: int, seed: int) -> torch.Tensor:
    """Bool [N]: margin(embedding) < 0 at the clean point and at every point APGD evaluates."""
    with torch.no_grad():
        ok = margin(model(x)) < 0
    def track(loss: torch.Tensor) -> None:
        ok.logical_and_(loss < 0)
    apgd_linf(lambda z: margin(model(z)), x, eps, iters, torch.Generator().manual_seed(seed), on_iterate=track)
    return ok


def evaluate_suite(model: nn.Module, images: torch.Tensor, wnids: list[str], eps: float = 4 / 255,
                   steps: int = 10, attacked: int = 48, batch: int = 16, apgd_iters: int = 100,
                   apgd_eps: tuple[float, ...] = (4 / 255, 2 / 255)) -> dict:
    """Proxy figures: semantic 2AFC (all triplets clean, the first `attacked` under attack), copy
    recall@1 (clean, and the first `attacked` queries under attack), push-apart drift relative to the
    median distance between two different photos. Attacks: PGD-10 at `eps` as in the earlier runs
    (copy: pushing the query away from its original; keys *_pgd), and APGD-`apgd_iters` on each task's
    margin at each radius of `apgd_eps` (semantic: d(x, related) - d(x, unrelated); copy: d(x, own) -
    the distance to the nearest other gallery photo; keys *_apgd<eps*255>), where an item counts only
    if no point the attack evaluates flips it."""
    model.eval()
    step_size = eps / 4
    emb = _embed(model, images)
    trip = torch.tensor(semantic_triplets(wnids), dtype=torch.long).reshape(-1, 3)
    r, p, n = trip[:, 0], trip[:, 1], trip[:, 2]
    clean_ok = cosine_distance(emb[r], emb[p]) < cosine_distance(emb[r], emb[n])
    adv_ok = []
    for s in range(0, min(attacked, len(trip)), batch):
        ri, pi, ni = r[s:s + batch], p[s:s + batch], n[s:s + batch]
        ep, en = emb[pi], emb[ni]
        adv = pgd_linf(model, images[ri], lambda e: cosine_distance(e, ep) - cosine_distance(e, en), eps, steps, step_size)
        ea = _embed(model, adv)
        adv_ok.append((cosine_distance(ea, ep) < cosine_distance(ea, en)) & clean_ok[s:s + batch])
    queries = edited_copies(images.cpu()).to(images.device)  # the JPEG step runs in PIL
    q = _embed(model, queries)
    gallery = torch.nn.functional.normalize(emb, dim=1)
    def hits(e: torch.Tensor, first: int) -> torch.Tensor:
        nearest = (torch.nn.functional.normalize(e, dim=1) @ gallery.T).argmax(1)
        return nearest == torch.arange(first, first + len(e), device=nearest.device)
    clean_hit = hits(q, 0)
    adv_hit = []
    for s in range(0, min(attacked, len(q)), batch):
        own = emb[s:s + batch]
        adv = pgd_linf(model, queries[s:s + batch], lambda e: cosine_distance(e, own), eps, steps, step_size)
        adv_hit.append(hits(_embed(model, adv), s))
    pair = cosine_distance(emb, emb.roll(1, 0))
    drift = push_apart_drift(model, images[:attacked], eps, steps, step_size).item() if attacked else 0.0
    figures = {"semantic_clean": clean_ok.float().mean().item() if len(trip) else None, "semantic_pgd": torch.cat(adv_ok).float().mean().item() if adv_ok else None,
               "triplets": len(trip), "copy_r1_clean": clean_hit.float().mean().item(),
               "copy_r1_pgd": torch.cat(adv_hit).float().mean().item() if adv_hit else None, "drift": drift,
               "median_pair_distance": pair.median().item(), "relative_drift": drift / pair.median().item()}
    if not attacked or not apgd_iters:
        return figures
    # Each item's outcome (1 = right), so that two runs evaluated on the same items can be compared item by
    # item (curve.py --paired): a paired test sees differences that two separate intervals hide.
    outcomes = {"semantic_clean": clean_ok, "copy_r1_clean": clean_hit}
    for radius in apgd_eps:
        tag = f"apgd{radius * 255:g}"
        sem, cop = [], []
        for s in range(0, min(attacked, len(trip)), batch):
            ri, ep, en = r[s:s + batch], emb[p[s:s + batch]], emb[n[s:s + batch]]
            sem.append(_margin_robust(model, images[ri], lambda e: cosine_distance(e, ep) - cosine_distance(e, en),
                                      radius, apgd_iters, s))
        for s in range(0, min(attacked, len(q)), batch):
            own = torch.arange(s, min(s + batch, len(q)), device=q.device)
            def copy_margin(e: torch.Tensor, own=own) -> torch.Tensor:
                d = 1 - torch.nn.functional.normalize(e, dim=1) @ gallery.T
                d_own = d[torch.arange(len(own), device=d.device), own]
                d_other = d.scatter(1, own[:, None], float("inf")).min(1).values
                return d_own - d_other
            cop.append(_margin_robust(model, queries[own], copy_margin, radius, apgd_iters, 10_000 + s))
        outcomes.update({f"semantic_{tag}": torch.cat(sem) if sem else None, f"copy_r1_{tag}": torch.cat(cop) if cop else None})
        for key in (f"semantic_{tag}", f"copy_r1_{tag}"):
            figures[key] = outcomes[key].float().mean().item() if outcomes[key] is not None else None
    figures["outcomes"] = {k: "".join("1" if ok else "0" for ok in v.tolist()) for k, v in outcomes.items() if v is not None}
    return figures
