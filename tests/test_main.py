import pytest

from skrnn.__main__ import main


@pytest.mark.parametrize(
    "task, models",
    [
        ("tag", ["HMMTagger()", "HMMTagger(order=2)", "RNNTagger(random_state=0)"]),
        ("classify", ["RNNClassifier(random_state=0)"]),
    ],
)
def test_main_job_prints_a_score_per_model(task, models, capsys):
    assert main([task, "--n-sequences", "120"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("data: synthetic")
    rows = {line[:34].strip(): line[34:].split() for line in lines[2:]}
    assert list(rows) == models
    for score, fit_s, predict_s in rows.values():
        assert 0.5 < float(score) <= 1.0  # well above chance on these tasks
        assert float(fit_s) >= 0 and float(predict_s) >= 0
