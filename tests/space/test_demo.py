"""space/demo.py (`make samples`) on a tiny release and the small corpus: one question of every task printed."""


def test_demo_prints_every_task(tiny_release, tiny_setup, capsys):
    from space.demo import main

    main(["--model", str(tiny_release), "--datasets", tiny_setup.datasets, "--split", "validation"])
    out = capsys.readouterr().out
    assert "[GenomicLLM_GRCh38/splice_site]" in out and "[GenomicLLM_GRCh38/reverse_complement:complement]" in out
    assert "sample answers agree with the gold answer" in out
