"""``python -m tinyreg``: a tour of the main lessons in under a minute.

Quick versions of experiments 2, 1 and 4 (each prints its own summary), then one Adam + L2 step next to one AdamW step
on the same gradients, equation by equation (``python -m tinyreg explain --compare adam adamw --steps 1``), to show
where the decay enters.
"""

import sys
import time
from pathlib import Path

from tinyreg.experiments.runner import is_tour_output, run_experiment, staged_output
from tinyreg.explain import compare_text

PARTS = (
    ("high-dim-regression",
     "An L2 penalty rescues a model with 200 weights and 20 training points; for plain SGD the penalty and the "
     "optimizer's weight_decay are the same update."),
    ("weight-decay-histograms",
     "Weight decay pulls the weight distribution towards 0; Adam + L2 and AdamW do it differently."),
    ("adamw-vs-l2",
     "Where the good weight decay sits on a learning rate × λ grid under L2, the paper's decoupled η_t·λ and torch's "
     "lr·λ (a 3 × 4 corner in seconds, too small to read a slope from; the full run: docs/adamw-vs-l2.md)."),
)


def tour(seed: int = 0, out=None, stdout=None) -> dict:
    """Run the tour and return each part's record (what ``run NAME --quick`` would write to metrics.json)."""
    stdout = stdout or sys.stdout
    start = time.perf_counter()
    records = {}
    # The parts' folders appear together, when the whole tour is done; only an earlier tour's output is replaced.
    with staged_output(out, is_tour_output([name for name, _ in PARTS])) as staging:
        print("tinyreg tour: how regularization acts on training, in quick runs (the full ones: python -m tinyreg "
              "run NAME)\n", file=stdout)
        for number, (name, lesson) in enumerate(PARTS, start=1):
            print(f"--- {number}. {lesson}", file=stdout)
            part_out, shown_out = (None, None) if out is None else (staging / name, Path(out) / name)
            records[name] = run_experiment(name, seed=seed, out=part_out, quick=True, stdout=stdout,
                                           shown_out=shown_out)
            print(file=stdout)
    print(f"--- {len(PARTS) + 1}. Where the decay enters, equation by equation (Algorithm 2 of Loshchilov & Hutter)",
          file=stdout)
    print(compare_text("adam", "adamw", steps=1), file=stdout)
    print(f"\ntour done in {time.perf_counter() - start:.0f} s. Next: python -m tinyreg list | run NAME [--quick] | "
          "explain", file=stdout)
    return records
