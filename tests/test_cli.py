"""The command line: list, show (plain, LaTeX, pretty, steps), bad names, and the installed console script."""

from __future__ import annotations

import subprocess
import sys

import pytest

from derive.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_names_every_required_derivation(capsys):
    code, out, _ = run(capsys, "list")
    names = out.split()
    assert code == 0
    for name in ("nb.pmf", "nb.loglik", "nb.nll_grad_logmu", "mse.grad_logmu", "poisson.logpmf"):
        assert name in names


def test_show_plain_prints_lhs_and_result(capsys):
    code, out, _ = run(capsys, "show", "nb.mean")
    assert code == 0
    assert out.strip().endswith("= mu")


def test_show_latex_uses_textbook_notation(capsys):
    code, out, _ = run(capsys, "show", "nb.loglik", "--latex")
    assert code == 0
    assert r"\log \Gamma\left(\theta + x\right)" in out
    assert r"\log\left(x!\right)" in out
    assert "loggamma" not in out and "operatorname" not in out


def test_show_latex_of_the_theta_gradient_writes_psi(capsys):
    _, out, _ = run(capsys, "show", "nb.nll_grad_theta", "--latex")
    assert r"\psi\left(\theta + x\right)" in out
    assert "polygamma" not in out


def test_show_pretty_is_two_dimensional(capsys):
    code, out, _ = run(capsys, "show", "nb.nll_grad_logmu", "--pretty")
    assert code == 0
    assert "θ" in out and len(out.strip().splitlines()) >= 3


def test_show_steps_tells_the_story_of_7_2(capsys):
    code, out, _ = run(capsys, "show", "nb.nll_grad_logmu", "--steps")
    assert code == 0
    for fragment in ("classic NB", "take the log of the PMF", "negative log-likelihood", "differentiate",
                     "bounded", "proved symbolically", "(definition)"):
        assert fragment in out, fragment
    assert out.count("\n[") == 9


def test_unknown_name_exits_2_with_close_names(capsys):
    code, out, err = run(capsys, "show", "nb.loglk")
    assert code == 2
    assert "unknown derivation 'nb.loglk'" in err and "nb.loglik" in err
    assert out == ""


def test_no_command_prints_help(capsys):
    code, out, _ = run(capsys)
    assert code == 2 and "usage" in out


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "derive.cli", "show", "nb.variance_limit"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("= mu")


@pytest.mark.parametrize("argv", [["show"], ["show", "nb.mean", "--latex", "--pretty"], ["frobnicate"]])
def test_bad_usage_is_an_argparse_error(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
