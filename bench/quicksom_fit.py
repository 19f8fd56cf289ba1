"""QuickSOM's fit on the train bench's case, for `bench/train_process_bench.ts --quicksom DIR`.

Usage: python3 bench/quicksom_fit.py DIR CODES.npy [THREADS]
DIR holds QuickSOM's `som.py` (bougui505/quicksom, the paper's version is ee9a7196; QuickSOM is
not vendored here). Settings are SOM.md's: 20x20 torus, cosine metric, `exp` schedule, sigma0 10,
alpha0 0.1, batch 10, 1 epoch. Plotting/clustering modules that `fit` does not use (matplotlib,
skimage, sklearn) are stubbed when they are not installed. Prints one line:
`quicksom fit_s S process_s P threads T torch V`.
"""
import sys, time, types
t_start = time.perf_counter()
import importlib.util
missing = {p for p in ["matplotlib", "skimage", "sklearn"] if importlib.util.find_spec(p) is None}
for name in ["matplotlib", "matplotlib.pyplot", "skimage", "skimage.feature", "sklearn",
             "sklearn.cluster", "sklearn.manifold"]:
    if name.split(".")[0] in missing:
        sys.modules[name] = types.ModuleType(name)
for mod, attr in [("skimage.feature", "peak_local_max"), ("sklearn.cluster",
                  "AgglomerativeClustering"), ("sklearn.manifold", "MDS")]:
    if mod in sys.modules and not hasattr(sys.modules[mod], attr):
        setattr(sys.modules[mod], attr, None)
sys.path.insert(0, sys.argv[1])
import numpy as np, torch
import som as qs
threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
torch.set_num_threads(threads)
x = np.load(sys.argv[2])
def cosine(a, b):
    an = a / a.norm(dim=1, keepdim=True).clamp_min(1e-8)
    bn = b / b.norm(dim=1, keepdim=True).clamp_min(1e-8)
    return 1 - an @ bn.T
s = qs.SOM(20, 20, x.shape[1], alpha=0.1, sigma=10, n_epoch=1, sched="exp", periodic=True,
           metric=cosine, precompute=True)
t0 = time.perf_counter()
s.fit(x, batch_size=10, do_compute_all_dists=False, logfile=None, num_workers=0,
      print_each=10**9)
t1 = time.perf_counter()
print(f"quicksom fit_s {t1 - t0:.2f} process_s {t1 - t_start:.2f} threads {threads} torch {torch.__version__}")
