"""derive gpu (derive/gpu.py): without a GPU it says so and succeeds; on a device it runs the accuracy tables against
the oracle (its exit status is their verdict) and the timed rows. The tests run it on the CPU, on a small problem."""

from __future__ import annotations

import re

import pytest

from derive.cli import main
from derive.spec import kernel_specs


def _torch():
    return pytest.importorskip("torch", reason="torch is not installed (pip install 'nbderive[torch]')")


def test_without_a_gpu_it_says_so_and_exits_0(capsys):
    torch = _torch()
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert main(["gpu"]) == 0
    assert "no GPU" in capsys.readouterr().out


def test_on_the_cpu_every_kernel_meets_its_goal_and_every_row_is_timed(capsys):
    _torch()
    assert main(["gpu", "--device", "cpu", "--cases", "15", "--cells", "40", "--genes", "30", "--repeats", "1",
                 "--seed", "3"]) == 0
    out = capsys.readouterr().out
    for spec in kernel_specs():
        for column in ("torch@cpu", "torch@cpu float32"):
            assert re.search(rf"^PASS +{column} +{spec.name}\b", out, re.MULTILINE), (column, spec.name)
    assert "FAIL" not in out
    from derive.gpu import TIMED

    timed = [line for line in out.splitlines() if line.startswith(tuple(label for label, _, _ in TIMED))]
    assert len(timed) == 2 * len(TIMED) and not any("unavailable" in line or "Error" in line for line in timed)


@pytest.mark.parametrize("args", [["--device", "bogus"], ["--device", "meta"], ["--cases", "0"]])
def test_bad_arguments_are_a_clear_error(args, capsys):
    _torch()
    assert main(["gpu", *args]) == 2
    assert "derive gpu:" in capsys.readouterr().err
