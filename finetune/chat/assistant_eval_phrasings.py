"""A second held-out set of question templates, for evaluation only (`assistant_eval --fresh`).

Written by a session shown nothing of the project's templates (neither the training nor the held-out ones): only
each task's definition, labels and placeholders. The tables' own held-out templates measure phrasings the LoRA has
not seen, but the training-only phrasings were written after evaluations on those had been looked at; these measure
generalisation with no such contact. Four per task (three where one written equalled a training template and was
dropped; reading comprehension, whose answer is in the question, has none); a test asserts that no training
template equals one of them.
"""

from __future__ import annotations


ASK: dict[str, list[str]] = {
    "gc_content": [
        "What's the GC content of this sequence? {seq}",
        "{seq}\n\nCan you give me the G+C percentage for that fragment?",
        "I'm designing primers and need to know how GC-rich this amplicon is:\n{seq}\nWhat fraction is G or C?",
        "gc fraction of {seq} ?",
    ],
    "reverse": [
        "Reverse this sequence for me (just flip the order, do NOT complement it): {seq}",
        "{seq}\nWrite that string backwards, last base first, keeping the same letters.",
        "Can you give me the simple reverse (not the reverse complement) of the following DNA?\n{seq}",
        "Read this back to front without changing any bases: {seq}",
    ],
    "complement": [
        "What is the complement of {seq}? Keep the same order, just swap each base (A<->T, C<->G).",
        "{seq}\n\nGive me the base-by-base complementary sequence, not reversed.",
        "Please write the complementary strand of this DNA aligned base for base under the original (same left-to-right order, no reversing):\n{seq}",
        "complement only (no reverse) of this: {seq}",
    ],
    "reverse_complement": [
        "What's the reverse complement of {seq}?",
        "{seq}\nI need the opposite strand written 5'->3'. Can you revcomp it?",
        "For a primer on the minus strand I need the reverse-complemented version of this oligo:\n{seq}",
        "Give me the other strand, read 5' to 3', for the following sequence: {seq}",
    ],
    "nt2aa": [
        "Translate this coding sequence into protein (three-letter amino acid codes): {seq}",
        "{seq}\n\nThis fragment is in frame from its first nucleotide. What peptide does it encode?",
        "Which amino acids does this CDS stretch code for, reading codons from the very first base with the standard genetic code?\n{seq}",
        "protein translation of {seq} please",
    ],
    "splice_site": [
        "Is the centre of this 400 nt window{ctx} a splice donor, a splice acceptor, or neither?\n{seq}",
        "{seq}\nLooking at the middle position of that genomic window{ctx}: is it a 5' splice site (exon/intron boundary), a 3' splice site (intron/exon boundary), or not a splice junction at all?",
        "I pulled a 400-bp region{ctx} around a candidate junction: {seq} Does its central position mark an intron start (donor), an intron end (acceptor), or no splice site?",
        "splice site type at the midpoint of this sequence{ctx}? donor / acceptor / none\n{seq}",
    ],
    "orf_frame": [
        "In which reading frame (1, 2 or 3) does the coding sequence in this fragment{ctx} start, or is it non-coding?\n{seq}",
        "{seq}\nFor that piece of transcript{ctx}, at which position does the first complete codon of the CDS begin: base 1, 2 or 3? Say so if it's not coding at all.",
        "I have a chunk of sequence{ctx} that may be part of an exon: {seq} Which frame is it read in, if any?",
        "Coding frame offset for this fragment{ctx}? (1/2/3 or noncoding) {seq}",
    ],
    "sequence_direction": [
        "Is this sequence{ctx} written 5'->3' or has it been reversed?\n{seq}",
        "{seq}\nI'm not sure whether somebody flipped this string{ctx}. Is it in the forward orientation or written backwards?",
        "Was the following DNA{ctx} given in its natural 5' to 3' order, or is it read 3' to 5'? {seq}",
        "forward or reversed? sequence{ctx}: {seq}",
    ],
    "gene_biotype": [
        "This is the start of a gene{ctx}. Is that gene protein coding?\n{seq}",
        "{seq}\nThe gene{ctx} that begins with this sequence: does it encode a protein, or is it a non-coding RNA / pseudogene type of gene?",
        "Can you tell me the biotype of the gene{ctx} starting here: protein-coding or something else? {seq}",
        "protein_coding or not? gene start{ctx}: {seq}",
    ],
    "promoter": [
        "Is this sequence a promoter? {seq}",
        "{seq}\nWould you classify that region as a promoter (core/proximal promoter around a TSS) or not?",
        "I found this upstream region in my locus and wonder whether it could drive transcription as a promoter:\n{seq}\nYes or no?",
        "promoter or non-promoter: {seq}",
    ],
    "tf_binding": [
        "{seq}\nIs that a TF binding site, e.g. a ChIP-seq peak for some transcription factor?",
        "Would you expect this DNA to be occupied by a transcription factor in vivo?\n{seq}",
        "TFBS yes/no: {seq}",
    ],
    "enhancer": [
        "Is this sequence an enhancer? {seq}",
        "{seq}\nCould that region act as a distal enhancer, or not?",
        "We're screening candidate cis-regulatory regions for reporter assays. Does this one look like an enhancer?\n{seq}",
        "enhancer? y/n {seq}",
    ],
    "open_chromatin": [
        "{seq}\nWould that stretch be accessible chromatin (e.g. a DNase/ATAC-seq peak), yes or no?",
        "Is the following DNA likely to sit in nucleosome-depleted, accessible chromatin?\n{seq}",
        "open chromatin or closed? {seq}",
    ],
    "regulatory": [
        "Which kind of Ensembl regulatory element is this: enhancer, promoter, or open chromatin region? {seq}",
        "{seq}\nThat's a regulatory feature from the Ensembl regulatory build. What type is it?",
        "What class of regulatory region does this sequence belong to — promoter, enhancer or just an open chromatin region?\n{seq}",
        "regulatory element type for {seq}",
    ],
    "gene_name": [
        "What is the full name of the gene {symbol}{ctx}? Its start is {seq}",
        "{seq}\nThis is the beginning of {symbol}{ctx}. What does that symbol stand for, i.e. the official gene name?",
        "The sequence {seq} is the 5' end of gene {symbol}{ctx}. Give me its full name.",
        "full gene name for {symbol}{ctx} (starts with {seq})?",
    ],
    "gene_description": [
        "Here is the start of the gene {symbol}{ctx}: {seq}\nCan you give me the summary of what this gene does?",
        "{seq}\nThat's where {symbol}{ctx} begins. Describe the gene's function, like the RefSeq summary.",
        "What is known about gene {symbol}{ctx}, whose first bases are {seq}? Give me a functional description.",
        "summary of {symbol}{ctx}, start sequence {seq}",
    ],
    "length": [
        "{seq}\nHow many bases (nt) are in that fragment in total?",
        "Quick one: what's the length in bp of the following read?\n{seq}",
        "count total nucleotides: {seq}",
    ],
    "base_counts": [
        "How many A, C, G and T are in this sequence? {seq}",
        "{seq}\nGive me the count of each nucleotide in that string.",
        "Can you tally the base composition (number of As, Cs, Gs, Ts) of the following DNA?\n{seq}",
        "per-base counts for {seq}",
    ],
    "find_orfs": [
        "Find the open reading frames (ATG to stop codon) in this sequence: {seq}",
        "{seq}\nAre there any ORFs on the forward strand of that? List each one starting at ATG and ending at a stop codon.",
        "I'd like to scan this contig for potential protein-coding ORFs (start codon through stop). How many are there and where?\n{seq}",
        "list ORFs in {seq}",
    ],
    "translate_frame": [
        "Translate this sequence into protein starting at base {frame}: {seq}",
        "{seq}\nSkip the leading nucleotide(s) and translate it from position {frame} onward. What amino acid sequence do you get?",
        "What peptide does this DNA encode if I read codons beginning at nucleotide {frame}?\n{seq}",
        "translation from nt {frame} of {seq}",
    ],
    "gene_lookup_name": [
        "What is the full name of the gene {symbol}?",
        "{symbol} — what's the official full gene name?",
        "I keep seeing {symbol} in a paper. What is that gene called in full?",
    ],
    "gene_lookup_summary": [
        "What does the gene {symbol} do?",
        "{symbol}: what is its biological role? A short RefSeq-style summary is fine.",
        "I'm new to this pathway. What's known about {symbol} and what is it involved in?",
    ],
    "describe_gene": [
        "{seq}\nThis is the beginning of a gene. Can you identify it and describe its function?",
        "I have the 5' end of a gene here:\n{seq}\nWhat gene is it and what is its role?",
        "identify and describe the gene whose start is {seq}",
    ],
}
