"""Transformers' side of test/parity/checkpoints.test.ts.

    python hf_reference.py classify CHECKPOINT < {"pairs": [{"question", "code"}, ...]}
    python hf_reference.py graph MODEL_DIR

classify: the request veRL's reward loop makes (verl/experimental/reward_loop): the checkpoint's own
tokenizer renders [user, assistant] with apply_chat_template (no generation prompt), a leading BOS is
cut off (vLLM's tokenizer adds it back), and vLLM's /classify tokenizes that text with its default
add_special_tokens=True. Prints [{"input", "ids", "logit"}]: the text veRL posts, the ids vLLM and
transformers score, and transformers' fp32 logit for them.
graph: the exported graph's declared inputs and outputs, its initializer dtypes, and whether ONNX
Runtime's CPU provider loads it.
"""
import json
import sys
from collections import Counter
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from export_onnx import hf_logits, load_classifier, pad_right  # noqa: E402


def classify(checkpoint: Path, pairs: list[dict]) -> list[dict]:
    import torch
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(checkpoint)
    rows = []
    for pair in pairs:
        messages = [{"role": "user", "content": pair["question"]}, {"role": "assistant", "content": pair["code"]}]
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
        if tokenizer.bos_token is not None and text.startswith(tokenizer.bos_token):
            text = text[len(tokenizer.bos_token):]
        rows.append({"input": text, "ids": tokenizer(text, add_special_tokens=True)["input_ids"]})
    pad = int(transformers.AutoConfig.from_pretrained(checkpoint).pad_token_id)
    model = load_classifier(torch, transformers, checkpoint, torch.float32, pad, "cpu")
    for start in range(0, len(rows), 8):
        chunk = rows[start:start + 8]
        for row, logit in zip(chunk, hf_logits(torch, model, *pad_right([r["ids"] for r in chunk], pad))):
            row["logit"] = logit
    return rows


def graph(model_dir: Path) -> dict:
    import onnx
    import onnxruntime as ort

    proto = onnx.load(str(model_dir / "model.onnx"), load_external_data=False)
    dtype = lambda t: onnx.TensorProto.DataType.Name(t)  # noqa: E731
    shape = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]  # noqa: E731
    session = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    return {
        "inputs": [[v.name, dtype(v.type.tensor_type.elem_type), shape(v)] for v in proto.graph.input],
        "outputs": [[v.name, dtype(v.type.tensor_type.elem_type), shape(v)] for v in proto.graph.output],
        "initializers": dict(Counter(dtype(t.data_type) for t in proto.graph.initializer)),
        "loads_on_cpu": [i.name for i in session.get_inputs()] == ["input_ids", "attention_mask"],
        "config_dtype": json.loads((model_dir / "config.json").read_text())["torch_dtype"],
        "export_check": json.loads((model_dir / "export.json").read_text())["check"],
    }


if __name__ == "__main__":
    mode, path = sys.argv[1], Path(sys.argv[2])
    result = classify(path, json.load(sys.stdin)["pairs"]) if mode == "classify" else graph(path)
    json.dump(result, sys.stdout, ensure_ascii=False)
