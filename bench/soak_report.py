"""What a soak run's samples say: the table, the verdicts and the plot (see `soak.py`)."""

import statistics
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

PIPELINE = ("chat", "aggregator", "consumer")
PLATEAU_GROWTH = 0.05
"""A process has plateaued when it grew by less than this share of its RSS over the last half."""
LAG_GROWTH = 1.5
ERROR_RATE = 0.001


def summarise(
    config: dict[str, Any],
    samples: list[dict[str, Any]],
    intervals: list[dict[str, Any]],
    drained: dict[str, Any],
) -> dict[str, Any]:
    """Prints the table and the verdict; returns the same figures for the JSON result."""
    names = [n for n, f in samples[0]["processes"].items() if f["rss_mb"] > 0]
    memory = {
        name: _memory([s["processes"][name]["rss_mb"] for s in samples], samples) for name in names
    }
    cpu = {name: _cpu_per_send(name, samples) for name in names}
    errors = _errors(intervals)
    lag = _lag(samples, intervals, drained)
    plateaued = all(memory[name]["plateau"] for name in PIPELINE)
    error_free = all(half["rate"] < ERROR_RATE for half in errors.values())
    verdict = "steady" if plateaued and error_free and lag["keeps_up"] else "not steady"
    summary = {"memory": memory, "cpu_ms_per_send": cpu, "errors": errors, "lag": lag}
    done = sum(i["requests"] for i in intervals) / sum(i["seconds"] for i in intervals)
    _print_table(config, done, summary)
    print(
        f"verdict: {verdict} (memory of {', '.join(PIPELINE)} "
        f"{'plateaued' if plateaued else 'still growing'}; errors "
        f"{'below' if error_free else 'at or above'} {ERROR_RATE:.1%} per half; the pipeline "
        f"{'keeps up' if lag['keeps_up'] else 'falls behind'})"
    )
    return {**summary, "sends_per_second": done, "verdict": verdict}


def _memory(series: list[float], samples: list[dict[str, Any]]) -> dict[str, Any]:
    """RSS at the start, after a minute, at the end, its maximum, and the growth from the
    midpoint to the end (medians of three samples each, so one spike does not decide)."""
    middle = len(series) // 2
    at_middle = statistics.median(series[max(0, middle - 1) : middle + 2])
    at_end = statistics.median(series[-3:])
    minute = next((i for i, s in enumerate(samples) if s["seconds"] >= 60), len(series) - 1)
    growth = at_end - at_middle
    return {
        "start_mb": series[0],
        "after_1_min_mb": series[minute],
        "end_mb": series[-1],
        "max_mb": max(series),
        "last_half_growth_mb": growth,
        "last_half_growth_share": growth / at_end if at_end else 0.0,
        "plateau": growth < PLATEAU_GROWTH * at_end,
    }


def _cpu_per_send(name: str, samples: list[dict[str, Any]]) -> dict[str, float]:
    """CPU milliseconds per accepted send, over the first and over the second half."""

    def between(a: dict[str, Any], b: dict[str, Any]) -> float:
        spent: float = b["processes"][name]["cpu_s"] - a["processes"][name]["cpu_s"]
        sends: int = b["accepted"] - a["accepted"]
        return spent * 1000 / max(1, sends)

    middle = samples[len(samples) // 2]
    return {"first_half": between(samples[0], middle), "second_half": between(middle, samples[-1])}


def _errors(intervals: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Non-2xx answers and socket errors, per half of the intervals."""
    middle = len(intervals) // 2
    halves = {"first_half": intervals[:middle] or intervals, "second_half": intervals[middle:]}
    result = {}
    for half, rows in halves.items():
        bad = sum(r["unexpected_status"] + r["socket_errors"] for r in rows)
        requests = sum(r["requests"] for r in rows)
        result[half] = {
            "errors": bad,
            "requests": requests,
            "rate": bad / max(1, requests),
            "p99_ms_median": statistics.median(r["p99_ms"] for r in rows),
        }
    return result


def _lag(
    samples: list[dict[str, Any]], intervals: list[dict[str, Any]], drained: dict[str, Any]
) -> dict[str, Any]:
    """Accepted sends not yet written by the consumer, sampled under load (the sample taken
    before the load is left out), also in seconds of sends at the rate of the interval that
    just ended: the burst window holds a few seconds of sends whatever the rate."""
    lags = [s["lag"] for s in samples[1:]]
    seconds = [lag / max(i["per_second"], 1) for lag, i in zip(lags, intervals, strict=True)]
    middle = len(seconds) // 2
    first = statistics.mean(seconds[:middle] or seconds)
    second = statistics.mean(seconds[middle:])
    return {
        "max": max(lags),
        "final": lags[-1],
        "max_seconds": max(seconds),
        "mean_seconds_first_half": first,
        "mean_seconds_second_half": second,
        "drain": drained,
        "keeps_up": drained["drained"] and second <= LAG_GROWTH * first + 1,
    }


def _print_table(config: dict[str, Any], done: float, summary: dict[str, Any]) -> None:
    print(
        f"soak: {config['rate']:g} sends/s asked, {done:.1f} done, {config['minutes']:g} min in"
        f" intervals of {config['interval']} s; {config['connections']} connections,"
        f" {config['users']} users. RSS in MB (whole process tree); CPU in ms per accepted send"
    )
    print(
        f"{'process':<17} {'start':>7} {'1 min':>7} {'end':>7} {'max':>7}"
        f" {'last-half growth':>18} {'CPU 1st/2nd half':>17}  memory"
    )
    for name, m in summary["memory"].items():
        cpu = summary["cpu_ms_per_send"][name]
        label = name if name in PIPELINE else f"{name} (info)"
        growth = f"{m['last_half_growth_mb']:+.1f} ({m['last_half_growth_share']:+.1%})"
        print(
            f"{label:<17} {m['start_mb']:>7.1f} {m['after_1_min_mb']:>7.1f} {m['end_mb']:>7.1f}"
            f" {m['max_mb']:>7.1f} {growth:>18}"
            f" {cpu['first_half']:>8.2f}/{cpu['second_half']:<8.2f}"
            f"  {'plateau' if m['plateau'] else 'growing'}"
        )
    for half, e in summary["errors"].items():
        print(
            f"{half.replace('_', ' ')}: {e['errors']} errors in {e['requests']} requests"
            f" ({e['rate']:.2%}), median p99 per interval {e['p99_ms_median']:.0f} ms"
        )
    lag = summary["lag"]
    drain = lag["drain"]
    print(
        f"lag (accepted - written): max {lag['max']:.0f} sends ({lag['max_seconds']:.1f} s of"
        f" sends), final {lag['final']:.0f}; mean {lag['mean_seconds_first_half']:.1f} s of sends"
        f" in the first half, {lag['mean_seconds_second_half']:.1f} s in the second;"
        + (
            f" drained {drain['seconds']} s after the load"
            if drain["drained"]
            else f" still {drain['behind']:.0f} behind {drain['seconds']:.0f} s after the load"
        )
    )


def plot(samples: list[dict[str, Any]], config: dict[str, Any], path: Path) -> None:
    """RSS of each process and the lag over time, as a PNG (matplotlib's Agg renderer)."""
    minutes = [s["seconds"] / 60 for s in samples]
    infra = [n for n, f in samples[0]["processes"].items() if n not in PIPELINE and f["rss_mb"]]
    figure = Figure(figsize=(9, 10), layout="constrained")
    axes = figure.subplots(3, 1, sharex=True)
    for ax, names, title in (
        (axes[0], PIPELINE, "services: RSS (MB)"),
        (axes[1], infra, "stack, for information: RSS (MB)"),
    ):
        for name in names:
            ax.plot(minutes, [s["processes"][name]["rss_mb"] for s in samples], label=name)
        ax.set_title(title)
        if names:
            ax.legend(loc="upper left", fontsize="small")
        ax.grid(alpha=0.3)
    axes[2].plot(minutes, [s["lag"] for s in samples], color="tab:red")
    axes[2].set_title("lag: accepted sends not yet written by the consumer")
    axes[2].set_xlabel("minutes")
    axes[2].grid(alpha=0.3)
    figure.suptitle(f"soak: {config['rate']:g} sends/s for {config['minutes']:g} min")
    figure.savefig(path, dpi=100)
    print(f"wrote {path}")
