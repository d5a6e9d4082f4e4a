"""Fine-tune the encoder for the task: LoRA adapters on the top layers of the
float e5, trained on SemEval pairs, on CPU.

    python training/finetune.py dev.csv train_extra.csv --adapters-fit-on dev.csv  # CV, then ship (make train)
    python training/finetune.py dev.csv train_extra.csv       # the same, adapters fitted on both files' pairs
    python training/finetune.py dev.csv --folds 0             # adapters only
    python training/finetune.py dev.csv train_extra.csv --adapters-fit-on dev.csv --scorer-only
                                                              # the scorer, from the cached out-of-fold vectors
    python training/finetune.py dev.csv train_extra.csv --fit-on dev.csv train_extra.csv --frozen 9 [--balanced]
                                                              # an ablation (three tuned layers, language-balanced
                                                              # draws): its own out-of-fold vectors, ships nothing
(the CSV files are in ../shared/data/semeval22/)

How: the bottom ``--frozen`` layers stay as they are, so their output for every
passage is computed once and kept (float16); only the top layers run in each
training step, which makes CPU training affordable (minutes, not hours). An
article's vector is pooled from its head passages exactly as the pipeline pools
it (``signals.vectors.pool``); the loss is CoSENT (Su, 2022): every pair of
pairs whose gold Overall differ should be ordered the same way by cosine.

Cross-validation uses the scorer's folds (``training.scorer.folds_of``: GroupKFold
over article-graph components): for each fold the adapters are trained on the other folds and the
held-out articles' passages are encoded, so every pair's features come from an
encoder that never saw it (each article's headline is encoded too, for its own vector:
``signals.vectors``). The scorer is then cross-validated and fitted on those
out-of-fold features, which is the distribution it meets on new articles. Last,
the adapters are trained on all pairs and written to ``src/samestory/models/``.

``--adapters-fit-on`` keeps the adapters (in every fold and the shipped ones) to
some files' pairs while the scorer learns from all of them: the shipped recipe
(training/LOG.md, sixteenth session). Each fold's adapters also report the mean
cosine of random pairs of their held-out articles; when those means spread, the
out-of-fold features mix cosine scales and the scorer's CV suffers for it.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from samestory.embed import DEFAULT_SPEC, cache_dir
from samestory.embed.backends import PrecomputedEncoder
from samestory.embed.lora import SHIPPED as ADAPTER
from samestory.embed.lora import oof_vectors_path
from samestory.embed.onnx_e5 import OnnxE5Encoder
from samestory.evaluate.semeval import article_groups, load_pairs, pair_articles
from samestory.text import text_units
from samestory.text.units import weight
from samestory.training.lora import add_lora, save_adapter
from samestory.training.scale import random_pair_cosine
from samestory.training.torch_e5 import TorchE5Encoder
from samestory.training.torch_nn import mean_pool, pad_batch

MODELS = Path(__file__).resolve().parents[1] / "src/samestory/models"
FROZEN = 10             # the shipped adapters tune the top 2 of 12 layers
SCALE_SPREAD = 0.015    # warn when the folds' random-pair cosine means differ by more (shipped recipe: 0.010)


class Data:
    """Distinct passages, their frozen-layer states, and which articles they make."""

    def __init__(self, csv: list[str], encoder: TorchE5Encoder, frozen: int):
        self.df = load_pairs(csv)
        articles, slots, _ = pair_articles(self.df)
        self.ok = np.array([s is not None for s in slots])
        self.pairs = np.array([s for s in slots if s is not None])
        self.gold = self.df.loc[self.ok, "Overall"].to_numpy(np.float32)
        self.groups = article_groups(self.df["pair_id"])[self.ok]
        self.source = self.df.loc[self.ok, "source"].to_numpy()
        self.lang_pair = (self.df["lang1"] + "-" + self.df["lang2"]).to_numpy()[self.ok]
        units = [text_units(a) for a in articles]
        # all are encoded for the out-of-fold vectors, with each article's headline (its own vector)
        self.all_passages = [u.passages + ((u.headline,) if u.headline else ()) for u in units]
        index = {p: i for i, p in enumerate(dict.fromkeys(p for ps in self.all_passages for p in ps))}
        self.articles = []                                # (passage ids, weights) of each article's head
        for u in units:
            head = u.passages[:u.head_passages]
            self.articles.append(([index[p] for p in head], np.array([weight(p) for p in head], np.float32)))
        self.texts = list(index)
        key = hashlib.sha1("\n".join(self.texts).encode()).hexdigest()[:12]
        kept = cache_dir() / f"finetune-states-{frozen}-{key}.pt"
        if kept.exists():
            self.states = torch.load(kept)
        else:
            self.states = frozen_states(encoder, self.texts, frozen)
            torch.save(self.states, kept)


def frozen_states(encoder: TorchE5Encoder, texts: list[str], frozen: int) -> list[torch.Tensor]:
    """Output of the first ``frozen`` layers for each text's first window (float16)."""
    model, cfg = encoder.network, encoder.config
    windows = {}
    for i, seq in encoder.windows(texts):
        windows.setdefault(i, seq)                       # passages fit one window
    order = sorted(windows, key=lambda i: len(windows[i]))
    out: list[torch.Tensor | None] = [None] * len(texts)
    with torch.inference_mode():
        for start in tqdm(range(0, len(order), 32), desc="frozen layers", file=sys.stderr):
            batch = order[start:start + 32]
            ids, keep = pad_batch([windows[i] for i in batch], cfg["pad"])
            x = model.run_layers(model.embed(ids), keep, 0, frozen)
            for r, i in enumerate(batch):
                out[i] = x[r, :len(windows[i])].to(torch.float16).clone()
    return out


def fast_bfloat16() -> bool:
    """bfloat16 autocast pays only on CPUs with native bfloat16 (AVX512-BF16, AMX);
    elsewhere PyTorch emulates it, some 30x slower than float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(f in flags.split() for f in ("avx512_bf16", "amx_bf16"))


BFLOAT16 = fast_bfloat16()


def passage_vectors(top, frozen: int, states: list[torch.Tensor], chunk: int = 48) -> torch.Tensor:
    """Top layers over frozen states, mean-pooled, unit length (as the encoder
    returns); in chunks of similar length, bfloat16 matrix products where the CPU
    has them."""
    order = sorted(range(len(states)), key=lambda i: len(states[i]))
    parts = []
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=BFLOAT16):
        for start in range(0, len(order), chunk):
            parts.append(_top(top, frozen, [states[i] for i in order[start:start + chunk]]).float())
    out = torch.empty(len(states), parts[0].shape[1])
    out[torch.as_tensor(order)] = torch.cat(parts)
    return out


def _top(top, frozen: int, states: list[torch.Tensor]) -> torch.Tensor:
    x = torch.nn.utils.rnn.pad_sequence([s.float() for s in states], batch_first=True)
    keep = torch.arange(x.shape[1])[None, :] < torch.tensor([len(s) for s in states])[:, None]
    mask = keep[:, None, None, :]
    for layer in top.layers[frozen:]:
        x = layer(x, mask)
    return torch.nn.functional.normalize(mean_pool(x, keep), dim=-1)


def cosent(cos: torch.Tensor, gold: torch.Tensor, scale: float = 20.0) -> torch.Tensor:
    """log(1 + sum over (i, j) with gold_i more similar than gold_j of e^{s(cos_j - cos_i)})."""
    diff = scale * (cos[None, :] - cos[:, None])          # [i, j] = s (cos_j - cos_i)
    more_similar = gold[:, None] < gold[None, :]            # lower Overall = more similar
    diff = diff[more_similar]
    return torch.logsumexp(torch.cat([torch.zeros(1), diff]), dim=0)


def article_vectors(top, frozen: int, data: Data, article_ids) -> dict[int, torch.Tensor]:
    needed = sorted({p for a in article_ids for p in data.articles[a][0]})
    pv = passage_vectors(top, frozen, [data.states[p] for p in needed])
    row = {p: r for r, p in enumerate(needed)}
    out = {}
    for a in article_ids:
        ids, w = data.articles[a]
        v = (pv[[row[p] for p in ids]] * torch.from_numpy(w)[:, None]).sum(0)
        out[a] = torch.nn.functional.normalize(v, dim=0)
    return out


def fit_adapters(base, data: Data, rows: np.ndarray, args, desc: str):
    top = copy.deepcopy(base)
    params = add_lora(top, range(args.frozen, len(top.layers)), rank=args.rank, alpha=2.0 * args.rank)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    rng = np.random.default_rng(0)
    draw = balanced_draw(data.lang_pair[rows]) if args.balanced else None
    steps = args.epochs * int(np.ceil(len(rows) / args.batch))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.1)
    bar = tqdm(total=steps, desc=desc, file=sys.stderr)
    for _ in range(args.epochs):
        order = rng.permutation(rows) if draw is None else rng.choice(rows, len(rows), p=draw)
        for start in range(0, len(order), args.batch):
            batch = order[start:start + args.batch]
            pairs = data.pairs[batch]
            vecs = article_vectors(top, args.frozen, data, set(pairs.ravel().tolist()))
            cos = torch.stack([vecs[a] @ vecs[b] for a, b in pairs])
            loss = cosent(cos, torch.from_numpy(data.gold[batch]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            bar.update()
            bar.set_postfix(loss=f"{loss.item():.3f}")
    bar.close()
    return top


def balanced_draw(lang_pair: np.ndarray, power: float = -0.5) -> np.ndarray:
    """Each pair's chance to be drawn, proportional to its language pair's count ** ``power``
    (-0.5: a language pair with four times the pairs is drawn twice as often, not four times)."""
    _, inverse, counts = np.unique(lang_pair, return_inverse=True, return_counts=True)
    weights = counts[inverse].astype(np.float64) ** power
    return weights / weights.sum()


def encode_passages(top, frozen: int, data: Data, texts: list[str]) -> dict[str, np.ndarray]:
    index = {t: i for i, t in enumerate(data.texts)}
    out = {}
    with torch.inference_mode():
        for start in range(0, len(texts), 64):
            chunk = texts[start:start + 64]
            v = passage_vectors(top, frozen, [data.states[index[t]] for t in chunk]).numpy()
            out.update(zip(chunk, v))
    return out


def adapter_files(args) -> list[str] | None:
    """The files whose pairs the adapters are fitted on (None: all of them)."""
    return args.fit_on or args.adapters_fit_on


def oof_path(args) -> Path:
    """The out-of-fold vectors: from adapters fitted on every file's pairs, or on some files' only
    (``--fit-on``, ``--adapters-fit-on``: the same vectors) beside them."""
    path = oof_vectors_path()
    files = adapter_files(args)
    tag = (f"-fit-on-{'+'.join(files)}" if files else "") + variant(args)
    return path.with_name(f"{path.stem}{tag}.npz") if tag else path


def variant(args) -> str:
    """What sets an ablation's adapters apart from the shipped recipe's, for its file names."""
    return (f"-frozen{args.frozen}" if args.frozen != FROZEN else "") + ("-balanced" if args.balanced else "")


def fit_scorer(args) -> None:
    """Cross-validate and fit the scorer on the out-of-fold tuned vectors."""
    from samestory.training.scorer import train

    # Trained on PyTorch's out-of-fold vectors; at run time the same weights run on ONNX Runtime.
    summary = train(args.csv, args.scorer_out, encoder_spec=str(DEFAULT_SPEC), folds=args.folds or 5,
                    progress=False, encoder=PrecomputedEncoder(oof_path(args)),
                    encoder_name=OnnxE5Encoder.name_for(adapter=ADAPTER), fit_on=args.fit_on,
                    adapters_fitted_on=adapter_files(args))
    print(f"scorer on out-of-fold tuned vectors -> {args.scorer_out}; CV Pearson {summary['cv_pearson']}, "
          f"by group {summary['cv_by_group']}, by file {summary['cv_by_source']}, by language pair "
          f"{summary['cv_by_lang_pair']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", nargs="+", help="SemEval-format CSVs: trained on all of them, cross-validated "
                    "on all, on each file's pairs and on each language pair")
    ap.add_argument("--folds", type=int, default=5,
                    help="0: only the adapters (the scorer needs the out-of-fold vectors)")
    ap.add_argument("--frozen", type=int, default=FROZEN, help="bottom layers left as they are")
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=32, help="pairs per step")
    ap.add_argument("--balanced", action="store_true",
                    help="draw training pairs with probability ~ their language pair's count ** -0.5")
    ap.add_argument("--scorer-out", default=str(MODELS / "scorer-v4.json.gz"))
    ap.add_argument("--scorer-only", action="store_true",
                    help="refit only the scorer, on the out-of-fold vectors a full run left in the cache")
    ap.add_argument("--fit-on", nargs="+", metavar="FILE_NAME",
                    help="an ablation: in each fold, fit adapters and scorer only on these files' pairs (the "
                         "folds stay the same); writes its own out-of-fold vectors and ships nothing")
    ap.add_argument("--adapters-fit-on", nargs="+", metavar="FILE_NAME",
                    help="fit the adapters (in each fold and the shipped ones) only on these files' pairs, the "
                         "scorer on every file's pairs")
    args = ap.parse_args()
    if args.scorer_only:
        if not oof_path(args).exists():
            sys.exit(f"no out-of-fold vectors at {oof_path(args)}: run without --scorer-only first")
        fit_scorer(args)
        return
    torch.manual_seed(0)
    start = time.perf_counter()

    encoder = TorchE5Encoder(quantize=False)
    data = Data(args.csv, encoder, args.frozen)
    base = torch.nn.Module()
    base.layers = encoder.network.layers
    print(f"{len(data.pairs)} pairs, {len(data.articles)} articles, {len(data.texts)} passages; "
          f"frozen states in {time.perf_counter() - start:.0f} s; top layers in "
          f"{'bfloat16' if BFLOAT16 else 'float32'}", file=sys.stderr)

    if args.folds:
        from samestory.training.scorer import folds_of

        oof: dict[str, np.ndarray] = {}
        scales: list[float] = []
        for k, (tr, te) in enumerate(folds_of(data.groups, args.folds)):
            tr = tr if not adapter_files(args) else tr[np.isin(data.source[tr], adapter_files(args))]
            top = fit_adapters(base, data, tr, args, f"fold {k + 1}/{args.folds}")
            held = sorted({a for a in data.pairs[te].ravel()})
            oof.update(encode_passages(top, args.frozen, data, [p for a in held for p in data.all_passages[a]]))
            with torch.no_grad():          # no autograd graph over every held-out passage
                tuned = article_vectors(top, args.frozen, data, held)
                zero = article_vectors(base, args.frozen, data, held)
            gold = data.gold[te]
            for name, vecs in (("zero-shot", zero), ("tuned", tuned)):
                cos = np.array([float(vecs[a] @ vecs[b]) for a, b in data.pairs[te]])
                print(f"fold {k + 1}: {name} head cosine vs Overall r = {-np.corrcoef(cos, gold)[0, 1]:.3f}",
                      file=sys.stderr)
            scale = random_pair_cosine(np.stack([tuned[a].numpy() for a in held]))
            scales.append(scale[0])
            print(f"fold {k + 1}: random pairs of held-out articles, cosine mean {scale[0]:.4f} sd {scale[1]:.4f}",
                  file=sys.stderr)
        if max(scales) - min(scales) > SCALE_SPREAD:
            print(f"warning: the folds' random-pair cosine means spread over {max(scales) - min(scales):.3f} "
                  "(the shipped recipe's: 0.010): the scorer learns from features on mixed scales "
                  "(training/LOG.md, sixteenth session)", file=sys.stderr)
        # articles of rows that failed on their other side are in no fold; they are read, never scored
        oof.update(encode_passages(top, args.frozen, data, [p for ps in data.all_passages for p in ps
                                                           if p not in oof]))
        texts = list(oof)
        np.savez(oof_path(args), texts=np.array(texts), vectors=np.array([oof[t] for t in texts], np.float16))
        if args.fit_on:
            fit_scorer(args)
            return

    rows = np.arange(len(data.pairs))
    rows = rows if not adapter_files(args) else rows[np.isin(data.source, adapter_files(args))]
    top = fit_adapters(base, data, rows, args, "all pairs" if len(rows) == len(data.pairs) else
                       f"the pairs of {' + '.join(adapter_files(args))}")
    MODELS.mkdir(exist_ok=True)
    save_adapter(top, MODELS / f"{ADAPTER}.npz")
    print(f"wrote {MODELS / f'{ADAPTER}.npz'} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    if args.folds:
        fit_scorer(args)         # after the adapters are written: the scorer names the encoder it expects
    print("new adapters move the vectors that the story linker and the copy finder's translation thresholds were "
          "fitted on: run `make train-linker`, then `make bench-stories` and `make bench-duplicates` (within 0.005 "
          "of the release) before shipping them (training/LOG.md, fourteenth session)", file=sys.stderr)


if __name__ == "__main__":
    main()
