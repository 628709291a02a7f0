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
