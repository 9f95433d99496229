"""Optuna peers for bench/search-quality: NSGAIISampler and multi-objective TPESampler on the
NAS-Bench-201 table, same combos, budgets and seeds as the greennas strategies.

Reads a JSON job from argv[1] ({"table": csv path, "combos": [{"dataset", "objectives"}],
"seeds": [...], "budgets": {sampler: N}}) and appends to argv[2], one JSON line per run, the
sequence of distinct
architectures each sampler evaluated, in order (failed lookups included, as they count against the
budget). A proposal already evaluated in the run is answered from the cache and not counted, so
every run evaluates exactly `budget` distinct architectures, like greennas's. The TypeScript side
computes the regret from these sequences with the same code it uses for its own strategies.

A sampler's run is deterministic per seed on one machine only: TPE's choices go through numpy's
floating point, whose kernels numpy picks by the CPU's SIMD features, and a last-bit difference can
turn one of its near-ties the other way (with AVX-512 disabled, 2 of 3 imagenet16-120 seeds left
the AVX-512 trajectory within 25 trials). Each line therefore records numpy's version and the SIMD
features its kernels were dispatched for.
"""
import csv
import json
import sys
import time

import numpy
import optuna
from optuna.trial import TrialState

try:  # a private module of numpy 1.x; numpy 2 renamed it
    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
except ImportError:
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
SIMD = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
EDGES = ["edge_0_1", "edge_0_2", "edge_1_2", "edge_0_3", "edge_1_3", "edge_2_3"]
HW = {
    "latency.edgegpu": "hwnb_c10_edgegpu_latency_ms", "energy.edgegpu": "hwnb_c10_edgegpu_energy_mJ",
    "latency.raspi4": "hwnb_c10_raspi4_latency_ms", "latency.edgetpu": "hwnb_c10_edgetpu_latency_ms",
    "latency.pixel3": "hwnb_c10_pixel3_latency_ms", "latency.eyeriss": "hwnb_c10_eyeriss_latency_ms",
    "energy.eyeriss": "hwnb_c10_eyeriss_energy_mJ", "latency.fpga": "hwnb_c10_fpga_latency_ms",
    "energy.fpga": "hwnb_c10_fpga_energy_mJ",
}


def cell(choices):
    o = [OPS[c] for c in choices]
    return f"|{o[0]}~0|+|{o[1]}~0|{o[2]}~1|+|{o[3]}~0|{o[4]}~1|{o[5]}~2|"


def column(metric, dataset):
    suffix = dataset.replace("-", "_")
    if metric == "accuracy":
        return f"acc_test_{suffix}"
    if metric == "flops":
        return f"flops_M_{suffix}"
    if metric == "params":
        return f"params_M_{suffix}"
    return HW[metric]


def main():
    job = json.load(open(sys.argv[1]))
    with open(job["table"]) as f:
        rows = {r["arch_str"]: r for r in csv.DictReader(f)}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sink = open(sys.argv[2], "a")
    for combo in job["combos"]:
        metrics = combo["objectives"].split(",")
        directions = ["maximize" if m == "accuracy" else "minimize" for m in metrics]
        cols = [column(m, combo["dataset"]) for m in metrics]
        for sampler_name, budget in job["budgets"].items():
            for seed in job["seeds"]:
                sampler = optuna.samplers.NSGAIISampler(seed=seed) if sampler_name == "NSGAIISampler" else optuna.samplers.TPESampler(seed=seed)
                study = optuna.create_study(directions=directions, sampler=sampler)
                cache = {}
                order = []
                asks = 0
                started = time.time()
                while len(order) < budget and asks < 50 * budget:
                    asks += 1
                    trial = study.ask()
                    choices = [OPS.index(trial.suggest_categorical(e, OPS)) for e in EDGES]
                    key = cell(choices)
                    if key not in cache:
                        row = rows[key]
                        vals = [row[c] for c in cols]
                        cache[key] = None if any(v == "" for v in vals) else [float(v) for v in vals]
                        order.append(key)
                    values = cache[key]
                    if values is None:
                        study.tell(trial, state=TrialState.FAIL)
                    else:
                        study.tell(trial, values)
                sink.write(json.dumps({"optuna": optuna.__version__, "dataset": combo["dataset"], "objectives": combo["objectives"],
                                       "numpy": numpy.__version__, "simd": SIMD,
                                       "sampler": sampler_name, "seed": seed, "keys": order, "asks": asks,
                                       "seconds": time.time() - started}) + "\n")
                sink.flush()
                print(f"optuna {sampler_name} {combo['dataset']} {combo['objectives']} seed {seed}: {len(order)} distinct in {asks} asks, {time.time() - started:.1f}s", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
