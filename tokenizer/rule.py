"""Where nucleotide sequence starts and ends inside arbitrary text: the DNA-run rule, as regexes.

Why regexes: the rule has to live inside `tokenizer.json` (a `pre_tokenizers.Split` with an Oniguruma regex), so
that `AutoTokenizer` applies it without remote code. Every other place that needs the rule (training, benchmark,
`find_dna_spans`) runs the *same* regex strings through the `tokenizers` regex engine, never a re-implementation.

The rule (a "nucleotide run"):
  a whole alphanumeric word, i.e. a maximal stretch of letters/digits/marks (Unicode L, N, M) with no letter,
  digit or mark touching it on either side, that either
    (1) has >= MIN_RUN (8) letters, all from A C G T U N in either case, or
    (2) has >= MIN_IUPAC_RUN (20) letters from those plus the upper-case IUPAC codes R Y K M S W B D H V.
Everything else is text.

Why these numbers (measured on the 25,976 NCBI gene records: symbols, full names, synonyms, summaries):
  with A C G T U N, words of >= 8 letters that qualify are 10, and every one is a real motif quoted in a summary
  (e.g. GGGACTTTCC, TTGGCNNNNNGCCAA) - i.e. correctly DNA; at >= 6 the words CANNTG and TTAGGG also qualify (still
  DNA); no English word or gene symbol qualifies at >= 8. Adding the IUPAC codes at >= 6 would catch 48 x ADAMTS,
  MARCKS, ...; at >= 8 one symbol (MACMARCKS); so IUPAC letters are only accepted inside long (>= 20) runs, where a
  genome window with one ambiguity code must not fall back to text. Words like CAT, ACT, GATA, TATA, GATTACA (< 8)
  stay text; GATA1 or ACGTACGTAla are text because a digit/letter outside the alphabet touches the run.

Inside a run, upper-case A/C/G/T (and N for the DNA-BPE scheme) are cut by the DNA scheme; every other run letter
(lower-case soft-masked bases, N for k-mers, U, IUPAC codes) becomes one token per letter, case preserved.
A misclassified word costs tokens, never correctness: both sides decode back to the exact input.
"""

from __future__ import annotations

MIN_RUN = 8
MIN_IUPAC_RUN = 20

RUN_LETTERS = "ACGTUNacgtun"
IUPAC_UPPER = "RYKMSWBDHV"
WORD = r"[\p{L}\p{N}\p{M}]"  # what a run may not touch: letters, digits, combining marks
X = f"[{RUN_LETTERS}]"
XI = f"[{RUN_LETTERS}{IUPAC_UPPER}]"

# The body of a run, anchored by the caller at a word start; atomic groups keep the check linear.
RUN_AHEAD = f"(?:(?>{X}{{{MIN_RUN},}})|(?>{XI}{{{MIN_IUPAC_RUN},}}))(?!{WORD})"
# A whole run, for finding spans (used with Split(invert=True, behavior="removed")).
RUN_PATTERN = f"(?<!{WORD})(?={RUN_AHEAD}){XI}+"

# How a run is cut into DNA pre-tokens, per scheme. Each alternative ends with a one-letter fallback.
SCHEMES = ("char", "kmer", "bpe")


def chunk_pattern(scheme: str, k: int | None = None) -> str:
    if scheme == "char":
        return XI
    if scheme == "kmer":
        if not k or k < 2:
            raise ValueError(f"kmer scheme needs k >= 2, got {k!r}")
        return f"[ACGT]{{{k}}}|{XI}"
    if scheme == "bpe":
        return f"[ACGTN]+|{XI}"
    raise ValueError(f"unknown DNA scheme {scheme!r}; known: {SCHEMES}")


def split_pattern(scheme: str, k: int | None = None, answers_apart: bool = False) -> str:
    """Pass 1: one regex that covers every character, so the scan never skips text.

    Order matters: (1) the first DNA chunk of a run, at a word start whose whole word is a run; (2) further chunks,
    only reachable when the scan resumes right after a DNA chunk (text words are consumed whole by (3), so a scan
    position preceded by a run letter is always inside a run); (3) a whole word with at most one leading space, unless
    that word is a run (the space then stays its own token); (4) one punctuation character with an optional leading
    space; (5) whitespace, GPT-2 style (a run of spaces leaves the last one to the next word).

    `answers_apart` (off: the shipped tokenizer): a space right after "=", or at the very start of a text, never
    joins what follows it (the start: training encodes a row as the pair (prompt, " " + answer), and the answer must
    be cut as in the whole), and punctuation is cut one character at a time. The grammar writes a field `key=value`
    and an answer `question = value`, so an answer is then cut exactly as the same value inside the prompt
    (`end=249498` -> `=`, `2`, `4`, ...; ` = 249498` -> ` =`, ` `, `2`, `4`, ...): reading a field back is a
    token-for-token copy instead of a map from `2` to ` 2` or from `=+,` to ` +`; the field position streams need it.
    Not the default: alone it did not help reading comprehension, and a phase 2 trained on it lost NT2AA and several
    classifiers (studies/results/copy_tokens.md, fields_phase.md). Either way the vocabulary is learnt with it off,
    so both cut with the same merges.
    """
    chunk = chunk_pattern(scheme, k)
    space = "(?:(?<=[^=]) )?" if answers_apart else " ?"  # a space after "=", or opening the text, stands alone
    punctuation = r"[^\s\p{L}\p{N}\p{M}]" + ("" if answers_apart else "+")
    return (
        f"(?<!{WORD})(?={RUN_AHEAD})(?:{chunk})"
        f"|(?<={XI})(?:{chunk})"
        f"|{space}(?!{RUN_AHEAD}){WORD}+"
        f"|{space}{punctuation}"
        r"|\s+(?!\S)|\s+"
    )


# Pass 2, applied to every piece of pass 1: split words into camel-case parts and single digits. DNA chunks are
# all-upper-case or one letter, so they pass through unchanged. Why: amino-acid answers (MetPheGlu) become one
# token per residue, numbers become digits (GC content, coordinates), gene symbols split from their digits.
WORD_PARTS = r" ?\p{Lu}+(?!\p{Ll})| ?\p{Lu}?\p{Ll}+| ?\p{N}"
