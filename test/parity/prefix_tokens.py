"""The first ids of each text as transformers' tokenizer gives them: the whole text encoded, then cut.

stdin: {"tokenizer_dir": str, "cases": [{"text": str, "add_special_tokens": bool, "limit": int}]}
stdout: [[int, ...], ...], one list per case.
"""
import json
import sys

from transformers import AutoTokenizer

request = json.load(sys.stdin)
tokenizer = AutoTokenizer.from_pretrained(request["tokenizer_dir"])
out = []
for case in request["cases"]:
    ids = tokenizer(case["text"], add_special_tokens=case["add_special_tokens"])["input_ids"]
    out.append(ids[: case["limit"]])
json.dump(out, sys.stdout)
