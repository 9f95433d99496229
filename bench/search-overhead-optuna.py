"""Peer for bench/search-overhead.ts: Optuna's RandomSampler on the same NAS-Bench-201 table.

Prints one JSON line: trials, wall seconds (study only, table load excluded), storage.
Run with Debian's python3-optuna: /usr/bin/python3 bench/search-overhead-optuna.py CSV TRIALS STORAGE
"""
import csv
import json
import logging
import math
import sys
import time

import optuna

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def main() -> None:
    path, trials, storage = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    table = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            def num(k):
                v = row[k]
                return float(v) if v != "" else math.nan
            table[row["ops"].zfill(6)] = (num("acc_test_cifar10") / 100, num("hwnb_c10_edgegpu_latency_ms"), num("hwnb_c10_edgegpu_energy_mJ"))
    optuna.logging.set_verbosity(logging.ERROR)

    def objective(trial):
        code = "".join(str(OPS.index(trial.suggest_categorical(f"edge{i}", OPS))) for i in range(6))
        acc, lat, en = table[code]
        if math.isnan(lat) or math.isnan(en):
            raise ValueError("no edgegpu value")  # a failed trial, as in greennas
        return acc, lat, en

    started = time.perf_counter()
    study = optuna.create_study(
        directions=["maximize", "minimize", "minimize"],
        sampler=optuna.samplers.RandomSampler(seed=1),
        storage=None if storage == "memory" else storage,
    )
    study.optimize(objective, n_trials=trials, catch=(ValueError,))
    wall = time.perf_counter() - started
    print(json.dumps({"trials": len(study.trials), "wallS": wall, "storage": "memory" if storage == "memory" else "sqlite"}))


if __name__ == "__main__":
    main()
