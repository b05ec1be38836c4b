#!/usr/bin/env python3
"""llama.cpp's built-in chat formatting as an oracle for lpu's render_chat.

For every template family lpu supports (given by llama.cpp's name, e.g.
"chatml", "llama2-sys", "mistral-v7") and for representative Jinja sources
of each family, this formats several conversations with and without the
assistant prompt through llama.cpp's `llama_chat_apply_template` and writes
the exact bytes to tests/data/chat/cases.json. tests/lib/chat
(lpu_chat_test) must reproduce every output byte for byte and detect the
family of every template.

Regenerate (from the repository root, with the pinned environment of
tests/peer/README.md):
    ~/.cache/lpu/venv/bin/python tests/peer/dump_chat.py

Each Jinja case is also formatted by its family name; the script stops if
the two outputs differ, so the family recorded for a Jinja source is the one
llama.cpp detected, not just the one this script claims.
"""

import ctypes
import json
import os
import sys
from importlib import metadata

import llama_cpp

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "chat", "cases.json")

NAMES = [
    "chatml", "llama2", "llama2-sys", "llama2-sys-bos", "llama2-sys-strip", "llama3",
    "mistral-v1", "mistral-v3", "mistral-v3-tekken", "mistral-v7", "mistral-v7-tekken",
]

CONVERSATIONS = {
    "user_only": [("user", "Hello!")],
    "system_user": [("system", "You are a helpful assistant."), ("user", "What is the capital of France?")],
    "multi_turn": [
        ("system", "Answer briefly."),
        ("user", "Hi there"),
        ("assistant", "Hello! How can I help?"),
        ("user", "Name a prime number."),
    ],
    "ends_with_assistant": [
        ("user", "Who are you?"),
        ("assistant", "  I am an assistant.  \n"),
        ("user", "Thanks"),
        ("assistant", "You're welcome"),
    ],
    "unicode_and_spaces": [
        ("system", "\n  Réponds en français.  "),
        ("user", "  Grüße, 世界! 🚀 \t\n"),
        ("assistant", " Bonjour ✓ "),
        ("user", "Ça va ?"),
    ],
    "empty_content": [("user", ""), ("assistant", ""), ("user", "\n")],
}

# Representative Jinja sources: each holds the markers llama.cpp's detector
# keys on, written the way the families' published templates write them.
JINJA = {
    "smollm2-like chatml": (
        "chatml",
        "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
        "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}"
        "{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    ),
    "llama-2-chat": (
        "llama2-sys-strip",
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
        "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
        "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
        "{% if loop.index0 == 0 and system_message != false %}"
        "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
        "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
        "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
        "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
    ),
    "llama2 with <<SYS>>": (
        "llama2-sys",
        "{% for message in messages %}{% if message['role'] == 'system' %}{{ '<<SYS>>\\n' + message['content'] + '\\n<</SYS>>\\n\\n' }}"
        "{% elif message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
        "{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}",
    ),
    "llama2 with bos in history": (
        "llama2-sys-bos",
        "{% for message in messages %}{% if message['role'] == 'system' %}{{ '<<SYS>>\\n' + message['content'] + '\\n<</SYS>>\\n\\n' }}"
        "{% elif message['role'] == 'user' %}{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}"
        "{% else %}{{ message['content'] + eos_token }}{% endif %}{% endfor %}",
    ),
    "plain [INST]": (
        "llama2",
        "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
        "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% else %}{{ message['content'] + eos_token }}"
        "{% endif %}{% endfor %}",
    ),
    "mistral v1": (
        "mistral-v1",
        "{{ bos_token }}{% for message in loop_messages %}{% if message['role'] == 'user' %}"
        "{% if loop.first and system_message is defined %}{{ ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}"
        "{% else %}{{ ' [INST] ' + message['content'] + ' [/INST]' }}{% endif %}"
        "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}{% endif %}{% endfor %}",
    ),
    "mistral v3": (
        "mistral-v3",
        "{{ bos_token }}{% for message in loop_messages %}{% if message['role'] == 'user' %}"
        "{% if tools is not none and (message == user_messages[-1]) %}{{ '[AVAILABLE_TOOLS] [' }}{{ ']' }}{{ '[/AVAILABLE_TOOLS]' }}{% endif %}"
        "{{ '[INST] ' + message['content'] + '[/INST]' }}{% elif message['role'] == 'assistant' %}"
        "{{ ' ' + message['content']|trim + eos_token }}{% endif %}{% endfor %}",
    ),
    "mistral v3 tekken": (
        "mistral-v3-tekken",
        "{{ bos_token }}{% for message in loop_messages %}{% if message['role'] == 'user' %}"
        "{% if tools is not none and (message == user_messages[-1]) %}{{ \"[AVAILABLE_TOOLS]\" }}{{ \"[/AVAILABLE_TOOLS]\" }}{% endif %}"
        "{{ \"[INST]\" + message['content'] + \"[/INST]\" }}{% elif message['role'] == 'assistant' %}"
        "{{ message['content'] + eos_token }}{% endif %}{% endfor %}",
    ),
    "mistral v7": (
        "mistral-v7",
        "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}"
        "{{ '[SYSTEM_PROMPT] ' + message['content'] + '[/SYSTEM_PROMPT]' }}{% elif message['role'] == 'user' %}"
        "{{ '[INST] ' + message['content'] + '[/INST]' }}{% else %}{{ ' ' + message['content'] + eos_token }}"
        "{% endif %}{% endfor %}",
    ),
    "llama-3-instruct": (
        "llama3",
        "{% set loop_messages = messages %}{% for message in loop_messages %}"
        "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
        "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
    ),
}

# Templates llama.cpp formats (or rejects) but lpu does not: lpu must report
# an error for each. `None` output means llama.cpp rejects it too.
UNSUPPORTED = {
    "gemma": "{{ bos_token }}{% for message in messages %}{{ '<start_of_turn>' + message['role'] + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}",
    "phi4 (im_start with im_sep)": "{% for message in messages %}{{'<|im_start|>' + message['role'] + '<|im_sep|>' + message['content'] + '<|im_end|>'}}{% endfor %}",
    "zephyr": "{% for message in messages %}{{ '<|user|>\\n' + message['content'] + '<|endoftext|>' }}{% endfor %}",
    "unknown": "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}",
}


def apply(tmpl, conversation, add_ass):
    """llama.cpp's formatting of `conversation`, or None when it rejects `tmpl`."""
    keep = [(r.encode("utf-8"), c.encode("utf-8")) for r, c in conversation]
    msgs = (llama_cpp.llama_chat_message * len(keep))(
        *[llama_cpp.llama_chat_message(role=r, content=c) for r, c in keep]
    )
    size = 256
    while True:
        buf = ctypes.create_string_buffer(size)
        n = llama_cpp.llama_chat_apply_template(tmpl.encode("utf-8"), msgs, len(keep), add_ass, buf, size)
        if n < 0:
            return None
        if n <= size:
            return buf.raw[:n].decode("utf-8")
        size = n + 1


def main():
    cases = []
    for name in NAMES:
        for conv in CONVERSATIONS:
            for add_ass in (False, True):
                out = apply(name, CONVERSATIONS[conv], add_ass)
                if out is None:
                    sys.exit(f"llama.cpp rejected template name {name!r}")
                cases.append({"template": name, "label": name, "kind": name, "conversation": conv,
                              "add_ass": add_ass, "output": out})
    for label, (kind, source) in JINJA.items():
        for conv in ("system_user", "multi_turn", "unicode_and_spaces"):
            for add_ass in (False, True):
                out = apply(source, CONVERSATIONS[conv], add_ass)
                by_name = apply(kind, CONVERSATIONS[conv], add_ass)
                if out != by_name:
                    sys.exit(f"{label!r}: llama.cpp did not format it as {kind!r}")
                cases.append({"template": source, "label": label, "kind": kind, "conversation": conv,
                              "add_ass": add_ass, "output": out})
    unsupported = [{"template": source, "label": label,
                    "llama_cpp_output": apply(source, CONVERSATIONS["system_user"], True)}
                   for label, source in UNSUPPORTED.items()]
    data = {
        "generator": "tests/peer/dump_chat.py",
        "llama_cpp_python": metadata.version("llama-cpp-python"),
        "conversations": {k: [{"role": r, "content": c} for r, c in v] for k, v in CONVERSATIONS.items()},
        "cases": cases,
        "unsupported": unsupported,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases and {len(unsupported)} unsupported templates to {os.path.relpath(OUT)}")


if __name__ == "__main__":
    main()
