"""How people ask the assistant for what `chat_templates` does not cover, and how it answers after a tool call.

The questions of the dataset tasks, their follow-ups, refusals and sequence-less questions are `chat_templates`'
(one table of phrasings for both chat models); this module adds the tools' own questions (length, base counts,
ORFs, translation in a frame, gene look-ups), questions with a sequence but no task, and general questions answered
without a tool. As there, the last `chat_templates.HELD_OUT` templates of every table are evaluation-only.
Replies hold the tool's value in bold, as the LLM read it: a number, a label, or a reference such as `[sequence 2]`
that the runtime writes out (`references`).
"""

from __future__ import annotations

# tool task -> question templates ({seq}: the sequence as pasted, {symbol}: a gene symbol, {frame}: 2 or 3)
ASK: dict[str, list[str]] = {
    "length": ["How long is this sequence? {seq}", "{seq}\nHow many bases is that?", "Length of {seq} please",
               "Count the nucleotides in {seq}", "What is the length in nt of {seq}", "How many bp does {seq} have?"],
    "base_counts": ["Count each base in {seq}", "{seq}\nHow many A, C, G and T are there?",
                    "Give me the base composition (counts) of {seq}", "How many of each nucleotide are in {seq}",
                    "Tally the A/C/G/T letters of {seq}", "What are the base counts of this: {seq}"],
    "find_orfs": ["Find the open reading frames in {seq}", "{seq}\nAre there any ORFs in this?",
                  "Where are the ORFs of {seq}", "Scan {seq} for ATG-to-stop reading frames.",
                  "Does {seq} contain an open reading frame?", "List the ORFs on the forward strand of {seq}"],
    "translate_frame": ["Translate {seq} in frame {frame}", "{seq}\nWhat protein does frame {frame} give?",
                        "Starting at base {frame}, translate {seq}", "Give me the frame-{frame} translation of {seq}",
                        "Read {seq} from position {frame} and translate it.",
                        "What peptide comes from frame {frame} of {seq}"],
    "gene_lookup_name": ["What's the full name of {symbol}?", "What does the gene symbol {symbol} stand for?",
                         "{symbol}: full gene name?", "Expand the gene symbol {symbol}.",
                         "What is {symbol} short for?", "Which gene is {symbol}, by full name?"],
    "gene_lookup_summary": ["What does {symbol} do?", "Tell me about the gene {symbol}.",
                            "Give me the NCBI summary of {symbol}", "What is the function of {symbol}?",
                            "Describe the {symbol} gene.", "What is known about {symbol}?"],
    "describe_gene": ["Which gene starts with this sequence, and what does it do? {seq}",
                      "{seq}\nDescribe the gene this sequence begins.", "What gene might {seq} be the start of?",
                      "Tell me about the gene that starts here: {seq}", "Summarise the gene beginning {seq}",
                      "What would GenomicLLM say this gene does? {seq}"],
}

# replies: {value} is the bold value, the others come from the tool's result
REPLY: dict[str, list[str]] = {
    "length": ["It is **{value}** nt long.", "**{value}** bases."],
    "base_counts": ["Base counts: **{value}**.", "It has **{value}**."],
    "find_orfs": ["I found **{value}** ORF(s) of at least {min_codons} codons; the longest is in frame {frame}, "
                  "bases {start}-{end} ({codons} codons).",
                  "**{value}** open reading frame(s) of {min_codons}+ codons; the longest: frame {frame}, "
                  "{start}-{end}."],
    "no_orfs": ["I found **0** ORFs of at least {min_codons} codons on the forward strand.",
                "**0**: no ATG..stop frame of {min_codons}+ codons."],
    "translate_frame": ["In frame {frame} it encodes **{value}**.", "Frame {frame} translation: **{value}**"],
    "gene_lookup_summary": ["Here is the NCBI summary of {symbol} ({full_name}): **{value}**",
                            "{symbol}, {full_name}. NCBI: **{value}**"],
    "describe_gene": ["GenomicLLM describes it as: **{value}**", "GenomicLLM's description: **{value}**"],
    "no_gene": ["I couldn't find **{value}** in the NCBI gene table.",
                "**{value}** is not in the NCBI gene table I can search; check the symbol?"],
}
PROBABILITY = [" (probability {p})", " GenomicLLM gives it probability {p}."]

# a second sequence in the same conversation: the same question about it
SECOND = ["Now this one: {seq}", "And for {seq}?", "Same question for {seq}", "What about {seq}",
          "Here is another: {seq}", "Do the same for this sequence: {seq}"]

# refusals of what the normaliser rejected: {value} is the bad character, {where} its place
REFUSE = ["That isn't a valid DNA sequence: **{value}** ({where}) is not a base. Please send only A, C, G, T "
          "(N for unknown bases).",
          "I can't read this as DNA: the character **{value}** at {where} is not a nucleotide. Could you check it?"]
TOO_LONG = ["That sequence is too long for me: {error}. Please send a shorter piece."]

# a sequence and no question: ask what to do with it
NO_TASK_ASK = ["{seq}", "Here is my sequence: {seq}", "I have this DNA: {seq}", "{seq}\nThoughts?",
               "Look at this: {seq}", "Got a sequence for you: {seq}"]
NO_TASK_ANSWER = ["What would you like to know about it? I can compute its GC content, length, reverse complement "
                  "or translation, find ORFs, or ask GenomicLLM whether it is a promoter, enhancer or splice site.",
                  "What should I do with this sequence? For example: GC content, reverse complement, translation, "
                  "ORFs, or a promoter / enhancer / splice-site prediction."]

# general questions, answered without a tool
CONCEPT_ASK = ["What is {a} {concept}?", "Can you explain what {a} {concept} is?", "Define {concept}.",
               "What does {concept} mean?", "Explain {concept} briefly.", "In genetics, what is {a} {concept}?"]
CONCEPTS: dict[str, tuple[str, str]] = {  # concept -> (article, answer)
    "promoter": ("a", "A promoter is the DNA region just upstream of a gene where RNA polymerase and transcription "
                      "factors bind to start transcription."),
    "enhancer": ("an", "An enhancer is a regulatory DNA element that raises transcription of a gene, often from "
                       "far away, by binding transcription factors."),
    "splice site": ("a", "A splice site is an exon-intron boundary: the donor (GT) at the intron's 5' end and the "
                         "acceptor (AG) at its 3' end, where introns are cut out of the RNA."),
    "GC content": ("", "GC content is the fraction of the bases of a sequence that are G or C."),
    "reverse complement": ("a", "The reverse complement is the other DNA strand read 5' to 3': the sequence "
                                "reversed, with A<->T and C<->G swapped."),
    "open reading frame": ("an", "An open reading frame (ORF) is a stretch of codons from a start codon (ATG) to "
                                 "a stop codon (TAA, TAG or TGA) with no stop in between."),
    "codon": ("a", "A codon is a group of three bases that codes for one amino acid, or for a stop."),
    "transcription factor binding site": ("a", "A transcription factor binding site is a short DNA motif that a "
                                               "transcription factor protein recognises and binds."),
    "open chromatin region": ("an", "An open chromatin region is DNA not tightly packed in nucleosomes, so "
                                    "proteins can reach it; ATAC-seq and DNase-seq find such regions."),
    "exon": ("an", "An exon is a part of a gene that stays in the mature RNA after splicing."),
    "intron": ("an", "An intron is a part of a gene that is transcribed but spliced out of the RNA."),
    "gene biotype": ("a", "A gene's biotype says what kind of product it makes: protein coding, or other kinds "
                          "such as lncRNA or pseudogene."),
}
# what the assistant does not do
OFF_TOPIC_ASK = ["Write me a poem about the sea.", "What's the weather tomorrow?", "Do I have cancer?",
                 "Can you book me a flight?", "What's the capital of France?", "Tell me a joke."]
OFF_TOPIC_ANSWER = ["I can only help with DNA sequences and genes: paste a sequence and ask about it, or ask about "
                    "a gene by its symbol."]
