"""The Chat tab's keyword router. It tests tasks/router.py, not a space module: it came from
tests/test_space_app.py and belongs in tests/tasks/test_router.py (to be moved there with `git mv`)."""


def test_router_rules():
    from tasks.router import route

    cases = {"what's the GC content": "gc_content", "Translate this please": "nt2aa",
             "reverse complement": "reverse_complement", "the complement": "complement",
             "read it backwards": "reverse", "is this a promoter?": "promoter", "an enhancer?": "enhancer",
             "is it protein coding?": "gene_biotype", "which reading frame": "orf_frame",
             "describe this gene": "gene_description", "ACGTACGTAA, GC content =": "gc_content",
             "splice donor or acceptor?": "splice_site", "does a transcription factor bind": "tf_binding"}
    for text, task in cases.items():
        assert route(text).task == task, text
    r = route("reverse complement of acgt acgt acgt")
    assert r.sequence == "acgtacgtacgt"
    assert route("hello there").task is None


def test_a_named_histone_mark_names_its_benchmark():
    from tasks.router import route

    cases = {"does ACGTACGTACGT carry H3K4me3?": "GUE/emp_H3K4me3", "is this H4ac? ACGTACGTAC": "GUE/emp_H4ac",
             "h3k36me3 methylated ACGTACGTACGT": "GUE/emp_H3K36me3", "histone H3 occupancy ACGTACGTAC": "GUE/emp_H3",
             "is there a histone mark on ACGTACGTAC": None}
    for text, benchmark in cases.items():
        r = route(text)
        assert (r.task, r.benchmark) == ("histone_mark", benchmark), text
        assert r.sequence.startswith("ACGTACGTAC"), text  # "H4ac" lends no letters to the DNA run
    assert route("is H3 a promoter? ACGTACGTAC").benchmark is None  # a mark named, but not asked about
