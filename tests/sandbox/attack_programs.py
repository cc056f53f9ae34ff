"""Hostile extractor modules used by test_attacks.py.

Each entry is ``(id, source, allowed_outcomes)``; every source is a complete extractor module
(docstring, imports, ``def extract(image, mask)``). ``CANARY`` is replaced by a file path that
must never appear, ``PORT`` by a local TCP port that must never see a connection.
"""

from __future__ import annotations

REJ = {"rejected"}
BOMB = {"timeout", "resource_limit"}


def mod(body: str, imports: str = "import numpy as np", top: str = "") -> str:
    """A complete module: docstring, imports, optional top-level code, and extract(body)."""
    lines = "\n".join("    " + line for line in body.strip().splitlines())
    return f'"""Attack program (test fixture). Empty mask: NaN."""\n{imports}\n{top}\n\ndef extract(image, mask):\n{lines}\n'


RET = 'return {"x": 1.0}'

ATTACKS: list[tuple[str, str, set[str]]] = [
    # --- import routes
    ("import_os", mod(f"os.system('touch CANARY')\n{RET}", "import os"), REJ),
    ("import_subprocess", mod(f"subprocess.run(['touch', 'CANARY'])\n{RET}", "import subprocess"), REJ),
    ("from_os_import_system", mod(f"system('touch CANARY')\n{RET}", "from os import system"), REJ),
    ("importlib", mod(f"importlib.import_module('os').system('touch CANARY')\n{RET}", "import importlib"), REJ),
    ("dunder_import", mod(f"__import__('os').system('touch CANARY')\n{RET}"), REJ),
    ("dotted_numpy_os", mod(f"numpy.os.system('touch CANARY')\n{RET}", "import numpy.os"), REJ),
    ("from_numpy_import_os", mod(f"os.system('touch CANARY')\n{RET}", "from numpy import os"), REJ),
    ("numpy_lib_npyio", mod(f"numpy.lib.npyio.os.system('x')\n{RET}", "import numpy.lib.npyio"), REJ),
    ("relative_import", mod(RET, "from . import secrets"), REJ),
    ("star_import", mod(RET, "from numpy import *"), REJ),
    ("import_builtins", mod(f"builtins.open('CANARY', 'w')\n{RET}", "import builtins"), REJ),
    ("import_ctypes", mod(f"ctypes.CDLL(None).system(b'touch CANARY')\n{RET}", "import ctypes"), REJ),
    ("import_sys", mod(f"sys.modules['os'].system('touch CANARY')\n{RET}", "import sys"), REJ),
    ("import_inside_function", mod(f"import socket\nsocket.create_connection(('127.0.0.1', PORT))\n{RET}"), REJ),
    ("scipy_io", mod(f"scipy.io.savemat('CANARY', {{}})\n{RET}", "import scipy.io"), REJ),
    ("skimage_io", mod(f"io.imsave('CANARY', image)\n{RET}", "from skimage import io"), REJ),
    ("skimage_data_download", mod(f"data.download_all()\n{RET}", "from skimage import data"), REJ),
    ("cv2_imwrite_from", mod(f"imwrite('CANARY', image)\n{RET}", "from cv2 import imwrite"), REJ),
    ("import_pickle", mod(f"pickle.loads(b'cos\\nsystem\\n.')\n{RET}", "import pickle"), REJ),
    # --- dunder and frame chains
    ("subclasses_chain", mod(f"c = ().__class__.__bases__[0].__subclasses__()\n{RET}"), REJ),
    ("getattr_builtin", mod(f"getattr(np, '__loader__')\n{RET}"), REJ),
    ("generator_frame", mod(f"g = (v for v in [1])\nf = g.gi_frame.f_back.f_globals\n{RET}"), REJ),
    ("function_globals", mod(f"g = extract.__globals__\n{RET}"), REJ),
    ("numpy_func_globals", mod(f"os = np.mean.__globals__['os']\n{RET}"), REJ),
    ("traceback_frame", mod(f"try:\n    1 / 0\nexcept ZeroDivisionError as e:\n    t = e.__traceback__.tb_frame\n{RET}"), REJ),
    ("vars_globals", mod(f"v = vars(np)\ng = globals()\n{RET}"), REJ),
    ("type_mro", mod(f"t = type(image).mro()\n{RET}"), REJ),
    ("builtins_name", mod(f"b = __builtins__['open']\n{RET}"), REJ),
    # --- format-string tricks
    ("format_dunder", mod(f"s = '{{0.__class__.__init__.__globals__}}'.format(image)\n{RET}"), REJ),
    ("format_map", mod(f"s = '{{x.__globals__}}'.format_map({{'x': extract}})\n{RET}"), REJ),
    ("fstring_dunder", mod(f"s = f'{{image.__class__}}'\n{RET}"), REJ),
    ("str_format_unbound", mod(f"s = str.format('{{0.__class__}}', image)\n{RET}"), REJ),
    # --- library attributes that re-export os/sys/subprocess/ctypes/builtins (static and runtime)
    ("np_os_attr", mod(f"np.os.system('touch CANARY')\n{RET}"), REJ),
    ("np_ctypeslib", mod(f"np.ctypeslib.ctypes.CDLL(None)\n{RET}"), REJ),
    ("np_lib_attr", mod(f"np.lib.npyio.os.system('x')\n{RET}"), REJ),
    ("cv2_os_attr", mod(f"cv2.os.system('x')\n{RET}", "import cv2"), REJ),
    ("ndimage_internal_module", mod(f"ndi.filters.numpy.os.system('x')\n{RET}", "import scipy.ndimage as ndi"), REJ),
    ("skimage_submodule_escape", mod(f"color.colorconv.np.os.system('x')\n{RET}", "from skimage import color"), REJ),
    ("alias_via_variable", mod(f"m = np\nm.save('CANARY', image)\n{RET}"), REJ),
    ("rebound_alias", mod(f"np.lib.npyio.os.system('touch CANARY')\n{RET}", top="np = np"), REJ),
    ("alias_via_list", mod(f"ms = [np]\nms[0].lib.npyio.os.system('touch CANARY')\n{RET}"), REJ),
    ("alias_via_dict", mod(f"d = {{'a': np}}\nd['a'].os.system('touch CANARY')\n{RET}"), REJ),
    ("alias_via_lambda", mod(f"f = lambda: np\nf().load('/etc/passwd', allow_pickle=True)\n{RET}"), REJ),
    ("array_ctypes", mod(f"p = image.ctypes.data\n{RET}"), REJ),
    ("array_tofile", mod(f"image.tofile('CANARY')\n{RET}"), REJ),
    ("array_dump", mod(f"image.dump('CANARY')\n{RET}"), REJ),
    ("caught_refusal", mod(f"try:\n    m = np\n    m.save('CANARY', image)\nexcept Exception:\n    pass\n{RET}"), REJ),
    ("input_base_buffer", mod(f"buf = np.asarray(image.base)\nbuf[0] = 1\n{RET}"), REJ),
    ("setflags_write", mod(f"image.setflags(write=True)\nimage[0, 0, 0] = 1\n{RET}"), REJ),
    # --- legitimate file/URL/pickle APIs of the libraries
    ("np_save", mod(f"np.save('CANARY', image)\n{RET}"), REJ),
    ("np_load_pickle", mod(f"np.load('/etc/passwd', allow_pickle=True)\n{RET}"), REJ),
    ("np_fromfile", mod(f"np.fromfile('/etc/passwd')\n{RET}"), REJ),
    ("np_loadtxt", mod(f"np.loadtxt('/etc/hostname')\n{RET}"), REJ),
    ("np_memmap", mod(f"np.memmap('CANARY', mode='w+', shape=(4,))\n{RET}"), REJ),
    ("np_datasource_url", mod(f"np.DataSource().open('http://127.0.0.1:PORT/x')\n{RET}"), REJ),
    ("cv2_imwrite", mod(f"cv2.imwrite('CANARY.png', image)\n{RET}", "import cv2"), REJ),
    ("cv2_imread", mod(f"cv2.imread('/etc/passwd')\n{RET}", "import cv2"), REJ),
    ("cv2_filestorage", mod(f"cv2.FileStorage('CANARY', 1)\n{RET}", "import cv2"), REJ),
    ("cv2_videocapture_url", mod(f"cv2.VideoCapture('http://127.0.0.1:PORT/x')\n{RET}", "import cv2"), REJ),
    ("open_builtin", mod(f"open('CANARY', 'w').write('x')\n{RET}"), REJ),
    # --- environment, network, processes, signals, threads
    ("environ", mod("k = environ.get('OPENAI_API_KEY')\nreturn {'x': float(len(k or ''))}", "from os import environ"), REJ),
    ("socket_connect", mod(f"socket.create_connection(('127.0.0.1', PORT))\n{RET}", "import socket"), REJ),
    ("urllib", mod(f"urllib.request.urlopen('http://127.0.0.1:PORT/')\n{RET}", "import urllib.request"), REJ),
    ("multiprocessing", mod(f"multiprocessing.Process(target=print).start()\n{RET}", "import multiprocessing"), REJ),
    ("os_fork", mod(f"posix.fork()\n{RET}", "import posix"), REJ),
    ("signal_alarm", mod(f"signal.alarm(1)\n{RET}", "import signal"), REJ),
    ("threading", mod(f"threading.Thread(target=print).start()\n{RET}", "import threading"), REJ),
    ("underscore_thread", mod(f"_thread.start_new_thread(print, ())\n{RET}", "import _thread"), REJ),
    # --- poisoning of shared modules (runtime refusals; the canary then proves isolation)
    ("poison_np_mean", mod(RET, top="np.mean = lambda *a, **k: 42.0"), REJ),
    ("poison_math_pi", mod(RET, "import math", top="math.pi = 3.0"), REJ),
    ("poison_ndimage_label", mod(RET, "import scipy.ndimage as ndi", top="ndi.label = None"), REJ),
    ("poison_delete_attr", mod(RET, top="del np.mean"), REJ),
    ("poison_constant_array", mod(f"color.hed_from_rgb[0, 0] = 0.0\n{RET}", "from skimage import color"), {"failed"}),
    ("poison_finfo", mod(f"fi = np.finfo(np.float64)\nfi.eps = 0.0\n{RET}"), REJ),
    # --- return-value traps
    ("float_subclass", mod('return {"x": F(1.0)}', top="class F(float):\n    pass"), REJ),
    ("dict_subclass_via_type", mod('return type("D", (dict,), {})(x=1.0)'), REJ),
    ("return_ndarray_value", mod('return {"x": np.ones(3)}'), {"invalid_output"}),
    ("return_list", mod("return [1.0, 2.0]"), {"invalid_output"}),
    ("return_nonstr_key", mod("return {1: 1.0}"), {"invalid_output"}),
    ("return_bool", mod('return {"x": True}'), {"invalid_output"}),
    ("return_huge_int", mod('return {"x": 10 ** 400}'), {"invalid_output"}),
    ("return_string_value", mod('return {"x": "1.0"}'), {"invalid_output"}),
    ("return_many_keys", mod('return {"k" + str(i): 1.0 for i in range(100000)}'), {"invalid_output"}),
    ("return_bad_key", mod('return {"\\u0394 key!": 1.0}'), {"invalid_output"}),  # non-ASCII (any case style is fine)
    ("return_generator", mod("return (v for v in [1.0])"), {"invalid_output"}),
    # --- CPU / memory / recursion / output bombs
    ("infinite_loop", mod("while True:\n    pass"), BOMB),
    ("big_power", mod('return {"x": float(10 ** 10 ** 8 % 7)}'), BOMB),
    ("alloc_80gb", mod('a = np.ones((100000, 100000))\nreturn {"x": float(a.sum())}'), {"resource_limit"}),
    ("list_bomb", mod('a = [0] * 10 ** 10\nreturn {"x": 1.0}'), {"resource_limit"}),
    ("recursion", mod('return {"x": float(f(0))}', top="def f(n):\n    return f(n + 1)"), {"resource_limit"}),
    ("print_bomb", mod(f"for i in range(20000):\n    print('x' * 1000)\n{RET}"), {"ok"}),
    ("huge_exception_text", mod("raise ValueError('x' * 10 ** 7)"), {"failed"}),
    ("module_level_loop", mod(RET, top="while True:\n    pass"), BOMB),
    # --- disguised source
    ("fullwidth_exec", mod(f"\uff45\uff58\uff45\uff43('import os')\n{RET}"), REJ),
    ("coding_utf7", "# -*- coding: utf-7 -*-\n" + mod(RET), REJ),
    ("bidi_override", mod(f"s = 'abc\u202e'  # hidden\n{RET}"), REJ),
    ("zero_width_identifier", mod(f"ex\u200bec = 1\n{RET}"), REJ),
    ("nul_byte", mod(f"s = 1\x00\n{RET}"), REJ),
    ("eval_built_name", mod(f"eval('__imp' + 'ort__(\"os\")')\n{RET}"), REJ),
    ("exec_string", mod(f"exec('import os')\n{RET}"), REJ),
    ("deep_nesting", mod("return {'x': " + "(" * 500 + "1.0" + ")" * 500 + "}"), REJ),
    ("huge_source", mod(RET) + "\n# " + "x" * 100_000 + "\n", REJ),
    ("with_statement", mod(f"with open('CANARY', 'w') as f:\n    pass\n{RET}"), REJ),
    ("async_def", mod(RET, top="async def g():\n    pass"), REJ),
    ("decorator_trick", mod(RET, top="@print\ndef g():\n    pass"), REJ),
]

ATTACKS += [
    ("unprintable_exception", mod("raise ValueError(10 ** 100000)"), {"failed"}),
]

ATTACKS += [
    ("regionprops_getitem_dunder", mod('p = measure.regionprops(measure.label(mask))[0]\nc = p["__class__"]\n'
                                       'return {"x": 1.0}', "from skimage import measure"), REJ),
    ("regionprops_getitem_private", mod('p = measure.regionprops(measure.label(mask))[0]\nc = p["_cache"]\n'
                                        'return {"x": 1.0}', "from skimage import measure"), REJ),
]
ATTACKS += [
    ("huge_private_key", mod('p = measure.regionprops(measure.label(mask))[0]\nc = p["_" + "x" * 10 ** 6]\n'
                             'return {"x": 1.0}', "from skimage import measure"), REJ),
]

# --- issue 11 policy additions, each abused (sandbox/README.md, "Policy additions")
_CV2 = "import cv2\nimport numpy as np"
_SKT = "import numpy as np\nfrom skimage import transform"
_M = "m = cv2.getRotationMatrix2D((8.0, 8.0), 30.0, 1.0)\n"
ATTACKS += [
    # '_' is a plain local: nothing is pre-bound to it, and it opens no underscore name or attribute
    ("throwaway_unbound", mod(f"x = _\n{RET}"), {"failed"}),
    ("throwaway_prefix_guard", mod(f"_ = 1\n_getattr_ = None\n{RET}"), REJ),
    ("throwaway_dunder_attr", mod(f"_ = image\nc = _.__class__\n{RET}"), REJ),
    ("throwaway_module_alias", mod(f"_ = np\n_.save('CANARY', image)\n{RET}"), REJ),
    ("throwaway_lambda_globals", mod(f"f = lambda _: _.__globals__\nf(extract)\n{RET}"), REJ),
    ("throwaway_loop_module", mod(f"for _ in [np]:\n    _.lib.npyio.os.system('touch CANARY')\n{RET}"), REJ),
    ("throwaway_keyword", mod(f"np.mean(image, _=1)\n{RET}"), REJ),
    # cv2.error: an exception class, usable in except clauses; nothing reachable through it
    ("cv2_error_traceback", mod(f"try:\n    cv2.resize(image, (0, 0))\nexcept cv2.error as e:\n"
                                f"    f = e.__traceback__.tb_frame\n{RET}", _CV2), REJ),
    ("cv2_error_mro", mod(f"k = cv2.error.mro()\n{RET}", _CV2), REJ),
    ("cv2_error_base", mod(f"k = cv2.error.__base__\n{RET}", _CV2), REJ),
    ("cv2_error_file_open", mod(f"try:\n    cv2.resize(image, (0, 0))\nexcept cv2.error as e:\n"
                                f"    open(e.file)\n{RET}", _CV2), REJ),
    ("cv2_error_raise_escapes", mod("raise cv2.error('boom')", _CV2), {"failed"}),
    # geometric transforms: pure array functions; their output-array argument cannot write the inputs
    ("warp_affine_into_input", mod(f"{_M}cv2.warpAffine(image, m, (image.shape[1], image.shape[0]), dst=image)\n"
                                   f"{RET}", _CV2), {"failed", "crashed"}),
    ("warp_affine_huge_output", mod(f"{_M}o = cv2.warpAffine(image, m, (60000, 60000))\n{RET}", _CV2),
     {"failed", "resource_limit", "crashed", "timeout"}),
    ("remap_far_outside", mod("mx = np.full(mask.shape, 1e9, np.float32)\n"
                              "o = cv2.remap(image, mx, mx, cv2.INTER_LINEAR)\n"
                              "return {\"x\": float(o.sum())}", _CV2), {"ok"}),
    ("flip_into_input", mod(f"cv2.flip(image, 1, dst=image)\n{RET}", _CV2), {"failed", "crashed"}),
    ("warp_function_self", mod(f"k = cv2.warpAffine.__self__\n{RET}", _CV2), REJ),
    ("warp_function_module", mod(f"k = cv2.warpAffine.__module__\n{RET}", _CV2), REJ),
    # skimage.transform classes: instances and bound methods only, never a function's module
    ("transform_unbound_function", mod(f"f = transform.AffineTransform.estimate\n{RET}", _SKT), REJ),
    ("transform_init_globals", mod(f"g = transform.AffineTransform.__init__.__globals__\n{RET}", _SKT), REJ),
    ("transform_warp_save_map", mod(f"transform.warp(image, inverse_map=np.save)\n{RET}", _SKT), REJ),
    ("transform_warp_huge", mod("t = transform.AffineTransform(rotation=0.1)\n"
                                f"o = transform.warp(image, t, output_shape=(60000, 60000))\n{RET}", _SKT),
     {"failed", "resource_limit", "crashed", "timeout"}),
    # keys in any case style: normalised on the host, never an underscore name or a clash
    ("key_dunder_normalised", mod('return {"__class__": 1.0}'), {"ok"}),
    ("key_case_clash", mod('return {"rim_delta_a": 1.0, "RimDeltaA": 2.0}'), {"invalid_output"}),
]
