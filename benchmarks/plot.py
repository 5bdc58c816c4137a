"""``--plot``: step time against workload, one line per implementation (needs matplotlib, the ``plot`` extra)."""


def plot_update(payload: dict, path: str) -> None:
    """One panel per (thread count, optimizer); x the workloads, y the median step time on a log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = payload["rows"]
    optimizers = [o for o in payload["optimizers"] if any(r["optimizer"] == o for r in rows)]
    threads = sorted({r["threads"] for r in rows})
    workloads = sorted({r["workload"] for r in rows})
    implementations = list(dict.fromkeys(r["implementation"] for r in rows))
    fig, axes = plt.subplots(len(threads), len(optimizers), figsize=(4.2 * len(optimizers), 3.6 * len(threads)),
                             squeeze=False, sharey=True)
    for i, n in enumerate(threads):
        for j, optimizer in enumerate(optimizers):
            ax = axes[i][j]
            for name in implementations:
                points = {r["workload"]: r["median_s"] * 1e3 for r in rows
                          if r["optimizer"] == optimizer and r["threads"] == n and r["implementation"] == name}
                if points:
                    xs = [w for w in workloads if w in points]
                    style = dict(color="black", linestyle="--") if name.startswith("ceiling") else {}
                    ax.plot(xs, [points[w] for w in xs], marker="o", label=name, **style)
            ax.set_yscale("log")
            ax.set_title(f"{payload['optimizers'][optimizer]}, {n} thread{'s' if n > 1 else ''}", fontsize=10)
            ax.grid(True, which="both", alpha=0.3)
            if j == 0:
                ax.set_ylabel("median step time (ms)")
    axes[0][-1].legend(fontsize=7, loc="upper right")
    machine = payload["machine"]
    fig.suptitle(f"Optimizer update step time — {machine['cpu']}, {machine['cores']} cores", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
