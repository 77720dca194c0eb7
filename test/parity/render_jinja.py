"""The Python side of test/parity/jinja.test.ts: templates rendered by transformers' own Jinja.

    python render_jinja.py strings < {"cases": [{"template": str, "variables": {...}}, ...]}
    python render_jinja.py chat    < {"tokenizer_dir": str, "conversations": [{"messages": [...], "add_generation_prompt": bool}, ...]}

strings: each template compiled by transformers' _compile_jinja_template (jinja2's sandboxed
environment with trim_blocks, lstrip_blocks, loopcontrols and transformers' tojson) and rendered with
the variables. chat: AutoTokenizer.from_pretrained(tokenizer_dir).apply_chat_template(tokenize=False).
Prints a JSON list, one {"text": str} or {"error": str} per input, in order.
"""
import json
import sys

from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import _compile_jinja_template


def render(fn):
    try:
        return {"text": fn()}
    except Exception as err:  # the JS side must fail on the same inputs; the message is for the report
        return {"error": f"{type(err).__name__}: {err}"}


def main() -> None:
    mode = sys.argv[1]
    request = json.load(sys.stdin)
    if mode == "strings":
        out = [render(lambda c=c: _compile_jinja_template(c["template"]).render(**c["variables"])) for c in request["cases"]]
    elif mode == "chat":
        tokenizer = AutoTokenizer.from_pretrained(request["tokenizer_dir"])
        out = [render(lambda c=c: tokenizer.apply_chat_template(c["messages"], tokenize=False, add_generation_prompt=c["add_generation_prompt"]))
               for c in request["conversations"]]
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
