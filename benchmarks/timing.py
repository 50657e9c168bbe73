"The one timing loop of the throughput benchmarks: interleaved rounds, medians."
import statistics

def interleaved(runs:dict, # name -> a function that runs one timed unit of work and returns its seconds
                rounds:int=10, warmup:int=2) -> dict: # name -> median seconds
    "Time each function `rounds` times, alternating which goes first in each round, after `warmup` untimed calls."
    for _ in range(warmup):
        for fn in runs.values(): fn()
    times = {name: [] for name in runs}
    order = list(runs)
    for r in range(rounds):
        for name in (order if r % 2 == 0 else order[::-1]): times[name].append(runs[name]())
    return {name: statistics.median(ts) for name, ts in times.items()}
