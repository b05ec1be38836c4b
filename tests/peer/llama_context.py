"""llama.cpp contexts and quantiser calls shared by the peer scripts
(oracle.py, peer_eval.py).

A context keeps every row's logits, runs two threads without flash
attention, uses a fixed seed and holds the whole sequence in one ubatch
(n_batch = n_ubatch = n_ctx), so that one evaluation of a sequence yields
all its rows.
"""

import ctypes

import numpy as np

SEED = 1234
N_THREADS = 2
GGML_TYPE_F32 = 0


def llama_cpp():
    """The llama_cpp module, imported on first use so that subcommands that
    do not need llama.cpp run without it installed."""
    import llama_cpp

    return llama_cpp


def open_context(model, n_ctx=512, f32_kv=True, vocab_only=False):
    """A llama.cpp context on `model`. f32_kv: F32 KV cache (fp32-comparable
    logits), else llama.cpp's default (F16)."""
    kv = {"type_k": GGML_TYPE_F32, "type_v": GGML_TYPE_F32} if f32_kv else {}
    return llama_cpp().Llama(
        model_path=model,
        vocab_only=vocab_only,
        n_ctx=n_ctx,
        n_batch=n_ctx,
        n_ubatch=n_ctx,
        n_threads=N_THREADS,
        n_threads_batch=N_THREADS,
        logits_all=True,
        flash_attn=False,
        seed=SEED,
        verbose=False,
        **kv,
    )


def eval_logits(llm, ids):
    """One evaluation of `ids` from an empty cache: float32 [len(ids), n_vocab]."""
    llm.reset()
    llm.eval(ids)
    return np.array(llm.scores[: len(ids)], dtype=np.float32)


def quantize(src, dst, ftype, allow_requantize=False):
    """llama.cpp's llama_model_quantize of `src` into `dst` as `ftype`;
    returns its status (0 on success)."""
    ll = llama_cpp()
    ll.llama_backend_init()
    params = ll.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = allow_requantize
    params.nthread = N_THREADS
    return ll.llama_model_quantize(src.encode(), dst.encode(), ctypes.byref(params))
