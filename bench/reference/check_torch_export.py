"""Checks a `prunebench export --format pth` file against the checkpoint it came from:
torch.load(f, weights_only=True) must give an OrderedDict whose tensors equal the safetensors ones bit for bit.

    python check_torch_export.py pruned.pth pruned.safetensors
"""
import json, struct, sys, numpy as np, torch
sd = torch.load(sys.argv[1], weights_only=True)
b = open(sys.argv[2], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8+n]); base = 8 + n
assert type(sd).__name__ == 'OrderedDict', type(sd)
names = [k for k in h if k != '__metadata__']
assert sorted(names) == sorted(sd.keys()), (set(names) ^ set(sd.keys()))
worst = 0
for k in names:
    e = h[k]; dt = {'F32': np.float32, 'I64': np.int64}[e['dtype']]
    a = np.frombuffer(b[base + e['data_offsets'][0]: base + e['data_offsets'][1]], dtype=dt).reshape(e['shape'])
    t = sd[k].numpy()
    assert t.shape == a.shape and t.dtype == a.dtype, (k, t.shape, a.shape, t.dtype, a.dtype)
    assert np.array_equal(t, a), k
print(f"torch.load(weights_only=True): {len(names)} tensors equal, bit for bit, to the prunebench checkpoint")
