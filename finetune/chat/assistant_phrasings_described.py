"""A fourth set of training-only phrasings of the assistant's questions (same tables as `assistant_phrasings`).

Written by a session shown only the training templates and the task definitions, never the held-out phrasings or
any evaluation output. Its brief asked for phrasings that describe what the user wants in words other than the
task's usual keyword (the property, the experiment that would show it, the use the answer is for): at least 10 of
each task's 16 avoid that keyword. It also asked for contrast between confusable tasks (open chromatin vs sequence
direction vs ORFs; reading-frame call vs splice site vs translation vs ORF finding; orientation call vs reversing vs
reverse-complementing; gene name vs gene summary, with and without a sequence; promoter vs enhancer vs regulatory
class; length vs base counts vs GC content). Placeholders as in the tables they extend.
"""

from __future__ import annotations


ASK: dict[str, list[str]] = {
    "gc_content": [
        "What fraction of {seq} is made of guanine and cytosine? One number, not counts.",
        "{seq}\nhow heavy in strong bases is this? share of G plus C over all bases",
        "I'm worried this probe will melt too high because it's full of Gs and Cs. What proportion is G or C? {seq}",
        "Of every hundred bases in {seq}, roughly how many are G or C? Give it as a fraction.",
        (
            "Is this fragment rich in the bases that pair with three hydrogen bonds? Tell me the proportion of G and C "
            "in {seq}."
        ),
        "proportion of g and c in {seq}",
        "If I picked a random base from {seq}, what's the chance it would be a G or a C?",
        "My nanopore reads drop out over guanine/cytosine-dense regions; what fraction of this one is G or C? {seq}",
        "Not the total length and not the count of each base: just the combined share of G and C in {seq}.",
        "Would {seq} count as AT-poor? Give me the combined G and C proportion as a decimal.",
        "{seq}\nWhat's the S-base (strong, G or C) proportion here?",
        "For a CpG-island call I need the G/C share of this window, as a fraction of its bases: {seq}",
        "How much of this oligo, as a number between 0 and 1, is guanine or cytosine?\n{seq}",
        "Does {seq} have a GC content suitable for a PCR primer? Give me the value.",
        "GC percentage of this amplicon, expressed as a decimal fraction, please: {seq}",
        "i wonder how gc rich {seq} is, as a fraction",
    ],
    "reverse": [
        "Give me {seq} spelled from its last letter to its first, every letter unchanged.",
        "{seq}\nDon't tell me which way it reads; actually write it out last base first, with no complementing.",
        "Write this out back to front so I can paste it into my script (letters unchanged): {seq}",
        "what does {seq} look like mirrored, same letters, last one first",
        "I need the string in opposite order, end to start, without swapping A/T or C/G: {seq}",
        "Could you output {seq} with the last base first, the second-last base second, and so on, no base pairing?",
        "Turn the letter order of {seq} around. Don't replace any base with its partner.",
        "{seq}\nbackwards pls, same letters, dont pair them",
        "If you typed {seq} starting from the final character, what string would come out? Bases unchanged.",
        "Produce a mirror copy of {seq}: the order inverted, the letters themselves untouched.",
        (
            "Hypothetically, if I read this strand starting at its other end, what would the letters say? {seq} (no "
            "pairing)"
        ),
        "For my test data I need {seq} rewritten end-first; the bases stay the same, only their order flips.",
        (
            "I know {seq} isn't the wrong way round; I still need its reversed string for a palindrome search, no "
            "complement."
        ),
        "Reversal only, please, keep the same strand:\n{seq}",
        "Can you give me just the reverse of {seq}? Not the reverse complement, and not an orientation call.",
        "reverse the letters of {seq} (A stays A)",
    ],
    "complement": [
        "Swap each base in {seq} for the one it pairs with, left to right, without turning the result around.",
        "{seq}\nWhat base sits opposite each of these, written in the same order as given?",
        "Write the strand that would pair with {seq} directly underneath it, so position 1 lines up with position 1.",
        "A becomes T, T becomes A, G becomes C, C becomes G: do that for {seq} without reversing anything.",
        "For a duplex diagram, what's the bottom strand under {seq}, read left to right as it sits (3' to 5')?",
        "what pairs with each base of {seq} in order, not flipped",
        "I need the partner base at every position of {seq}, with position 1 still first.",
        "Could you give me the base-pairing mate of every nucleotide in {seq} while leaving the order as typed?",
        "If a strand hybridised to {seq} and I read it off from the left without flipping it, what would it say?",
        "Pair up {seq} base by base and show me only the partner letters, same order, not reversed.",
        "{seq}\nJust swap A<->T and G<->C here. Don't read it backwards and don't tell me its orientation.",
        "Which letter would base-pair with each letter of {seq}? List them in the input order, no reversal.",
        "complement it in place, same order, for my lab notebook drawing: {seq}",
        "Is the plain complement of {seq} something you can give me? Not the reverse complement.",
        "{seq}\nGive me the complementary letters in the same left-to-right order, not the other strand read 5' to 3'.",
        "Write out the complement of {seq} but don't reverse it; I'll align it under the top strand.",
    ],
    "reverse_complement": [
        "I need the antisense oligo that pairs along the whole of this amplicon, written 5'->3': {seq}",
        "My gene sits on the minus strand. Write {seq} as the minus strand would read it, 5' to 3'.",
        "{seq}\nwhat oligo would anneal to this, antiparallel, written 5' to 3'",
        "Give me the strand that base-pairs with {seq}, turned around so it reads 5'->3'.",
        "Swap every base for its partner AND write the result backwards: {seq}",
        "For my guide design I need the bottom-strand sequence of {seq}, in its own 5'->3' sense.",
        "If this sequence is the sense strand, what's the template strand in 5' to 3' order? {seq}",
        "What would a probe that hybridises antiparallel to {seq} have to be, written 5'-3'?",
        "Hypothetically, if I turned this duplex over, what would the new top strand read? {seq}",
        (
            "{seq}\nThe read mapped to the minus strand; convert it so it reads like the plus strand (partner bases, "
            "opposite order)."
        ),
        "I want the other strand of {seq}, not just backwards and not just paired: both, read 5' to 3'.",
        "antisense version of {seq} pls, 5 prime first",
        "Which oligo would hybridise perfectly to {seq}? Write it 5' to 3'.",
        "Take {seq} to its reverse complement; I'm cloning it in the opposite orientation.",
        "{seq}\nNot an orientation check: I need the actual reverse-complement string.",
        "revcomp for my sgRNA on the other strand: {seq}",
    ],
    "nt2aa": [
        "What chain of amino acids would {seq} give, reading codons from the very first base?",
        "{seq}\nThis is in frame already; which residues does it spell out, in one-letter code?",
        "I expressed this insert in E. coli; what peptide should the mass spec see? The codons start at base 1: {seq}",
        "Decode {seq} into protein letters, first codon = first three bases.",
        "What residues would a ribosome string together reading {seq} codon after codon from position 1?",
        (
            "Turn these codons into their amino acids, starting at base one; no need to find a start codon or a frame. "
            "{seq}"
        ),
        "aa seq for {seq}, codons from base 1",
        "Which protein sequence does this in-frame stretch of CDS give me, standard genetic code? {seq}",
        "For my epitope check I need the residues encoded by this coding fragment (codons begin at base 1): {seq}",
        "What would the polypeptide be if {seq} is read in triplets from its first nucleotide?",
        "I wonder what amino acids this piece of coding sequence gives; it starts on a codon boundary. {seq}",
        "{seq}\nConvert to one-letter protein code; the first codon is the first three letters.",
        "Translate {seq} from base 1; I don't need the frame predicted or any ORFs listed.",
        "{seq}\nStraight translation from the first nucleotide, please, standard table.",
        "Can you translate this in-frame coding stretch into residues? It isn't offset. {seq}",
        "nucleotides -> amino acids, beginning at nt 1: {seq}",
    ],
    "splice_site": [
        (
            "Is the midpoint of this genomic window{ctx} where an exon hands over to an intron, where an intron hands "
            "back to an exon, or neither? {seq}"
        ),
        (
            "{seq}\nWould the centre of this region{ctx} be the 5' end or the 3' end of an intron that gets cut out, "
            "or neither?"
        ),
        (
            "Would the base at the centre of this window{ctx} be joined to another exon once an intron is removed? Say "
            "intron start, intron end, or neither. {seq}"
        ),
        (
            "My RNA-seq shows reads jumping across a gap near here{ctx}; is the centre of this window the start of an "
            "intron, the end of one, or neither? {seq}"
        ),
        "is the middle of this 400 bp window{ctx} a GT intron start, an AG intron end, or nothing\n{seq}",
        "Centre position of {seq}{ctx}: exon/intron boundary (donor), intron/exon boundary (acceptor), or no boundary?",
        (
            "I'm checking whether a variant at the centre of this window{ctx} hits a site where an intron is excised. "
            "Donor, acceptor or neither? {seq}"
        ),
        (
            "At the middle of this window{ctx}, does an exon end, does an exon start, or is it inside continuous "
            "sequence? {seq}"
        ),
        "Would an intron be cut out starting at, or ending at, the centre of this sequence{ctx}? Or neither? {seq}",
        (
            "Hypothetically, if this pre-mRNA{ctx} were processed, would its exact midpoint mark the beginning of a "
            "removed intron, the end of one, or nothing? {seq}"
        ),
        "{seq}\nclassify the centre base of this window{ctx}: 5' end of an intron / 3' end of an intron / neither",
        (
            "We see exon skipping in a patient; is the midpoint of this window{ctx} an intron boundary, and which end? "
            "{seq}"
        ),
        "Not a reading-frame question: is there a splice donor or acceptor at the centre of this window{ctx}? {seq}",
        "Splice junction at the midpoint of {seq}{ctx}? Say donor, acceptor or neither, not the coding frame.",
        "Would a splicing model call the middle of {seq}{ctx} a donor, an acceptor, or neither?",
        "{seq}\nsplice donor/acceptor/none at position 200 of this window{ctx}?",
    ],
    "orf_frame": [
        (
            "{seq}\nWhere should translation of this fragment{ctx} begin so it follows the real codons: base 1, 2 or "
            "3? Or does it not code?"
        ),
        (
            "Which in-register offset (1, 2 or 3) does this transcript piece{ctx} have, if any? Don't translate it, "
            "just give the offset. {seq}"
        ),
        (
            "Do the triplets of this exon snippet{ctx} line up starting at nucleotide 1, 2 or 3, or is there no coding "
            "sequence here? {seq}"
        ),
        (
            "I need the codon phase of this fragment{ctx} for my annotation: first full codon at position 1, 2 or 3, "
            "or non-coding. {seq}"
        ),
        (
            "Not looking for start-to-stop stretches: just tell me which base the coding triplets of {seq}{ctx} start "
            "at (1/2/3) or none."
        ),
        (
            "Which of bases 1, 2 and 3 starts the first full codon in this chunk{ctx}? If it's UTR or intronic, say "
            "non-coding. {seq}"
        ),
        (
            "my read{ctx} is from the middle of a CDS i think. which position does the first whole codon begin at, 1 2 "
            "or 3, or is it noncoding\n{seq}"
        ),
        (
            "Before I design a tag fusion I need the codon offset of this fragment{ctx}: does the coding sequence pick "
            "up at base 1, 2 or 3, or is it non-coding? {seq}"
        ),
        (
            "Hypothetically, if this piece{ctx} is part of a protein-coding exon, which nucleotide is the first base "
            "of a codon: 1, 2 or 3? Say so if it isn't coding. {seq}"
        ),
        "What's the in-register starting position for {seq}{ctx}: 1, 2, 3, or no coding sequence at all?",
        (
            "I wonder where the codon boundaries in this snippet{ctx} fall: does the first complete triplet start at "
            "base 1, 2 or 3, or is it non-coding? {seq}"
        ),
        (
            "Give me the position (1, 2 or 3) from which this fragment{ctx} should be read codon by codon, or tell me "
            "it's non-coding. No protein sequence needed. {seq}"
        ),
        (
            "Which frame is this fragment{ctx} in? I don't want it translated or a list of ORFs, just 1, 2, 3 or "
            "non-coding. {seq}"
        ),
        "{seq}\nreading frame call for this snippet{ctx}: 1, 2, 3, or none",
        (
            "Tell me the coding frame (1, 2 or 3) of this transcript fragment{ctx}, not the splice status of its "
            "centre. {seq}"
        ),
        "Before translating {seq}{ctx} myself, which frame should I use, 1, 2 or 3, or is it non-coding?",
    ],
    "sequence_direction": [
        "Did somebody flip this sequence{ctx} end to end before sending it? Just tell me, don't fix it. {seq}",
        "{seq}\nIs this string{ctx} written the natural way round, 5' end first, or is it backwards?",
        "I suspect my export tool wrote some reads back to front. Is this read{ctx} one of them? {seq}",
        "Is {seq}{ctx} back to front? Answer forward or reversed; don't rewrite it.",
        "Would you say this fragment{ctx} reads the way the genome does, or was its base order turned around? {seq}",
        "does this sequence{ctx} look backwards to you? just the call\n{seq}",
        (
            "Hypothetically, if someone had typed this DNA{ctx} starting from its 3' end, would it look like this? Is "
            "it reversed or as it should be? {seq}"
        ),
        (
            "Before I analyse this piece{ctx}, I need to know whether it is reversed or in its natural 5'-to-3' order. "
            "No transformed sequence, only the verdict. {seq}"
        ),
        "Was the base order of this fragment{ctx} flipped by a script, or is it as it came off the genome? {seq}",
        "I'm not asking for the reversed string: is this sequence{ctx} already backwards? {seq}",
        "{seq}\nForward as given, or was this read{ctx} turned around by someone? Classify it.",
        (
            "Does this fragment{ctx} start with its 5' end, as it should, or was it written starting from the 3' end? "
            "{seq}"
        ),
        (
            "What's the orientation of this read{ctx} as pasted, forward or reversed? Don't give me its other strand. "
            "{seq}"
        ),
        "Direction check only (no sequence back, please): is {seq}{ctx} forward or reversed?",
        "{seq}\nwhich way round is this strand{ctx} written? fwd or rev",
        "I wonder whether this DNA{ctx} is in its natural orientation or was flipped. {seq}",
    ],
    "gene_biotype": [
        "Does the gene that begins with this sequence{ctx} end up making a protein, or is its product an RNA? {seq}",
        (
            "{seq}\nWould ribosomes ever read the transcript of the gene starting here{ctx}, or is it a lncRNA or "
            "pseudogene-type gene?"
        ),
        "Is the gene whose first bases are shown here{ctx} one that encodes a polypeptide? {seq}",
        (
            "I have the start of an unannotated gene{ctx}. Is its final product a protein, or a non-coding RNA like a "
            "lncRNA or miRNA? {seq}"
        ),
        "Could the gene opening with {seq} be a pseudogene or an RNA gene rather than one that gets translated?",
        "what kind of product does the gene starting {seq} make, protein or rna",
        (
            "For my proteomics search I need to know whether the gene{ctx} beginning with this sequence gives a "
            "protein at all. {seq}"
        ),
        (
            "Would Ensembl put the gene{ctx} that starts with {seq} in the mRNA-and-protein class or in a non-coding "
            "class?"
        ),
        (
            "Not the coding frame of a fragment, but the whole gene: does the gene{ctx} that opens with {seq} encode a "
            "protein?"
        ),
        "{seq}\nIf I knocked out the gene that begins here{ctx}, would I lose a protein or only an RNA?",
        "Is the locus{ctx} beginning with this stretch a gene for a protein, or a lncRNA, snRNA or pseudogene? {seq}",
        "I wonder what type of gene{ctx} starts with {seq}: one that makes a protein, or something non-coding.",
        "Gene type please, protein_coding or another category, for the gene beginning {seq}",
        "Is the gene{ctx} with this 5' start protein-coding? {seq}",
        "What biotype would the gene{ctx} starting with {seq} have?",
        "{seq}\nprotein coding or non-coding gene{ctx}?",
    ],
    "promoter": [
        "Is this the stretch around a transcription start site where RNA polymerase II assembles? {seq}",
        "{seq}\nWould this DNA start transcription of the gene just downstream of it? yes or no",
        (
            "If I put {seq} directly upstream of a reporter that has no start site of its own, would it initiate the "
            "reporter's transcription? Yes/no"
        ),
        (
            "Does this look like a core element with a TATA box or an initiator, where a gene's transcription begins? "
            "{seq}"
        ),
        "Would a CAGE experiment find transcripts starting within {seq}, making it a gene's start region? yes or no",
        "is this where a gene's mRNA starts being made, the TSS region? y/n {seq}",
        "Not a distal booster element: is {seq} the proximal region where transcription of a gene initiates?",
        "I'm mapping where Pol II loads onto genes. Is this sequence one of those initiation regions? {seq}",
        "Would this fragment, placed at the 5' end of a gene, be enough on its own to get the gene transcribed? {seq}",
        (
            "{seq}\nDoes this sit at the 5' end of a gene, where the basal transcription machinery binds to start RNA "
            "synthesis? Yes or no."
        ),
        "Hypothetically, could this region recruit TFIID and start transcription of the gene right after it? {seq}",
        "I wonder if this is a gene's start-site region, the kind marked by H3K4me3. {seq}",
        "Yes or no: is {seq} a promoter? I'm not asking for enhancer vs open chromatin, just promoter or not.",
        "{seq}\npromoter at a TSS, y/n",
        "For my reporter construct I need a promoter; does {seq} qualify?",
        "Is this upstream stretch a proximal promoter rather than a distal enhancer? Yes or no. {seq}",
    ],
    "tf_binding": [
        "Would a sequence-specific DNA-binding protein sit on {seq} in the cell?",
        (
            "{seq}\nIf I did ChIP-seq for a zinc-finger or homeobox regulator, would this come down in the pulldown? "
            "yes/no"
        ),
        "I'm planning a gel shift with nuclear extract; would this probe get bound and shifted? {seq}",
        "Is there a motif in {seq} that is actually occupied by a regulatory DNA-binding protein?",
        "Would DNase footprinting show a protected patch on this stretch because a protein is bound there? {seq}",
        "is anything like a bHLH or forkhead protein bound here, y/n\n{seq}",
        "Does {seq} hold an occupied recognition site for one of the proteins that switch genes on or off?",
        "My ChIP peaks come from a protein that recognises specific DNA motifs; would {seq} be among its bound sites?",
        "Hypothetically, in a ChIP-exo experiment, would some gene regulator be caught bound to this DNA? {seq}",
        "Is this DNA a docking site for a gene-regulating protein, yes or no? {seq}",
        (
            "{seq}\nI'm not asking whether it's a promoter or an enhancer: does a sequence-specific regulator "
            "physically bind here?"
        ),
        "I wonder if a DNA-binding regulator protein occupies {seq}.",
        "TF occupancy at {seq}: bound or unbound?",
        "Does {seq} contain a bound transcription factor motif, rather than just being accessible DNA?",
        "For my reporter mutagenesis I want to know: is {seq} a real TF binding site?",
        "{seq}\nwould a TF ChIP peak cover this, y/n",
    ],
    "enhancer": [
        "Could {seq} raise expression of a gene tens of kilobases away, working in either orientation?",
        "{seq}\nIs this a distal element that loops to a promoter to boost its transcription? Yes or no.",
        (
            "Would this fragment drive reporter activity in a STARR-seq screen even when placed downstream of the "
            "gene? {seq}"
        ),
        "It's far from any TSS and carries H3K4me1 and H3K27ac; is {seq} a distal activating element?",
        (
            "Does this region boost transcription of its target gene from a distance, rather than being where "
            "transcription starts? {seq}"
        ),
        "distal activator element y/n\n{seq}",
        "In my reporter assay I put candidates next to a minimal promoter; would {seq} push the signal up?",
        "Is {seq} a cis-acting element that amplifies a gene's output from afar? Yes or no.",
        (
            "Hypothetically, if I deleted {seq} with CRISPR, would a gene 50 kb away drop in expression because this "
            "region boosts it?"
        ),
        "Would this stretch act as a long-range activating element for some gene? {seq}",
        "I wonder whether this intergenic segment is a distal booster of transcription. {seq}",
        "{seq}\nDoes this have the hallmarks of an active distal element that increases transcription (not a TSS)?",
        "Enhancer, not promoter: is that what {seq} is? Yes or no.",
        "is this one an enhancer or just background? {seq}",
        "Would you call {seq} an active distal enhancer rather than mere open chromatin?",
        "{seq}\nCould this intronic region be an enhancer for the neighbouring gene?",
    ],
    "open_chromatin": [
        "Is {seq} accessible to Tn5, i.e. would it get tagmented in an ATAC-seq experiment?",
        "{seq}\nIs this DNA nucleosome-depleted and reachable by DNase I? yes or no",
        "Would this stretch give a DNase-seq signal, or is it wrapped up in heterochromatin? {seq}",
        "my ATAC-seq library: would reads pile up over {seq}? y/n",
        "Is the DNA at {seq} exposed, rather than packed into nucleosomes?",
        "Could nucleases reach this stretch easily in intact nuclei, yes or no? {seq}",
        "Is this region accessible, in the chromatin sense, or compacted? Not asking about its orientation. {seq}",
        "I'm not asking about reading frames: is {seq} in an accessible, nucleosome-free part of the genome?",
        "Would FAIRE-seq recover this fragment as nucleosome-free DNA? {seq}",
        "Hypothetically, if I digested nuclei with DNase I, would {seq} be one of the easily cut, accessible regions?",
        "{seq}\ndnase hypersensitive? yes/no",
        (
            "Is this sequence in loosely packed euchromatin that Tn5 can insert into, rather than closed "
            "heterochromatin? {seq}"
        ),
        "I wonder if the chromatin over {seq} is accessible.",
        "Open chromatin yes or no (not open reading frames): {seq}",
        "{seq}\nIs this region open in the ATAC sense? I'm not asking whether it's written forward.",
        "Would {seq} be called an open chromatin region by a peak caller on DNase-seq data?",
    ],
    "regulatory": [
        "Enhancer, promoter or open chromatin region: which of the three Ensembl labels goes with {seq}?",
        (
            "{seq}\nThis is from the Ensembl build. Is it a TSS-proximal element, a distal activator, or just an "
            "accessible region with no other label?"
        ),
        "I need one label out of three, promoter, enhancer or OCR. Which fits {seq}?",
        (
            "Which of these does {seq} look like: where transcription starts, a booster acting from afar, or simply "
            "accessible DNA?"
        ),
        "What's the Ensembl feature type of {seq}? It's one of promoter, enhancer, open chromatin.",
        "promoter or enhancer or just accessible chromatin? pick one\n{seq}",
        "Not a yes/no answer: of promoter, enhancer and open chromatin region, pick the one label for {seq}.",
        (
            "Hypothetically, if Ensembl annotated {seq}, would it be listed under promoters, enhancers or open "
            "chromatin regions?"
        ),
        "My candidate cis-element is {seq}; is it a promoter, an enhancer, or an OCR?",
        "{seq}\nThree-way call please: promoter / enhancer / open chromatin region.",
        (
            "I wonder which of the three categories fits this element best: a promoter, an enhancer, or an open "
            "chromatin region. {seq}"
        ),
        (
            "Is {seq} more like a gene's start region, a distal enhancer, or an accessible site that is neither? Give "
            "one of the three labels."
        ),
        "Which regulatory class is {seq}: promoter, enhancer or open chromatin region? I need the class, not a yes/no.",
        "Classify this cis-regulatory feature as promoter / enhancer / OCR: {seq}",
        "{seq}\nregulatory type? promoter, enhancer or OCR",
        "What kind of regulatory feature is this, in Ensembl's three classes? {seq}",
    ],
    "gene_name": [
        "What do the letters {symbol}{ctx} stand for? Here is the start of that gene: {seq}",
        "{seq}\nThese are the opening bases of {symbol}{ctx}. What's the gene's written-out name?",
        "The symbol {symbol}{ctx} is an abbreviation; what is it short for? It begins {seq}",
        (
            "I have {symbol}{ctx} (sequence starting {seq}) in my plasmid map and need its approved long-form name for "
            "the paper."
        ),
        "What's the official name that {symbol}{ctx} abbreviates? Its first bases: {seq}",
        "name (not function) of {symbol}{ctx}, spelled out; seq {seq}",
        "Hypothetically, if I wrote {symbol}{ctx} without the acronym, what would I write? Starts {seq}",
        "For the figure legend I need {symbol}{ctx} expanded into words. Its sequence opens with {seq}",
        "{seq}\nThat's the start of {symbol}{ctx}. What does the acronym expand to? I don't need to know what it does.",
        "Which protein or RNA name is hidden behind the symbol {symbol}{ctx}? The gene starts {seq}",
        "I wonder what {symbol}{ctx} is called when not abbreviated. Its sequence begins {seq}",
        "Given its first bases, {seq}, what's the HGNC-approved name of {symbol}{ctx}, written out?",
        "Full name of {symbol}{ctx} please; I've pasted its start, {seq}, but I don't need a description.",
        "{symbol}{ctx} starts with {seq}: full gene name, not the summary.",
        "Sequence start {seq}, symbol {symbol}{ctx}. What's the full name?",
        "{seq}\nfull name for {symbol}{ctx}?",
    ],
    "gene_description": [
        "What is {symbol}{ctx} for in the cell? Its first bases are {seq}",
        "{seq}\nThis is the start of {symbol}{ctx}. What job does its product have, and which processes is it part of?",
        "If {symbol}{ctx} were knocked out, what biology would be affected? It starts {seq}",
        "Tell me what {symbol}{ctx} is known to do in the cell, not just its name. Sequence start: {seq}",
        (
            "I'm writing an intro paragraph about {symbol}{ctx} (starts {seq}); what does the gene's product do, and "
            "where?"
        ),
        "what's {symbol}{ctx} known for? starts {seq}",
        "Which pathways does {symbol}{ctx} take part in, and what does its product do? It begins {seq}",
        (
            "{seq}\nThe gene {symbol}{ctx} opens with these bases. Give me the RefSeq-style paragraph on what it is "
            "and does."
        ),
        "Why would {symbol}{ctx} matter to a cell biologist? Here are its first bases: {seq}",
        "Hypothetically, if {symbol}{ctx} came up in my screen, what would I need to know about its role? Start: {seq}",
        "What does the product of {symbol}{ctx} do, and which diseases is it linked to? Its sequence starts {seq}",
        "Not the expanded name: what is the biological role of {symbol}{ctx}? It begins {seq}",
        "Give me a functional overview of {symbol}{ctx}; sequence {seq}",
        "{symbol}{ctx} (starting {seq}): short description of what the gene does, please.",
        "Summarise {symbol}{ctx} for me; its sequence begins {seq}",
        "{seq}\nDescribe {symbol}{ctx}; this is its 5' start.",
    ],
    "reading_comprehension": [
        "{record}\n{seq}\nGoing only by what's written above, what's the {field}?",
        "Don't predict anything; the answer is in the text I pasted. What is the {field}? {record} {seq}",
        "What {field} is stated in this annotation block? {record}; {seq}",
        "From the pasted entry, read me back the {field}.\n{record}\n{seq}",
        "I copied this from our LIMS: {record}, {seq}. What does it say for {field}?",
        "Look in {record} ({seq}) and tell me the {field} exactly as written.",
        "{field} according to this text? {record} - {seq}",
        "Given {record} and the sequence {seq}, what value is listed under {field}?",
        "Hypothetically, if you only had this entry ({record}; {seq}), what would you say the {field} is?",
        "{record}\n{seq}\nthe {field} is listed somewhere here, what is it",
        "I wonder what {field} this entry lists. {record}, sequence {seq}",
        "Scan the annotation and quote the {field}: {record} / {seq}",
        "Record pasted below; just return the {field} it contains.\n{record}\n{seq}",
        "What's in the {field} field of this record? {record}; {seq}",
        "Please look up the {field} in the record rather than predicting it: {record} (sequence {seq})",
        "{record}\n{seq}\nno model needed, the record already says it: {field}?",
    ],
    "length": [
        "{seq}\nHow many nucleotides is this altogether? One number.",
        "What's the bp size of this insert, as a single number, not per-base counts? {seq}",
        "Would {seq} fit in a 200-nt oligo pool? How many bases is it?",
        "count the letters in {seq}, total",
        "I need the number of positions in this read for my coverage calculation: {seq}",
        "What's the last position number if I index {seq} from 1?",
        "How big is this fragment, in nucleotides? Not the G/C share, just the size. {seq}",
        "Hypothetically, if I had {seq} synthesised, how many bases would I be paying for?",
        "Before I run this on a gel, how many bp should I expect? {seq}",
        "{seq}\nnumber of nt?",
        "I wonder how many base pairs this amplicon spans. {seq}",
        "Tell me the size of {seq} in bases, counting every letter once.",
        "Total length of {seq}, not the separate counts of A, C, G and T.",
        "How long is this primer in nt? {seq}",
        "{seq}\nlength in bp, just the number",
        "Is {seq} long enough to cover a 300-cycle read? Give me the exact length.",
    ],
    "base_counts": [
        "In {seq}, how many times does A occur? And C, G and T?",
        "{seq}\nHow many of each letter (A, C, G, T)? Not the total and not a GC fraction.",
        "Break the composition of {seq} down into the number of A, C, G and T, as whole numbers.",
        "What's the makeup of this oligo by nucleotide? Four integers, please: {seq}",
        "how many a c g t in {seq}",
        "I suspect this oligo is poly-A heavy; how many As, Cs, Gs and Ts does it have? {seq}",
        "For my dNTP calculation I need how many of each nucleotide {seq} contains.",
        "Hypothetically, if I built {seq} one base at a time, how many A, C, G and T monomers would I use?",
        "Give me four numbers for {seq}: the occurrences of A, C, G and T.",
        "{seq}\nhow many of each nucleotide is there, separately?",
        "I wonder how the four bases are distributed in {seq}, as absolute numbers per base.",
        "Which letters occur in {seq}, and how many of each?",
        "Base counts for {seq}, not the length and not the GC fraction.",
        "Count A, C, G and T in the following, one number per base:\n{seq}",
        "Per-base counts please, {seq}",
        "Could you count each nucleotide type in {seq} rather than giving me the total?",
    ],
    "find_orfs": [
        "Is there any stretch in {seq} that runs from an ATG to a stop codon in the same frame?",
        "{seq}\nCould this encode a protein anywhere? Show me every start-codon-to-stop-codon stretch on this strand.",
        "Where in {seq} could a ribosome start at an ATG and keep going until it hits TAA, TAG or TGA? List them.",
        "I'm annotating a phage contig; find every potential protein-coding stretch (ATG through stop) in {seq}",
        "how many atg to stop stretches in {seq}, and where",
        "Does {seq} contain an uninterrupted run of codons from a start to a stop? Give coordinates.",
        "Scan this for possible genes: start codon, codons, stop codon. {seq}",
        (
            "Hypothetically, if {seq} were a bacterial genome fragment, where would its candidate coding regions start "
            "and end?"
        ),
        "Not its chromatin state, and not a single frame call: list the start-to-stop coding stretches in {seq}.",
        "{seq}\nAny places where an ATG is followed, in frame, by a stop? Positions please.",
        "I wonder whether {seq} has any complete coding stretches, from a Met codon to a terminator.",
        (
            "Which regions of {seq} could be translated from a start codon all the way to a stop? Give start and end "
            "positions and the longest."
        ),
        "Does {seq} have an ORF in it? Not chromatin, reading frames: list them.",
        "ORF search on the forward strand, with coordinates:\n{seq}",
        "List the ORFs in {seq}; I'm not asking which frame a fragment is in.",
        "{seq}\nany orfs? give positions",
    ],
    "translate_frame": [
        "Give me the amino acids you get when the codons of {seq} start at base {frame}.",
        "{seq}\nSkip ahead to nucleotide {frame} and read the codons from there: what protein comes out?",
        "What peptide does {seq} encode if the first codon begins at position {frame} instead of 1?",
        (
            "I know the coding offset of this fragment is {frame}. Please give me the residues it encodes from there. "
            "{seq}"
        ),
        "Read {seq} in triplets starting at its base {frame} and tell me the one-letter protein.",
        "Drop the bases before position {frame} of {seq} and convert the rest into amino acids.",
        "{seq}\ncodons from nt {frame}, give me the aa sequence",
        "The classifier said the first whole codon is at base {frame}; what protein does {seq} give read that way?",
        (
            "Hypothetically, if the ribosome landed on nucleotide {frame} of {seq}, what residues would it string "
            "together?"
        ),
        "Not which offset is right, I already have that: give me the protein from base {frame} of {seq}.",
        "What would the amino-acid sequence of {seq} be with codons phased to begin at position {frame}?",
        "I wonder what residues {seq} encodes when read from its nucleotide {frame} onward.",
        "Translate {seq} starting at nucleotide {frame}, not from base 1 and not as an ORF search.",
        "{seq}\nframe {frame} protein please",
        "Translate in the +{frame} forward frame: {seq}",
        "Give me {seq} translated in reading frame {frame} for my fusion construct.",
    ],
    "gene_lookup_name": [
        "The letters {symbol}: what gene name are they an abbreviation of?",
        "{symbol} is an abbreviation; what's the written-out gene name?",
        "I need to write {symbol} out in words for a grant. What is it short for?",
        "What's the approved HGNC long-form name behind {symbol}? No sequence, just the symbol.",
        "expand {symbol} pls, the name not what it does",
        "Hypothetically, if the gene {symbol} were never abbreviated, what would it be called?",
        "Which protein or RNA name does {symbol} abbreviate?",
        "What's the unabbreviated gene name for {symbol}? I don't need its role.",
        "For my figure legend I have to spell out {symbol}. What's the name?",
        "I wonder what {symbol} means as an acronym.",
        "{symbol}\nwhat does that abbreviation expand to",
        "Our reviewer asked us to define {symbol} at first use. What's the gene called?",
        "Full name for {symbol}, just the name, no summary of what it does.",
        "No sequence here: what's the full gene name of {symbol}?",
        "{symbol}: full name of the gene, please, not a description.",
        "What is the full official name that goes with the symbol {symbol}?",
    ],
    "gene_lookup_summary": [
        "What is {symbol} for in the cell?",
        "If {symbol} were knocked out, what would go wrong, and what does the gene normally take part in?",
        "I don't need its expanded name; what's the job of {symbol}?",
        "{symbol} showed up as a top hit in my CRISPR screen. What is this gene known to be involved in?",
        "what's {symbol}'s role, in a paragraph",
        "Which processes and pathways does {symbol} take part in?",
        "Give me the background on {symbol}: what its product does and where it acts.",
        "Hypothetically, if I overexpressed {symbol}, what biology would I be touching?",
        "Why is {symbol} studied? What does its protein or RNA do?",
        "I wonder what {symbol} actually does, beyond what its name says.",
        "{symbol}\nwhat is this gene involved in",
        "What is known about the role of the gene {symbol} in the cell? I only have the symbol, no sequence.",
        "Summary of {symbol}'s function, not its full name.",
        "Could you describe what {symbol} does? The name I already know.",
        "NCBI-style functional summary for {symbol}, please.",
        "function of the gene {symbol}, briefly",
    ],
    "describe_gene": [
        "What is this the start of, and what does that gene do? {seq}",
        "{seq}\nWhose 5' end is this? Tell me about the gene.",
        "I don't have a symbol, only these first bases: {seq}. Identify the gene and tell me what it's for.",
        (
            "Hypothetically, if you saw {seq} at the beginning of a transcript, what gene would you guess it is, and "
            "what is its role?"
        ),
        "unknown gene start {seq}, what is it and what does it do",
        "My cDNA clone has no annotation; its first bases are {seq}. What gene is it, and what does its product do?",
        "Tell me what gene this is from its opening bases, plus its role in the cell: {seq}",
        "Can you put a name and a role to the gene that opens with {seq}?",
        "What gene do these first bases belong to, and why would anyone study it? {seq}",
        "{seq}\nNo symbol given. Identify what starts here and give me a short paragraph about it.",
        "I wonder what this opening sequence belongs to, and what that gene is known for. {seq}",
        "From just {seq}, name the gene it begins and tell me what the gene is involved in.",
        "Which gene starts with {seq}? Please describe it; I don't know its symbol.",
        "Describe the gene that begins {seq}, including its name.",
        "{seq}\nwhich gene starts like this and what is it for",
        "I pasted the opening bases of some gene: {seq}. Identify it and describe what it is for.",
    ],
}

# this set adds question phrasings only: the other tables of `assistant_phrasings` are the earlier sets'
FOLLOW_UP: dict[str, list[str]] = {}
REFUSE_ASK: list[str] = []
CLARIFY_ASK: list[str] = []
SECOND: list[str] = []
NO_TASK_ASK: list[str] = []
CONCEPT_ASK: list[str] = []
OFF_TOPIC_ASK: list[str] = []
