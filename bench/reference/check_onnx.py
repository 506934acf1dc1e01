"""Checks a `prunebench export --format onnx --probe P` file in onnxruntime: onnx.checker's full
check (with shape inference), then the model run on the probe's input x, compared with the
output y prunebench computed for it.

    python check_onnx.py model.onnx probe.safetensors

Prints one line: nodes, opset, max |difference| and the largest |y|. Exits 1 if the difference is
above 1e-4 relative to the largest |y| (float32 kernels differ in summation order, not more).
Reference only: the product never depends on Python.
"""
import json, struct, sys
import numpy as np
import onnx
import onnxruntime as ort


def read_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    header = json.loads(b[8:8 + n])
    out = {}
    for k, e in header.items():
        if k == "__metadata__":
            continue
        start, end = e["data_offsets"]
        out[k] = np.frombuffer(b[8 + n + start:8 + n + end], dtype=np.float32).reshape(e["shape"])
    return out


model = onnx.load(sys.argv[1])
onnx.checker.check_model(model, full_check=True)
probe = read_safetensors(sys.argv[2])
options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
(y,) = session.run(["output"], {"input": probe["x"]})
diff = float(np.abs(y - probe["y"]).max())
scale = float(np.abs(probe["y"]).max())
print(f"{sys.argv[1]}: {len(model.graph.node)} nodes, opset {model.opset_import[0].version}, "
      f"output {list(y.shape)}, max |onnxruntime - prunebench| = {diff:.3g} (max |y| = {scale:.3g})")
sys.exit(0 if diff <= 1e-4 * max(scale, 1.0) else 1)
