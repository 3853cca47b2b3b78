#!/usr/bin/env python3
"""Small torch.save-style state dicts for the checkpoint fuzzer, written without torch: pickles that
name torch's rebuild functions through stand-in modules, in zips laid out as torch.save lays them.
Usage: make-checkpoint-seeds.py OUT_DIR"""
import collections, io, pickle, struct, sys, types, zipfile, os

torch = types.ModuleType("torch"); utils = types.ModuleType("torch._utils")
sys.modules["torch"] = torch; sys.modules["torch._utils"] = utils
def _rebuild_tensor_v2(*a): pass
def _rebuild_parameter(*a): pass
utils._rebuild_tensor_v2 = _rebuild_tensor_v2; utils._rebuild_parameter = _rebuild_parameter
for name in ["FloatStorage", "LongStorage", "HalfStorage", "BFloat16Storage", "DoubleStorage", "BoolStorage"]:
    cls = type(name, (), {}); cls.__module__ = "torch"; setattr(torch, name, cls)
_rebuild_tensor_v2.__module__ = _rebuild_parameter.__module__ = "torch._utils"

class Storage:
    def __init__(self, kind, key, numel): self.kind, self.key, self.numel = kind, key, numel
class Tensor:
    def __init__(self, storage, offset, size, stride, param=False):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict()); self.param = param
    def __reduce__(self):
        if self.param:
            inner = Tensor(*self.args[:4])
            return (_rebuild_parameter, (inner, True, collections.OrderedDict()))
        return (_rebuild_tensor_v2, self.args)

class P(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage): return ("storage", getattr(torch, obj.kind), obj.key, "cpu", obj.numel)
        return None

def save(path, root, tensors, storages, byteorder=None, protocol=2):
    d = collections.OrderedDict(tensors); d._metadata = collections.OrderedDict({"": {"version": 1}})
    buf = io.BytesIO(); P(buf, protocol=protocol).dump(d)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(root + "/data.pkl", buf.getvalue())
        if byteorder: z.writestr(root + "/byteorder", byteorder)
        for key, data in storages.items(): z.writestr(root + "/data/" + key, data)
        z.writestr(root + "/version", "3\n")

out = sys.argv[1]; os.makedirs(out, exist_ok=True)
f = Storage("FloatStorage", "0", 6); l = Storage("LongStorage", "1", 1); h = Storage("HalfStorage", "2", 4)
storages = {"0": struct.pack("<6f", *range(6)), "1": struct.pack("<q", 3), "2": struct.pack("<4e", 1, -2, 0.5, 65504)}
save(f"{out}/small.pt", "small", [("w", Tensor(f, 0, (2, 3), (3, 1), True)), ("wt", Tensor(f, 0, (3, 2), (1, 3))),
                                  ("n", Tensor(l, 0, (), ())), ("h", Tensor(h, 1, (3,), (1,)))], storages)
save(f"{out}/archive.pt", "archive", [("w", Tensor(f, 2, (2, 2), (1, 2)))], {"0": storages["0"]}, byteorder="little", protocol=4)
