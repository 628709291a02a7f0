"""A third held-out set of question templates, for evaluation only (`assistant_eval --fresh third`).

Written by a session shown nothing of the project's templates (neither the training nor the held-out ones nor any
evaluation output): only each task's definition and placeholders. The second set (`assistant_eval_phrasings`) was
written the same way; this one was written after the fourth training set, whose brief named the task pairs the
first held-out set confused, so it measures that training on phrasings nobody tuned it to. Four per task (three for
length, whose fourth equalled a training template and was dropped; reading comprehension, whose answer is in the
question, has none); a test asserts that no training template equals one.
"""

from __future__ import annotations


ASK: dict[str, list[str]] = {
    "gc_content": [
        "What is the GC content of this sequence? {seq}",
        (
            "I'm designing primers and want to make sure the amplicon isn't too GC-rich. What fraction of it is G or "
            "C? {seq}"
        ),
        "gc % of {seq}",
        "{seq}\nCan you calculate the GC content of the sequence above?",
    ],
    "reverse": [
        "Please write this sequence backwards, without complementing it: {seq}",
        (
            "For a sanity check in my pipeline I need the plain reverse of this string, just the bases in reverse "
            "order with no complementing: {seq}"
        ),
        "reverse this (not revcomp): {seq}",
        "{seq}\nReverse the order of the bases above. Don't complement them.",
    ],
    "complement": [
        "What is the complement of this DNA sequence? Keep the same order, don't reverse it. {seq}",
        (
            "I have the template strand written out in my notebook and need the base-paired strand underneath it, "
            "aligned position by position (not reversed): {seq}"
        ),
        "complement only, no reversing: {seq}",
        "{seq}\nGive me the complementary base at each position of this sequence, in the same order.",
    ],
    "reverse_complement": [
        "What is the reverse complement of {seq}?",
        (
            "I need to order a primer that binds the opposite strand of this region. Can you give me the reverse "
            "complement, written 5' to 3'? {seq}"
        ),
        "revcomp pls: {seq}",
        "{seq}\nWrite out the other strand of this DNA, read 5'->3'.",
    ],
    "nt2aa": [
        "Translate this coding sequence into protein, starting from the first base: {seq}",
        (
            "I cloned this ORF fragment and want to check the amino acid sequence it encodes. It's in frame from the "
            "first nucleotide. {seq}"
        ),
        "aa seq for {seq}",
        "{seq}\nWhat protein sequence does this in-frame coding fragment translate to (standard genetic code)?",
    ],
    "splice_site": [
        "Is the central position of this genomic window{ctx} a splice donor, a splice acceptor, or neither? {seq}",
        (
            "I'm looking at a variant that sits right in the middle of this 400-bp genomic window{ctx}. Is that middle "
            "position a donor site, an acceptor site, or not a splice site? {seq}"
        ),
        "splice site at the centre of this seq{ctx}? donor/acceptor/none {seq}",
        "{seq}\nDoes the middle of this sequence{ctx} mark a splice donor, a splice acceptor, or neither?",
    ],
    "orf_frame": [
        (
            "Which reading frame is this transcript fragment{ctx} in? Does the first complete codon start at position "
            "1, 2 or 3, or is it non-coding? {seq}"
        ),
        (
            "I pulled this piece out of an RNA-seq assembly and want to know where its coding frame starts. For this "
            "fragment{ctx}, is the first full codon at base 1, 2 or 3, or is it not coding at all? {seq}"
        ),
        "frame of this fragment{ctx}? 1/2/3 or noncoding: {seq}",
        (
            "{seq}\nAt which position (1, 2 or 3) does the coding frame of this transcript fragment{ctx} begin, or is "
            "it non-coding?"
        ),
    ],
    "sequence_direction": [
        "Is this sequence{ctx} written in the forward 5'->3' direction, or has it been reversed? {seq}",
        (
            "A collaborator sent me this sequence{ctx} but I'm not sure whether they pasted it 5' to 3' or backwards. "
            "Can you tell me which orientation it's in? {seq}"
        ),
        "is this seq{ctx} forward or reversed? {seq}",
        "{seq}\nDoes this sequence{ctx} read 5'->3' as given, or is it written backwards?",
    ],
    "gene_biotype": [
        (
            "What is the biotype of the gene that starts with this sequence{ctx}? Is it protein coding or something "
            "else? {seq}"
        ),
        (
            "I found this sequence{ctx} at the start of an annotated gene and want to know whether the gene encodes a "
            "protein or is some other type, like a lncRNA or a pseudogene. {seq}"
        ),
        "biotype of the gene starting with this seq{ctx}? protein coding or not: {seq}",
        "{seq}\nThe gene that begins with this sequence{ctx}: is it protein coding, or a different biotype?",
    ],
    "promoter": [
        "Is this sequence a promoter? {seq}",
        (
            "We're testing upstream regions in a luciferase reporter assay and I'd like a prediction first: is this "
            "sequence a promoter? {seq}"
        ),
        "promoter y/n: {seq}",
        "{seq}\nWould you classify this region as a promoter or not?",
    ],
    "tf_binding": [
        "Does a transcription factor bind to this sequence? {seq}",
        (
            "Before we run a ChIP-qPCR validation, I'd like to know whether this region is likely to be bound by a "
            "transcription factor. Yes or no? {seq}"
        ),
        "tf binding site? {seq}",
        "{seq}\nIs this sequence bound by a transcription factor?",
    ],
    "enhancer": [
        "Is this DNA sequence an enhancer? {seq}",
        (
            "I'm screening noncoding regions near a developmental gene for a STARR-seq experiment. Is this one an "
            "enhancer? {seq}"
        ),
        "enhancer or not: {seq}",
        "{seq}\nWould you say this sequence is an enhancer? Yes or no.",
    ],
    "open_chromatin": [
        "Is this sequence located in open chromatin? {seq}",
        (
            "We have ATAC-seq data for a few cell types but not for this region. Would you expect it to be in "
            "accessible chromatin? {seq}"
        ),
        "open chromatin? y/n {seq}",
        "{seq}\nDoes this sequence fall in an accessible (open) chromatin region?",
    ],
    "regulatory": [
        "What kind of regulatory element is this: an enhancer, a promoter, or an open chromatin region? {seq}",
        (
            "This region is annotated as a regulatory feature in Ensembl, but I can't remember which type. Is it an "
            "enhancer, a promoter, or an open chromatin region? {seq}"
        ),
        "regulatory element type (enhancer/promoter/open chromatin)? {seq}",
        "{seq}\nWhich class of Ensembl regulatory feature does this sequence belong to?",
    ],
    "gene_name": [
        "What is the full name of the gene {symbol}, which starts with this sequence{ctx}? {seq}",
        (
            "I'm annotating a contig and found this sequence{ctx} at the start of {symbol}. What's the gene's full "
            "name? {seq}"
        ),
        "{symbol} full name? starts with this seq{ctx}: {seq}",
        "{seq}\nThis sequence{ctx} is the start of the gene {symbol}. What is that gene's full name?",
    ],
    "gene_description": [
        "Can you give me a summary of the gene {symbol}? Its sequence{ctx} begins like this: {seq}",
        (
            "I'm writing up a results section and need a short description of {symbol}, whose start sequence{ctx} is "
            "below. What does this gene do? {seq}"
        ),
        "summary of {symbol}, start seq{ctx}: {seq}",
        "{seq}\nAbove is the start sequence{ctx} of {symbol}. Describe this gene and what it does.",
    ],
    "length": [
        "I need to know the insert size before I set up the gel. How many bases are in this sequence? {seq}",
        "seq length? {seq}",
        "{seq}\nHow many nucleotides does this have?",
    ],
    "base_counts": [
        "How many A, C, G and T bases are in this sequence? {seq}",
        (
            "For a homework problem on nucleotide composition I need the count of each base (A, C, G, T) in this "
            "sequence: {seq}"
        ),
        "count each base: {seq}",
        "{seq}\nGive me the number of As, Cs, Gs and Ts above.",
    ],
    "find_orfs": [
        "Are there any open reading frames on the forward strand of this sequence? {seq}",
        (
            "I'm looking for candidate coding regions in this cloned fragment. Can you find the ORFs (ATG to stop) on "
            "the forward strand and tell me where they are? {seq}"
        ),
        "find orfs (fwd strand): {seq}",
        "{seq}\nHow many ORFs, from ATG to a stop codon, are on the forward strand? Please list them.",
    ],
    "translate_frame": [
        "Translate this sequence into amino acids starting at base {frame}: {seq}",
        (
            "My read seems to be offset, so the coding frame starts at nucleotide {frame}. Can you translate it from "
            "there? {seq}"
        ),
        "translate frame {frame}: {seq}",
        "{seq}\nPlease give the protein translation of this, beginning at nucleotide {frame}.",
    ],
    "gene_lookup_name": [
        "What is the full name of the gene {symbol}?",
        (
            "A colleague keeps mentioning {symbol} in lab meetings and I've never asked. What does the gene symbol "
            "stand for?"
        ),
        "{symbol} full gene name?",
        "What's the official full name for the gene with the symbol {symbol}?",
    ],
    "gene_lookup_summary": [
        "What does the gene {symbol} do?",
        "{symbol} came up as a hit in my CRISPR screen. Can you give me a quick summary of what it does?",
        "{symbol} function summary",
        "Could you describe the role of the {symbol} gene?",
    ],
    "describe_gene": [
        "Which gene starts with this sequence? Please describe it. {seq}",
        (
            "I have this sequence from the 5' end of an unannotated transcript. Can you identify which gene it belongs "
            "to and tell me what it does? {seq}"
        ),
        "what gene is this + what does it do: {seq}",
        "{seq}\nCan you identify the gene that begins with this sequence and give a brief description?",
    ],
}
