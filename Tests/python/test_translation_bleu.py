"""`infoplane bleu` against sacreBLEU's corpus_bleu(tokenize="none") on seeded random corpora."""
import json

import numpy as np
import pytest

from conftest import run

sacrebleu = pytest.importorskip("sacrebleu")


def random_corpus(seed, lines=300, vocabulary=12):
    """Hypotheses and references over a small shared vocabulary, so that
    n-grams match often; some hypotheses empty, lengths differing."""
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(vocabulary)]
    hyps, refs = [], []
    for _ in range(lines):
        ref = list(rng.choice(words, size=rng.integers(1, 15)))
        if rng.random() < 0.05:
            hyp = []
        else:
            hyp = [w if rng.random() < 0.7 else str(rng.choice(words)) for w in ref]
            if rng.random() < 0.3:
                hyp = hyp[: rng.integers(0, len(hyp) + 1)]
            if rng.random() < 0.2:
                hyp += list(rng.choice(words, size=rng.integers(1, 4)))
        hyps.append(" ".join(hyp))
        refs.append(" ".join(ref))
    return hyps, refs


def score(infoplane, tmp_path, hyps, refs):
    h, r = tmp_path / "hyp.txt", tmp_path / "ref.txt"
    h.write_text("".join(line + "\n" for line in hyps))
    r.write_text("".join(line + "\n" for line in refs))
    return json.loads(run(infoplane, "bleu", h, r, "--json").stdout)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_bleu_equals_sacrebleu_on_random_corpora(infoplane, tmp_path, seed):
    hyps, refs = random_corpus(seed)
    ours = score(infoplane, tmp_path, hyps, refs)
    theirs = sacrebleu.corpus_bleu(hyps, [refs], tokenize="none")
    assert ours["counts"] == list(theirs.counts)
    assert ours["totals"] == list(theirs.totals)
    assert (ours["sys_len"], ours["ref_len"]) == (theirs.sys_len, theirs.ref_len)
    assert ours["bp"] == pytest.approx(theirs.bp, abs=1e-12)
    assert ours["score"] == pytest.approx(theirs.score, abs=1e-6)
    assert ours["precisions"] == pytest.approx(theirs.precisions, abs=1e-9)


def test_bleu_with_short_hypotheses_zero_four_gram_matches_and_a_brevity_penalty(infoplane, tmp_path):
    cases = [
        (["a b c d e", "f g"], ["a b c d f", "f g h i"]),        # brevity penalty
        (["a b x c d", "e f y g h"], ["a b z c d", "e f w g h"]),  # no 3- or 4-gram matches: smoothed
        (["a b", "c"], ["a b c", "c d"]),                          # no 3-gram in any hypothesis
        (["", ""], ["a b", "c"]),                                  # nothing hypothesized
    ]
    for hyps, refs in cases:
        ours = score(infoplane, tmp_path, hyps, refs)
        theirs = sacrebleu.corpus_bleu(hyps, [refs], tokenize="none")
        assert ours["counts"] == list(theirs.counts), (hyps, refs)
        assert ours["score"] == pytest.approx(theirs.score, abs=1e-6), (hyps, refs)
        assert ours["bp"] == pytest.approx(theirs.bp, abs=1e-12), (hyps, refs)


def test_bleu_refuses_files_of_different_lengths_and_a_missing_file(infoplane, tmp_path):
    h, r = tmp_path / "hyp.txt", tmp_path / "ref.txt"
    h.write_text("a b\nc d\n")
    r.write_text("a b\n")
    result = run(infoplane, "bleu", h, r, check=False)
    assert result.returncode != 0
    assert "hyp.txt" in result.stderr and "2 lines" in result.stderr and "1" in result.stderr
    result = run(infoplane, "bleu", tmp_path / "missing.txt", r, check=False)
    assert result.returncode != 0 and "missing.txt" in result.stderr and "no such file" in result.stderr.lower()
