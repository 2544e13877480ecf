"""Precision and recall of the conduct-complaint classifier by grouped cross-validation on the corpus.

Folds are grouped by the clause that decides a comment's conduct label (column ``group``), so every
wording of one complaint (with or without diacritics, abbreviated, TCVN3) lies on one side of a split:
the test measures comments whose complaint the model never saw. Three deciders are compared: the rules
alone, the n-gram model without the rules' verdicts, and the shipped one (n-grams + rules' verdicts).
Also the topic polarity agreement of the rules per topic.

Run: python bench/bench_classifier.py   (prints a Markdown block for bench/RESULTS.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
from sklearn.model_selection import GroupKFold  # noqa: E402

from sipas.index import classify as cl  # noqa: E402


def main() -> None:
    rows = cl.read_corpus()
    texts = [r["text"] for r in rows]
    y = np.array([r["conduct_complaint"] == "1" for r in rows])
    groups = np.array([int(r["group"]) for r in rows])
    preds = {k: np.zeros(len(y), bool) for k in ("rules", "n-grams only", "shipped: n-grams + rules")}
    for train, test in GroupKFold(n_splits=5).split(texts, y, groups):
        m = cl.fit([texts[i] for i in train], list(y[train]))
        bare = cl.fit([texts[i] for i in train], list(y[train]), rules=False)
        for i in test:
            preds["shipped: n-grams + rules"][i] = m.conduct(cl.prepare(texts[i]))
            preds["n-grams only"][i] = bare.conduct(cl.prepare(texts[i]))
            preds["rules"][i] = cl.classify(texts[i], model=None).conduct_complaint
    print(
        f"Corpus: {len(y)} comments, {int(y.sum())} conduct complaints, {len(set(groups))} groups; 5-fold GroupKFold\n"
    )
    print("| decider | precision | recall | TP | FP | FN |")
    print("|---|---|---|---|---|---|")
    for name, p in preds.items():
        tp, fp, fn = int((p & y).sum()), int((p & ~y).sum()), int((~p & y).sum())
        print(f"| {name} | {tp / max(tp + fp, 1):.3f} | {tp / max(tp + fn, 1):.3f} | {tp} | {fp} | {fn} |")
    print("\nTopic polarity by the rules (rows where the topic is labelled): share with the exact polarity")
    for t in cl.TOPICS:
        lab = [(r[t], cl.classify(r["text"], model=None).topics.get(t)) for r in rows if r[t]]
        ok = sum(a == b for a, b in lab)
        print(f"- {t}: {ok}/{len(lab)} = {ok / max(len(lab), 1):.3f}")


if __name__ == "__main__":
    main()
