#!/usr/bin/env python3
"""Check the service against Hugging Face transformers on 200 deterministic (question, code) pairs.

    python3 scripts/check_hf_parity.py models/tiny-random-qwen3-rm
    python3 scripts/check_hf_parity.py models/codescaler-1.7b --hf-model LARK-Lab/CodeScaler-1.7B

The service side is tools/service-scores.ts (run with node): the service's own PromptEncoder, batch
queue and ONNX model. The transformers side renders the same pairs with the model directory's
tokenizer and apply_chat_template, tokenizes them without added special tokens, right-truncates at
--max-length, and scores them with AutoModelForSequenceClassification (Qwen3ForSequenceClassification
for the Qwen3 models) loaded from model.safetensors + config.json in the model directory, or from
--hf-model for an export that carries no safetensors. Per pair it compares the rendered text, the
token ids, the truncated flag and the logit (|diff| within the export's fp32 tolerance from its export.json, else 1e-4; 0.1 for an fp16 export), prints
a summary and exits 1 on any mismatch.

The pairs cover unicode (astral emoji, combining marks, RTL, NFC-sensitive text), special-token text
inside code and questions (<|im_end|>, <think>, </think>, <|endoftext|>, <tool_response> wrappers),
white space edge cases (empty code, CRLF, tabs) and inputs far longer than --max-length.
`--dump-pairs` prints them as JSON and needs nothing beyond the standard library.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVICE_CLI = REPO / "tools" / "service-scores.ts"
PAIR_COUNT = 200
DEFAULT_SEED = 7
DEFAULT_MAX_LENGTH = 384
KINDS = ("ascii", "unicode", "special_tokens", "whitespace", "long", "markdown")

UNICODE_SNIPPETS = (
    "héllo wörld", "naïve café", "e\u0301 (e + combining acute)", "Å vs A\u030a", "日本語のテキスト", "中文字符串处理",
    "한국어 문자열", "Ελληνικά", "русский текст", "עברית", "العربية", "हिन्दी", "😀🎉🚀", "👩\u200d💻 and 👨\u200d👩\u200d👧",
    "🇯🇵🇫🇷 flags", "👍🏽 skin tone", "\u00a0no-break\u00a0space", "zero\u200bwidth\u200cjoiners\u200d", "line\u2028separator",
    "ＡＢＣ１２３ fullwidth", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ∑∫√∞", "\ufeffbyte order mark", "ß ﬁ ligature Ǆ", "ℌ𝕆 math letters", "ทดสอบภาษาไทย",
)
SPECIAL_SNIPPETS = (
    "<|im_end|>", "<|im_start|>assistant\n", "<|im_start|>", "<think>", "</think>", "<|endoftext|>", "<tool_call>",
    "</tool_call>", "<tool_response>", "<|fim_prefix|>", "<|vision_start|>", "<|im_end", "im_end|>", "<|IM_END|>",
    "< |im_end| >", "<<|im_end|>>", "<think></think>",
)
WORDS = ("count", "total", "items", "value", "index", "result", "buffer", "node", "left", "right", "prefix", "window")
STATEMENTS = (
    "{a} = {b} + {n}", "{a} = [{b} for {b} in range({n})]", "if {a} > {n}:\n        {a} -= {n}", "for {b} in range({n}):\n        {a} += {b}",
    "{a} = {{'{b}': {n}}}", "{a} = str({b}) * {n}", "while {a} < {n}:\n        {a} += 1", "{a}, {b} = {b}, {a}",
)


def function_source(rng: random.Random, lines: int, name: str | None = None) -> str:
    name = name or f"{rng.choice(WORDS)}_{rng.randrange(1000)}"
    a, b = rng.sample(WORDS, 2)
    body = [f"    {a} = 0", f"    {b} = 1"]
    body += ["    " + rng.choice(STATEMENTS).format(a=a, b=b, n=rng.randrange(1, 100)) for _ in range(lines)]
    return f"def {name}({a}, {b}):\n" + "\n".join(body) + f"\n    return {a}"


def question_text(rng: random.Random) -> str:
    return f"Write a function that returns the {rng.choice(WORDS)} of a list of {rng.randrange(2, 50)} numbers."


def ascii_pair(rng: random.Random) -> tuple[str, str]:
    return question_text(rng), function_source(rng, rng.randrange(1, 12))


def unicode_pair(rng: random.Random) -> tuple[str, str]:
    picks = rng.sample(UNICODE_SNIPPETS, 3)
    question = f"{question_text(rng)} Input may contain {picks[0]}."
    code = function_source(rng, rng.randrange(1, 5), name=rng.choice(("größe", "计算", "naïve_sum", "sum_")))
    code += f"\n\n# {picks[1]}\nGREETING = {json.dumps(picks[2], ensure_ascii=False)}\nprint(GREETING)"
    return question, code


def special_pair(rng: random.Random) -> tuple[str, str]:
    token, other = rng.sample(SPECIAL_SNIPPETS, 2)
    code = function_source(rng, rng.randrange(1, 5)) + f"\n\nMARK = {token!r}  # {other}"
    variant = rng.randrange(4)
    question = question_text(rng)
    if variant == 1:
        # The Qwen3 template moves whatever precedes the last </think> into the reasoning block.
        code = f"<think>\nplan: {other}\n</think>\n\n{code}"
    elif variant == 2:
        # A user turn wrapped in tool_response tags changes which turn the template treats as the query.
        question = f"<tool_response>{question}</tool_response>"
    elif variant == 3:
        question = f"{question} Do not print {token} or {other}."
    return question, code


def whitespace_pair(rng: random.Random) -> tuple[str, str]:
    body = function_source(rng, rng.randrange(1, 6))
    variants = (
        "", "   ", "\n\n\n", f"\n\n{body}\n\n", f"{body}   \n", body.replace("    ", "\t"), body.replace("\n", "\r\n"),
        f"  {body}", f"{body}\n\n\n\n# trailing comment\n", f"\n{body}\n</think>\n",
    )
    question = rng.choice(("", " ", question_text(rng), f"  {question_text(rng)}\n\n"))
    return question, rng.choice(variants)


def long_pair(rng: random.Random) -> tuple[str, str]:
    code = "\n\n".join(function_source(rng, rng.randrange(10, 30)) for _ in range(rng.randrange(6, 16)))
    if rng.random() < 0.3:
        # A question longer than the limit: truncation cuts inside the user turn.
        return " ".join(question_text(rng) for _ in range(rng.randrange(80, 200))), code
    return question_text(rng), code


def markdown_pair(rng: random.Random) -> tuple[str, str]:
    question = f"{question_text(rng)}\nFor example:\n```\nInput:\nnums = [1, 2, 3]\n\nOutput:\n6\n```\n"
    code = function_source(rng, rng.randrange(1, 6))
    if rng.random() < 0.5:
        code += '\n\nDOC = """```python\nx = 1\n```"""\nprint(DOC, "`inline`")'
    return question, code


MAKERS = {"ascii": ascii_pair, "unicode": unicode_pair, "special_tokens": special_pair, "whitespace": whitespace_pair,
          "long": long_pair, "markdown": markdown_pair}


def make_pairs(seed: int = DEFAULT_SEED, count: int = PAIR_COUNT) -> list[dict]:
    """Deterministic pairs, kinds in rotation so that every kind is about a sixth of them."""
    rng = random.Random(seed)
    pairs = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        question, code = MAKERS[kind](rng)
        pairs.append({"kind": kind, "question": question, "code": code})
    return pairs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="check_hf_parity.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", nargs="?", type=Path, help="the service's model directory (model.onnx, config.json, tokenizer files)")
    parser.add_argument("--hf-model", default=None,
                        help="hub id or checkpoint directory for the transformers weights (default: model.safetensors in model_dir)")
    parser.add_argument("--max-length", type=int, default=DEFAULT_MAX_LENGTH, help=f"truncation length (default: {DEFAULT_MAX_LENGTH})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"pair generator seed (default: {DEFAULT_SEED})")
    parser.add_argument("--pairs", type=int, default=PAIR_COUNT,
                        help=f"how many of the pairs to check, kinds in rotation (default: {PAIR_COUNT})")
    parser.add_argument("--batch-size", type=int, default=8, help="rows per transformers batch (default: 8)")
    parser.add_argument("--tolerance", type=float, default=None, help="largest accepted |logit diff| (default: fp32 the export.json's tolerance, else 1e-4; 0.1 fp16)")
    parser.add_argument("--provider", choices=["auto", "cpu", "cuda"], default=None,
                        help="the service's ONNX Runtime provider (default: cpu for fp32 exports, cuda for fp16)")
    parser.add_argument("--dump-pairs", action="store_true", help="print the pairs as JSON and exit (standard library only)")
    args = parser.parse_args(argv)
    if not args.dump_pairs and args.model_dir is None:
        parser.error("model_dir is required unless --dump-pairs is given")
    return args


def run_service(model_dir: Path, pairs: list[dict], max_length: int, provider: str) -> dict:
    node = shutil.which("node")
    if node is None:
        raise SystemExit("node is not on PATH; the service side runs tools/service-scores.ts with node")
    cmd = [node, "--import", "tsx", str(SERVICE_CLI), "--model-dir", str(model_dir), "--max-length", str(max_length), "--provider", provider]
    stdin = json.dumps([{"question": p["question"], "code": p["code"]} for p in pairs])
    proc = subprocess.run(cmd, input=stdin.encode("utf-8"), capture_output=True, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[2:])} failed ({proc.returncode}):\n{proc.stderr.decode('utf-8', 'replace')}")
    return json.loads(proc.stdout.decode("utf-8"))


def first_difference(a, b) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def describe(index: int, pair: dict, what: str, service, hf) -> str:
    at = first_difference(service, hf)
    return (f"  pair {index} ({pair['kind']}): {what} differ at {at}: "
            f"service {service[max(0, at - 5):at + 10]!r} vs transformers {hf[max(0, at - 5):at + 10]!r}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    pairs = make_pairs(args.seed, args.pairs)
    if args.dump_pairs:
        json.dump({"seed": args.seed, "max_length": args.max_length, "pairs": pairs}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0

    # The sibling script holds the Hugging Face side both checks share (sys.path[0] is scripts/);
    # no __pycache__ left in the source tree for it.
    sys.dont_write_bytecode = True
    from export_onnx import TOLERANCE, abs_diff, chat_ids, hf_logits, import_or_explain, load_classifier, pad_right, resolve_source

    model_dir: Path = args.model_dir.resolve()
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    fp16 = str(config.get("torch_dtype", config.get("dtype", "float32"))) == "float16"
    tolerance = args.tolerance if args.tolerance is not None else TOLERANCE["fp16" if fp16 else "fp32"]
    exported = model_dir / "export.json"
    if args.tolerance is None and not fp16 and exported.is_file():
        # The export's own fp32 tolerance for this model: 2e-5 x its logit scale, at least 1e-4 (docs/models.md).
        tolerance = json.loads(exported.read_text(encoding="utf-8"))["check"].get("tolerance", tolerance)
    provider = args.provider or ("cuda" if fp16 else "cpu")

    torch, transformers = import_or_explain("torch", "transformers")
    torch.backends.cuda.matmul.allow_tf32 = False

    service = run_service(model_dir, pairs, args.max_length, provider)
    results = service["results"]
    if len(results) != len(pairs):
        raise SystemExit(f"the service answered {len(results)} results for {len(pairs)} pairs")
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir)
    hf = [chat_ids(tokenizer, p["question"], p["code"], args.max_length) for p in pairs]

    problems: list[str] = []
    text_ok = ids_ok = flag_ok = 0
    for i, (pair, got, (text, ids, truncated)) in enumerate(zip(pairs, results, hf)):
        if got["text"] == text:
            text_ok += 1
        else:
            problems.append(describe(i, pair, "rendered texts", got["text"], text))
        if got["ids"] == ids:
            ids_ok += 1
        else:
            problems.append(describe(i, pair, "token ids", got["ids"], ids))
        if got["truncated"] == truncated:
            flag_ok += 1
        else:
            problems.append(f"  pair {i} ({pair['kind']}): truncated {got['truncated']} (service) vs {truncated} (transformers)")

    pad_token_id = int(config["pad_token_id"])
    weights = resolve_source(args.hf_model, None)[0] if args.hf_model else model_dir
    model = load_classifier(torch, transformers, weights, torch.float32, pad_token_id, "cpu")
    logits: list[float] = []
    for start in range(0, len(hf), args.batch_size):
        logits += hf_logits(torch, model, *pad_right([row[1] for row in hf[start:start + args.batch_size]], pad_token_id))
    diffs = [abs_diff(got["logit"], want) for got, want in zip(results, logits)]
    worst = max(range(len(diffs)), key=diffs.__getitem__)
    if diffs[worst] > tolerance:
        over = [i for i, d in enumerate(diffs) if d > tolerance]
        problems.append(f"  logits: {len(over)} pairs beyond {tolerance:g}, e.g. pair {worst} ({pairs[worst]['kind']}): "
                        f"service {results[worst]['logit']} vs transformers {logits[worst]}")

    kinds = {k: sum(p["kind"] == k for p in pairs) for k in KINDS}
    n = len(pairs)
    print(f"model: {model_dir} (transformers weights: {weights}, class {type(model).__name__}, service provider {service['execution_provider']})")
    print(f"pairs: {n} {kinds}; truncated at max_length {args.max_length}: {sum(r['truncated'] for r in results)}")
    print(f"chat template text equal: {text_ok}/{n}")
    print(f"token ids equal:          {ids_ok}/{n}")
    print(f"truncated flag equal:     {flag_ok}/{n}")
    print(f"logits: max |service - transformers| {diffs[worst]:.3g} (pair {worst}), tolerance {tolerance:g}")
    for line in problems[:20]:
        print(line)
    if len(problems) > 20:
        print(f"  ... and {len(problems) - 20} more")
    print("OK" if not problems else f"MISMATCH: {len(problems)} problems")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
