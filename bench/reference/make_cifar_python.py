"""Writes the small CIFAR fixtures of Tests/Fixtures/data/cifar: the same images and labels in the
binary versions (cifar-10-batches-bin, cifar-100-binary) and the python versions
(cifar-10-batches-py, cifar-100-python), the latter pickled the way the real files were: Python 2
cPickle, protocol 2, every str a BINSTRING, NumPy arrays as numpy.core.multiarray._reconstruct.
(CIFAR-100's test split spells the NumPy 2 module, numpy._core, so both are exercised.)

Usage: python3 make_cifar_python.py OUT_DIR   (needs numpy)
"""
import io, os, pickle, struct, sys
import numpy as np


class Python2Pickler(pickle._Pickler):
    """Writes str and bytes as Python 2's str (SHORT_BINSTRING / BINSTRING)."""
    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2str(self, obj):
        data = obj.encode("utf-8") if isinstance(obj, str) else obj
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_py2str
    dispatch[bytes] = save_py2str


def py2_pickle(obj, numpy_module=b"numpy.core.multiarray"):
    buf = io.BytesIO()
    Python2Pickler(buf, protocol=2).dump(obj)
    # protocol 2 names globals as text lines, so the module can be respelled in place.
    return buf.getvalue().replace(b"numpy._core.multiarray\n", numpy_module + b"\n")


def main(out):
    rng = np.random.default_rng(7)
    # CIFAR-100: 5 train, 3 test images; labels chosen to reach the ends of both ranges.
    c100 = {"train": (rng.integers(0, 256, (5, 3072), dtype=np.uint8), [0, 99, 42, 7, 63], [0, 19, 4, 7, 12]),
            "test": (rng.integers(0, 256, (3, 3072), dtype=np.uint8), [5, 98, 1], [3, 18, 0])}
    fine = ["class_%02d" % i for i in range(100)]
    coarse = ["super_%02d" % i for i in range(20)]
    py = os.path.join(out, "cifar-100-python"); os.makedirs(py, exist_ok=True)
    binary = os.path.join(out, "cifar-100-binary"); os.makedirs(binary, exist_ok=True)
    for split, (data, fl, cl) in c100.items():
        entry = {b"batch_label": b"training batch 1 of 1" if split == "train" else b"testing batch 1 of 1",
                 b"filenames": [b"img_%d.png" % i for i in range(len(fl))],
                 b"fine_labels": fl, b"coarse_labels": cl, b"data": data}
        module = b"numpy.core.multiarray" if split == "train" else b"numpy._core.multiarray"
        open(os.path.join(py, split), "wb").write(py2_pickle(entry, module))
        with open(os.path.join(binary, split + ".bin"), "wb") as f:
            for i in range(len(fl)):
                f.write(bytes([cl[i], fl[i]]) + data[i].tobytes())
    open(os.path.join(py, "meta"), "wb").write(py2_pickle({b"fine_label_names": [n.encode() for n in fine],
                                                           b"coarse_label_names": [n.encode() for n in coarse]}))
    open(os.path.join(binary, "fine_label_names.txt"), "w").write("\n".join(fine) + "\n")
    open(os.path.join(binary, "coarse_label_names.txt"), "w").write("\n".join(coarse) + "\n")
    # CIFAR-10: 2 images per training batch, 2 test images.
    py10 = os.path.join(out, "cifar-10-batches-py"); os.makedirs(py10, exist_ok=True)
    bin10 = os.path.join(out, "cifar-10-batches-bin"); os.makedirs(bin10, exist_ok=True)
    for name in ["data_batch_%d" % i for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (2, 3072), dtype=np.uint8)
        labels = [int(x) for x in rng.integers(0, 10, 2)]
        open(os.path.join(py10, name), "wb").write(py2_pickle({b"batch_label": name.encode(), b"labels": labels,
                                                               b"data": data, b"filenames": [b"a.png", b"b.png"]}))
        with open(os.path.join(bin10, name + ".bin"), "wb") as f:
            for i in range(2):
                f.write(bytes([labels[i]]) + data[i].tobytes())
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]
    open(os.path.join(py10, "batches.meta"), "wb").write(py2_pickle({b"num_cases_per_batch": 2, b"label_names": names,
                                                                     b"num_vis": 3072}))
    # Each python pickle must load the way torchvision loads it.
    for root, _, files in os.walk(out):
        for f in files:
            if "python" in root or "-py" in root:
                pickle.load(open(os.path.join(root, f), "rb"), encoding="latin1")


if __name__ == "__main__":
    main(sys.argv[1])
