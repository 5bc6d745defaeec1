"""What each audited metric means: its direction (is higher better?), a one-line definition and a reference.

Used to word findings ("served worse" respects the metric's direction) and for the
glossary of the audit page.
"""

from __future__ import annotations

import re

from .._format import format_number, format_p, format_percent  # re-exported: audits word numbers with them

__all__ = ["METRIC_INFO", "higher_is_better", "metric_label", "format_number", "format_p", "format_percent"]

#: metric base name -> (higher is better, short label, one-line definition, reference)
METRIC_INFO: dict[str, tuple[bool, str, str, str]] = {
    "ndcg": (True, "NDCG", "Discounted gain of the hits in the top-k (1/log2(rank+1)), divided by the best "
             "possible; every test rating is relevant.", "Järvelin & Kekäläinen, TOIS 2002"),
    "recall": (True, "Recall", "Share of the user's test films found in the top-k.", "Herlocker et al., TOIS 2004"),
    "precision": (True, "Precision", "Share of the top-k that the user rated in the test period.",
                  "Herlocker et al., TOIS 2004"),
    "hit": (True, "Hit rate", "1 when at least one test film is in the top-k, else 0.", "Deshpande & Karypis, TOIS 2004"),
    "mrr": (True, "MRR", "1 / rank of the first hit in the top-k (0 without a hit).", "Voorhees, TREC-8 1999"),
    "map": (True, "MAP (÷ n)", "Sum of precisions at hit ranks ÷ the user's relevant films (TREC MAP, "
            "map_nrel_at_k).", "Manning et al., IR book 2008"),
    "map_at_k": (True, "MAP (÷ min(k, n))", "Sum of precisions at hit ranks ÷ min(k, relevant) (map_min_k_at_k).",
                 "Microsoft Recommenders"),
    "novelty": (True, "Novelty", "Mean −log2 of the share of training users who rated each recommended film "
                "(rarer films are more novel).", "Castells et al., RecSys handbook 2015"),
    "ild": (True, "Intra-list diversity", "Mean pairwise (1 − cosine) between the films of a list.",
            "Ziegler et al., WWW 2005"),
    "serendipity": (True, "Serendipity", "Share of hits that the popularity baseline would not have shown.",
                    "Ge et al., RecSys 2010"),
    "aplt": (True, "Long-tail share (APLT)", "Share of each list taken from the long tail (films outside the "
             "popularity head).", "Abdollahpouri et al., FLAIRS 2019"),
    "coverage": (True, "Catalogue coverage", "Distinct recommended films ÷ all films.",
                 "Ge et al., RecSys 2010"),
    "entropy_bits": (True, "Exposure entropy", "Shannon entropy of how often each film is recommended (bits).",
                     "Adomavicius & Kwon, TKDE 2012"),
    "entropy_normalized": (True, "Exposure entropy (normalised)", "Entropy ÷ log2(number of films).",
                           "Adomavicius & Kwon, TKDE 2012"),
    "miscalibration": (False, "Miscalibration", "KL divergence between the genre mix of the user's history and of "
                       "the list (0 = same mix).", "Steck, RecSys 2018"),
    "arp": (False, "Average popularity (ARP)", "Mean number of training ratings of the recommended films.",
            "Abdollahpouri et al., FLAIRS 2019"),
    "popularity_lift": (False, "Popularity lift", "Relative popularity of the list over the user's own history "
                        "(0 = as popular as what the user watches).", "Abdollahpouri et al., UMAP 2021"),
    "gini": (False, "Exposure Gini", "Gini index of how often each film is recommended (0 = all films equally, "
             "1 = one film takes everything).", "Fleder & Hosanagar, Mgmt Sci 2009"),
}


def _base(metric: str) -> str:
    return re.sub(r"@\d+$", "", str(metric))


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better for the user (``ndcg@10`` yes, ``miscalibration`` no).

    Unknown metrics are taken as higher-is-better.
    """
    info = METRIC_INFO.get(_base(metric))
    return True if info is None else info[0]


def metric_label(metric: str) -> str:
    """Readable name: ``ndcg@10`` -> ``NDCG@10``, ``miscalibration`` -> ``Miscalibration``."""
    base = _base(metric)
    info = METRIC_INFO.get(base)
    if info is None:
        return str(metric)
    cut = str(metric)[len(base):]
    return info[1] + cut
