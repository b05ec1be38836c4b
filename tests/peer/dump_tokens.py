#!/usr/bin/env python3
"""llama.cpp's tokenization of a vocabulary, recorded as expected values for
tests/lib/tokenizer/peer_cases_test.cpp.

Builds a deterministic list of inputs (code, numbers, whitespace runs, CJK,
emoji, accents, invalid UTF-8, mixed scripts, contractions, newlines and
tabs, special-token texts, and seeded random mixtures of all of these), then
adds inputs around the text of every control, user-defined and unknown
token of the vocabulary (alone, at either end, beside spaces, tabs and
newlines, doubled, next to another special token, cut short, and seeded
mixtures with the other fragments), each under every add_special /
parse_special combination. Tokenizes each with llama.cpp through
llama-cpp-python (vocab_only) and writes one JSON file:

    {"model": ..., "llama_cpp_python": ..., "bos": ..., "eos": ..., "eot": ...,
     "add_bos": ..., "eog_ids": [...],
     "cases": [{"input_hex": ..., "add_special": bool, "parse_special": bool,
                "ids": [...], "decoded_hex": ...}, ...]}

`ids` come from llama_tokenize(text, add_special, parse_special);
`decoded_hex` from llama_detokenize(ids, remove_special=false,
unparse_special=parse_special). Inputs are stored as hex because some are
not valid UTF-8. The general inputs come first and do not depend on the
vocabulary, so their cases keep their indices from file to file.

Regenerate the committed files (from the repository root) with:
    PY=~/.cache/lpu/venv/bin/python
    $PY tests/peer/dump_tokens.py ~/.cache/lpu/models/SmolLM2-135M-Instruct.Q4_1.gguf \\
        tests/data/tokenizer/smollm2_cases.json
    $PY tests/peer/dump_tokens.py ../shared/models/stories260K.gguf \\
        tests/data/tokenizer/stories260K_cases.json
    for n in gpt-2 deepseek-llm deepseek-coder llama-spm phi-3; do
        $PY tests/peer/dump_tokens.py ../shared/tokenizer-vectors/ggml-vocab-$n.gguf \\
            tests/data/tokenizer/${n}_cases.json
    done
llama.cpp's warnings about a doubled BOS on stderr are expected: some
inputs start with the BOS text and are parsed with add_special.
"""

import argparse
import ctypes
import json
import os
import random
import re
from importlib import metadata

CODE = [
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}",
    "#include <vector>\nstd::vector<int> v{1, 2, 3};",
    '{"key": "value", "list": [1, 2.5, -3e10], "nested": {"a": null}}',
    "<div class=\"x\">Hello &amp; welcome</div>",
    "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
    "x = lambda a, b: a ** b  # power\nprint(x(2, 10))",
    "if __name__ == '__main__':\n    main()",
    "fn main() -> Result<(), Box<dyn Error>> { Ok(()) }",
    "$ ls -la /usr/local/bin | grep -v '^d' && echo done",
    "    indented\n        more\n\t\ttabs\n",
    "a+=1;b-=2;c*=3;d/=4;e%=5;f<<=1;g>>=2;h&=3;i|=4;j^=5;",
    "https://example.com/path?query=1&x=y#frag",
    "user.name+tag@example.co.uk",
    "## Heading\n\n* item one\n* item two\n\n```python\nprint('hi')\n```",
]

NUMBERS = [
    "0", "7", "42", "123", "1234", "12345", "123456", "1234567", "3.14159", "-273.15",
    "1,000,000", "6.022e23", "0x1F", "2024-01-31", "12:30:45", "+1 (555) 123-4567",
    "v1.2.3", "100%", "1/2", "½ ¼ ¾", "x² + y³", "٣٤٥", "１２３", "१२३", "Ⅻ", "3rd 21st",
    "$5.99", "€10", "¥1000", "1e-9", "99999999999999999999",
]

WHITESPACE = [
    " ", "  ", "   ", "    ", "        ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n",
    " \n", "\n ", " \t \n ", "a  b", "a   b", "a\tb", "a\nb", "a \n b", " leading", "trailing ",
    "  both  ", "\u00a0nbsp\u00a0", "ideographic\u3000space", "em\u2003space", "line\u2028sep",
    "\x0bvertical\x0ctab", "a \u0085 b",
]

CJK = [
    "我想在apple工作", "你好，世界！", "日本語のテキストです。", "カタカナ ひらがな 漢字",
    "한국어 텍스트", "中文、日本語、한국어", "天～地", "「引用」と『二重』",
]

EMOJI = [
    "🦙", "🚀 launch", "😶‍🌫️", "👨‍👩‍👧‍👦 family", "🇫🇷🇯🇵", "👍🏽", "1️⃣", "❤️", "✅ done", "🦙🦙🦙",
]

ACCENTS = [
    "Führer", "café", "naïve résumé", "Cửa Việt", "São Paulo", "Ångström", "Œuvre", "déjà vu",
    "e\u0301", "A\u030a", "ﬁ ligature", "İstanbul", "ß ẞ", "Ωmega µ",
]

SCRIPTS = [
    "нещо на Български", "Ελληνικά κείμενα", "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया",
    "สวัสดีครับ", "ქართული ენა", "Hello мир 世界 🌍", "abcабв", "Ⅲ ⅲ ⅻ", "ᚠᚢᚦ",
]

CONTRACTIONS = [
    "don't", "I'll", "you're", "we've", "she'd", "it's", "I'm", "DON'T", "I'M", "WE'VE",
    "'tis", "rock'n'roll", "O'Brien", "don’t", "can't won't shouldn't", "' s", "''", "'''",
    "I've been 'told he's there", "'RE you sure? 'M not sure I'll make it, 'D you like tea",
    "We'Ve a'lL",
]

PUNCT = [
    "!!!!!!", "??", "...", "—", "–-", "(((", ")))", "[]{}", "<>", "@#$%^&*", "a.b.c", "...!?",
    " (", "\n =", "' era", "------======", "''''''```````\"\"\"\"", "§¶†‡", "→⇒∀∃∈", "±×÷",
]

# Bytes that are not valid UTF-8. Sequences decoding past U+10FFFF
# (F4 90.., F5..F7 with continuations) are left out: llama.cpp cannot
# re-encode them and throws.
INVALID = [
    b"\xff", b"\xfe\xff", b"\x80", b"\x80\x81\x82", b"abc\xc3", b"\xc3(", b"\xe4\xb8",
    b"\xe4\xb8 x", b"\xf0\x9f\x98", b"\xf0\x9f", b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80",
    b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf8\x88\x80\x80\x80", b"valid \xff middle",
    b"\xc3\xa9\xff\xc3\xa9", b"\xe2\x82", b"\xe2\x82\xac\xe2\x82", b"\x00", b"a\x00b",
    b"\x01\x02\x1f\x7f", b"\xef\xbb\xbfBOM",
]

SPECIAL = [
    "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>", "text<|endoftext|>more", "<|im_start|><|im_end|>", " <|im_start|> x ",
    "<|im_start|", "<|endoftext|><|endoftext|>", "<repo_name>a<file_sep>b",
]


def fragments():
    pool = []
    for group in (CODE, NUMBERS, WHITESPACE, CJK, EMOJI, ACCENTS, SCRIPTS, CONTRACTIONS, PUNCT):
        pool += group
    return pool


def build_inputs():
    """(bytes, add_special, parse_special) triples, deterministic."""
    cases = []
    for text in fragments():
        cases.append((text.encode("utf-8"), False, False))
    for b in INVALID:
        cases.append((b, False, False))
    for text in SPECIAL:
        cases.append((text.encode("utf-8"), False, False))
        cases.append((text.encode("utf-8"), False, True))
        cases.append((text.encode("utf-8"), True, True))
    for text in ("Hello world", " Hello", "", "123 abc"):
        cases.append((text.encode("utf-8"), True, False))
    rng = random.Random(20240531)
    pool = fragments()
    seps = ["", " ", "  ", "\n", "\t", ", ", " \n "]
    for _ in range(150):
        parts = [rng.choice(pool) for _ in range(rng.randint(2, 5))]
        text = "".join(p + rng.choice(seps) for p in parts)
        data = text.encode("utf-8")
        if rng.random() < 0.2:
            bad = rng.choice(INVALID)
            at = rng.randint(0, len(data))
            data = data[:at] + bad + data[at:]
        cases.append((data, False, False))
    return cases


# llama_token_attr bits (llama.h).
ATTR_UNKNOWN, ATTR_CONTROL, ATTR_USER_DEFINED = 1 << 0, 1 << 3, 1 << 4
COMBOS = ((False, False), (False, True), (True, False), (True, True))


def special_tokens(llama_cpp, vocab):
    """Texts of the tokens llama.cpp cuts out of the input before encoding
    (control, user-defined and unknown), after its own type adjustments.
    Tokens that differ only in their digits ("[PAD100015]", "[PAD100016]",
    ...) form a family of which only the first and last are kept."""
    families = {}
    for t in range(llama_cpp.llama_vocab_n_tokens(vocab)):
        if llama_cpp.llama_vocab_get_attr(vocab, t) & (ATTR_UNKNOWN | ATTR_CONTROL | ATTR_USER_DEFINED):
            text = llama_cpp.llama_vocab_get_text(vocab, t)
            families.setdefault(re.sub(rb"[0-9]+", b"#", text), []).append(text)
    texts = []
    for members in families.values():
        texts += members[:1] + members[-1:] if len(members) > 1 else members
    return texts


def special_inputs(texts):
    """Inputs around every special token text: alone, at either end, beside
    spaces, tabs and newlines (which lstrip/rstrip may eat), doubled, next to
    another special token, cut short, and inside words and code; each under
    every add_special/parse_special combination. Then seeded mixtures of
    special texts with the fragments above."""
    cases = []
    for i, t in enumerate(texts):
        other = texts[(i + 1) % len(texts)]
        shapes = [
            t, b"a" + t, t + b"b", b" " + t, t + b" ", b" " + t + b" ", b"  " + t + b"  x",
            b"x\n" + t + b"\n y", b"\t" + t + b"\t", b"Hello " + t + b" world", t + t,
            t + b" " + t, t + other, other + b" " + t + b"\n" + other, t[:-1], t[1:],
            t[: len(t) // 2] + b" " + t[len(t) // 2:], b"x" + t + b"y" + t + b"z",
        ]
        for data in shapes:
            for add_special, parse_special in COMBOS:
                cases.append((data, add_special, parse_special))
    rng = random.Random(20250214)
    pool = [p.encode("utf-8") for p in fragments()]
    seps = [b"", b" ", b"  ", b"\n", b"\t", b", ", b" \n "]
    for _ in range(120):
        parts = [rng.choice(texts) if rng.random() < 0.5 else rng.choice(pool)
                 for _ in range(rng.randint(2, 6))]
        data = b"".join(p + rng.choice(seps) for p in parts)
        cases.append((data,) + rng.choice(COMBOS))
    return cases


def detokenize(llama_cpp, vocab, ids, unparse_special):
    arr = (llama_cpp.llama_token * max(1, len(ids)))(*ids)
    size = 64 + 16 * len(ids)
    buf = ctypes.create_string_buffer(size)
    n = llama_cpp.llama_detokenize(vocab, arr, len(ids), buf, size, False, unparse_special)
    if n < 0:
        raise RuntimeError("detokenize buffer too small")
    return buf.raw[:n]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="GGUF file (vocab-only is fine)")
    parser.add_argument("out", help="JSON file to write")
    args = parser.parse_args()

    import llama_cpp

    llm = llama_cpp.Llama(model_path=args.model, vocab_only=True, verbose=False)
    vocab = llm._model.vocab
    n_vocab = llama_cpp.llama_vocab_n_tokens(vocab)
    out_cases = []
    inputs = build_inputs() + special_inputs(special_tokens(llama_cpp, vocab))
    for data, add_special, parse_special in inputs:
        ids = llm.tokenize(data, add_bos=add_special, special=parse_special)
        decoded = detokenize(llama_cpp, vocab, ids, parse_special)
        out_cases.append({
            "input_hex": data.hex(),
            "add_special": add_special,
            "parse_special": parse_special,
            "ids": ids,
            "decoded_hex": decoded.hex(),
        })
    doc = {
        "model": os.path.basename(args.model),
        "llama_cpp_python": metadata.version("llama-cpp-python"),
        "bos": llama_cpp.llama_vocab_bos(vocab),
        "eos": llama_cpp.llama_vocab_eos(vocab),
        "eot": llama_cpp.llama_vocab_eot(vocab),
        "add_bos": bool(llama_cpp.llama_vocab_get_add_bos(vocab)),
        "eog_ids": [t for t in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, t)],
        "cases": out_cases,
    }
    # One case per line keeps the file small and its diffs readable.
    cases = doc.pop("cases")
    head = json.dumps(doc, separators=(",", ":"))[:-1]
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(head + ',"cases":[\n')
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
        f.write("\n]}\n")
    print(f"wrote {len(out_cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
