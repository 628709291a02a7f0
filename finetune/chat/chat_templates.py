"""How people ask GenomicLLM's questions in everyday language, and how the conversational model answers them.

One table per task: `ASK[task]` lists question templates (a person's phrasing; `{seq}` is the sequence as they pasted
it, `{ctx}` an optional clause with the record's fields), `ANSWER[task]` the assistant's reply templates, in which the
exact value is always in bold (`**{value}**`): that bold span is what evaluation reads back (`chat_data.parse_reply`).

The last `HELD_OUT` question templates of every task are evaluation-only: `chat_data` never puts them in training
conversations (a test asserts it), so evaluation measures phrasings the adapter has never seen.
"""

from __future__ import annotations

HELD_OUT = 2  # per task: the last templates of ASK[task] (and of FOLLOW_UP[task], REFUSE_ASK) are held out

SYSTEM = "You are GenomicLLM, an assistant that answers questions about DNA sequences."

ASK: dict[str, list[str]] = {
    "gc_content": [
        "What's the GC content of this sequence?\n{seq}",
        "{seq}\nHow GC-rich is this? Give me the GC fraction.",
        "Can you compute the GC content for {seq}",
        "GC fraction of the following DNA please: {seq}",
        "I need the proportion of G and C bases in {seq}",
        "I have this DNA fragment: {seq}\nWhat fraction of its bases are G or C?",
        "Tell me the G+C content of {seq}",
    ],
    "reverse": [
        "Reverse this sequence for me: {seq}",
        "{seq}\nWrite it backwards, please (just reversed, not complemented).",
        "What is this DNA read from the last base to the first? {seq}",
        "Can you give me the reversed sequence of {seq}",
        "Flip the order of the bases in {seq}",
        "Please read this strand back to front without complementing it: {seq}",
    ],
    "complement": [
        "What's the complement of {seq}",
        "{seq}\nGive me the complementary strand base by base, same order.",
        "Complement this DNA (no reversing): {seq}",
        "Pair each base of {seq} with its partner and write the result.",
        "Which bases pair with each position of this sequence, in the same order? {seq}",
        "Swap A<->T and C<->G in {seq}",
    ],
    "reverse_complement": [
        "What's the reverse complement of {seq}",
        "{seq}\nI need the reverse complement of this.",
        "Give me the other strand, 5' to 3': {seq}",
        "Reverse-complement this sequence please: {seq}",
        "Can you write the opposite strand of {seq} in 5'->3' order?",
        "My primer target is {seq}. What does the complementary strand read, 5' to 3'?",
        "Compute revcomp({seq})",
    ],
    "nt2aa": [
        "Translate this coding sequence: {seq}",
        "{seq}\nWhat protein does this encode (standard genetic code, in frame from the first base)?",
        "Which amino acids does {seq} code for?",
        "Give me the amino-acid sequence of this ORF fragment: {seq}",
        "Convert this CDS into protein: {seq}",
        "Here is an in-frame coding fragment:\n{seq}\nWhat's its translation?",
        "What peptide would a ribosome make from {seq}",
    ],
    "splice_site": [
        "Is the middle of this window a splice site{ctx}? {seq}",
        "{seq}\nDonor, acceptor, or neither at the centre{ctx}?",
        "Does this 400 nt window{ctx} have a splice donor or acceptor right in the middle? {seq}",
        "Check the central position of {seq}{ctx} for a splice junction.",
        "What kind of splice site, if any, sits at the centre of this sequence{ctx}?\n{seq}",
        "Classify the centre of this window{ctx} as donor, acceptor or none: {seq}",
    ],
    "orf_frame": [
        "In which frame does the coding sequence start here{ctx}? {seq}",
        "{seq}\nWhere does the first whole codon begin (1, 2 or 3), or is it non-coding{ctx}?",
        "Find the reading frame of this fragment{ctx}: {seq}",
        "Is this coding{ctx}, and if so which offset starts the first full codon? {seq}",
        "What's the coding frame of {seq}{ctx}",
        "Which position should translation start from in this sequence{ctx}, if it codes at all?\n{seq}",
    ],
    "sequence_direction": [
        "Is this sequence written 5' to 3' or reversed{ctx}? {seq}",
        "{seq}\nForward or reversed{ctx}?",
        "Which way does this read{ctx}: forward or backwards? {seq}",
        "Was this DNA{ctx} written in its natural direction? {seq}",
        "Tell me the orientation of {seq}{ctx}",
        "Did someone reverse this sequence{ctx}? {seq}",
    ],
    "gene_biotype": [
        "Does the gene starting here{ctx} code for a protein? {seq}",
        "{seq}\nIs this gene{ctx} protein coding or something else?",
        "What's the biotype of the gene this sequence starts{ctx}? {seq}",
        "Protein-coding gene or not{ctx}: {seq}",
        "Would the gene beginning with {seq}{ctx} be translated into protein?",
        "Classify the gene at the start of this sequence{ctx} by biotype:\n{seq}",
    ],
    "promoter": [
        "Could this be a promoter? {seq}",
        "{seq}\nIs this a promoter sequence?",
        "Does this look like a promoter region to you: {seq}",
        "Is {seq} a promoter or not?",
        "Would you say this fragment drives transcription as a promoter? {seq}",
        "Promoter or non-promoter?\n{seq}",
    ],
    "tf_binding": [
        "Does a transcription factor bind this sequence? {seq}",
        "{seq}\nIs this a TF binding site?",
        "Would a transcription factor bind {seq}",
        "Is there a transcription factor binding site in this fragment: {seq}",
        "Check whether {seq} is bound by a transcription factor.",
        "Is this a ChIP-seq peak for a transcription factor? {seq}",
    ],
    "enhancer": [
        "Is this an enhancer? {seq}",
        "{seq}\nDoes this look like an enhancer?",
        "Could {seq} be an enhancer element?",
        "Enhancer or not: {seq}",
        "Might this region boost transcription of a distant gene as an enhancer? {seq}",
        "Tell me if this sequence is an enhancer:\n{seq}",
    ],
    "open_chromatin": [
        "Is this an open chromatin region? {seq}",
        "{seq}\nWould this be accessible (open) chromatin?",
        "Is {seq} in an open chromatin region?",
        "Open chromatin or not: {seq}",
        "Would this DNA be accessible in an ATAC-seq experiment? {seq}",
        "Is this sequence from an open chromatin region?\n{seq}",
    ],
    "regulatory": [
        "What kind of regulatory element is this: enhancer, promoter or open chromatin region? {seq}",
        "{seq}\nWhich Ensembl regulatory class does this belong to?",
        "Is {seq} an enhancer, a promoter or an open chromatin region?",
        "Classify this regulatory element: {seq}",
        "Which type of regulatory region is this, enhancer, promoter or OCR?\n{seq}",
        "Tell me the regulatory element type of {seq}",
    ],
    "gene_name": [
        "What's the full name of the gene {symbol}{ctx}? Its sequence starts {seq}",
        "{seq}\nThis is the start of {symbol}{ctx}. What does the symbol stand for?",
        "Give me the full gene name for {symbol}{ctx}. Sequence: {seq}",
        "Expand the gene symbol {symbol}{ctx} (sequence {seq})",
        "{symbol}{ctx} begins with {seq}. What is the gene called in full?",
        "Which gene name does the symbol {symbol} abbreviate{ctx}? It starts {seq}",
    ],
    "gene_description": [
        "Describe the gene {symbol}{ctx}. Its sequence starts {seq}",
        "{seq}\nThis is the start of {symbol}{ctx}. What does this gene do?",
        "Give me a summary of {symbol}{ctx} (sequence {seq})",
        "What is known about the gene {symbol}{ctx}? It starts {seq}",
        "Summarise the function of {symbol}{ctx}; sequence: {seq}",
        "I found {symbol}{ctx} beginning with {seq}. What is its RefSeq summary?",
    ],
    "reading_comprehension": [
        "Here is a gene record: {record}, sequence {seq}. What is the {field}?",
        "{record}\n{seq}\nFrom this record, tell me the {field}.",
        "Record: {record}; {seq}. Which {field} does it give?",
        "In this annotation ({record}, {seq}) what's the {field}?",
        "Read this entry and give me its {field}: {record}, {seq}",
        "Given {record} and the sequence {seq}, what {field} is listed?",
    ],
}

FIELD_WORDS = {"chromosome": "chromosome", "strand": "strand", "start": "start coordinate", "end": "end coordinate",
               "symbol": "gene symbol", "biotype": "biotype"}

# Replies: every template holds **{value}** (the exact label, number, sequence or text).
ANSWER: dict[str, list[str]] = {
    "gc_content": ["The GC content is **{value}**.", "**{value}** of the bases are G or C.",
                   "This sequence has a GC fraction of **{value}**."],
    "reverse": ["Here is the sequence reversed:\n**{value}**", "Reversed (not complemented): **{value}**"],
    "complement": ["The complement, base by base:\n**{value}**", "Complementary strand, same order: **{value}**"],
    "reverse_complement": ["The reverse complement is:\n**{value}**", "Other strand, 5' to 3': **{value}**"],
    "nt2aa": ["The translation (standard code) is **{value}**.", "It encodes **{value}**."],
    "gene_name": ["Its full name is **{value}**.", "{symbol} stands for **{value}**."],
    "gene_description": ["Here is the RefSeq summary: **{value}**", "**{value}**"],
    "reading_comprehension": ["The {field} is **{value}**.", "It lists {field} **{value}**."],
}
# classification replies, per label (the bold span is the label itself)
LABEL_ANSWER: dict[str, dict[str, list[str]]] = {
    "splice_site": {"donor": ["The centre is a splice **donor** site.", "It looks like a **donor** site."],
                    "acceptor": ["The centre is a splice **acceptor** site.", "It looks like an **acceptor** site."],
                    "none": ["**none**: the centre is not a splice site.", "Neither; I'd answer **none**."]},
    "orf_frame": {**{f: [f"The first whole codon starts at position **{f}**.", f"Frame **{f}**."] for f in "123"},
                  "none": ["**none**: this looks non-coding.", "I don't see a coding frame: **none**."]},
    "sequence_direction": {"forward": ["It reads **forward**, 5' to 3'.", "**forward**"],
                           "reversed": ["It has been **reversed**.", "It reads backwards: **reversed**."]},
    "gene_biotype": {"protein_coding": ["The gene is **protein_coding**.", "Biotype: **protein_coding**."],
                     "other": ["It is **other** than protein coding.", "Biotype: **other** (not protein coding)."]},
    "regulatory": {lab: [f"It looks like a **{lab}**.", f"Regulatory class: **{lab}**."]
                   for lab in ("enhancer", "promoter", "ocr")},
}
YES_NO_ANSWER = {"yes": ["**Yes**, this looks like {what}.", "**Yes**."],
                 "no": ["**No**, this does not look like {what}.", "**No**."]}
YES_NO_WHAT = {"promoter": "a promoter", "tf_binding": "a transcription factor binding site",
               "enhancer": "an enhancer", "open_chromatin": "an open chromatin region"}

# Multi-turn: a second question about the same sequence, answered with an exact-computable task.
FOLLOW_UP: dict[str, list[str]] = {
    "gc_content": ["And its GC content?", "What about the GC fraction of that same sequence?",
                   "OK. How GC-rich is it?", "Also, what share of it is G or C?"],
    "reverse_complement": ["And the reverse complement?", "Now give me its other strand, 5' to 3'.",
                           "Thanks. Can you reverse-complement it too?", "What would the opposite strand read?"],
}

# Invalid sequences: the reply names the offending character in bold.
REFUSE_ASK = ["What's the GC content of {seq}", "Is this a promoter? {seq}", "Translate this: {seq}",
              "Reverse complement please: {seq}", "Could {seq} be an enhancer?", "{seq}\nWhat is this sequence?"]
REFUSE_ANSWER = ["That isn't a valid DNA sequence: it contains **{value}**, which is not a base. Please send only "
                 "A, C, G and T (N for unknown bases).",
                 "I can't read this as DNA because of the character **{value}**. Could you check the sequence? "
                 "Only A, C, G, T and N are allowed."]
# A question with no sequence at all: ask for one (never guess).
CLARIFY_ASK = ["What's the GC content?", "Is it a promoter?", "Can you translate my coding sequence?",
               "What is the reverse complement of my primer?", "Is this an enhancer?"]
CLARIFY_ANSWER = ["Please paste the DNA sequence you would like me to look at.",
                  "Which sequence? Paste it (plain, FASTA, upper or lower case) and I'll answer."]


def train_templates(table: list[str]) -> list[str]:
    return table[:-HELD_OUT]


def eval_templates(table: list[str]) -> list[str]:
    return table[-HELD_OUT:]
