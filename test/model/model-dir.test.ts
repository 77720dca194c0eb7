import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ModelDirError, loadModelDir } from '../../src/model/model-dir.ts';
import { TOKENIZER_DIR } from '../support/fakes.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function modelDir(edit: (dir: string) => void = () => {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'model-dir-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'model.onnx'), 'not really onnx, the loader only checks presence');
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ architectures: ['Qwen3ForSequenceClassification'], num_labels: 1, pad_token_id: 151643, torch_dtype: 'float32' }));
  copyFileSync(join(TOKENIZER_DIR, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  copyFileSync(join(TOKENIZER_DIR, 'tokenizer_config.json'), join(dir, 'tokenizer_config.json'));
  edit(dir);
  return dir;
}

describe('model directory', () => {
  it('loads a complete directory, template from tokenizer_config.json', () => {
    const md = loadModelDir(modelDir());
    assert.equal(md.padTokenId, 151643);
    assert.equal(md.chatTemplateSource, 'tokenizer_config.json');
    assert.match(md.chatTemplate, /<\|im_start\|>/);
    assert.equal(md.dtype, 'float32');
  });

  it('takes the template from chat_template.jinja when present', () => {
    const md = loadModelDir(modelDir((d) => writeFileSync(join(d, 'chat_template.jinja'), '{{ messages[0].content }}')));
    assert.equal(md.chatTemplateSource, 'chat_template.jinja');
    assert.equal(md.chatTemplate, '{{ messages[0].content }}');
  });

  // Served as `model` in every answer and in /info: a hub id as it is, a path (a checkpoint saved from disk) by its last folder.
  const names: [string, string][] = [
    ['Qwen/Qwen3-1.7B', 'Qwen/Qwen3-1.7B'],
    ['CodeScaler-1.7B', 'CodeScaler-1.7B'],
    ['/home/alice/checkpoints/CodeScaler-1.7B/', 'CodeScaler-1.7B'],
    ['./out/rm', 'rm'],
    ['~/models/rm', 'rm'],
    ['C:\\models\\rm', 'rm'],
    ['/root/.cache/huggingface/hub/models--org--rm/snapshots/0123abc', '0123abc'],
  ];
  for (const [nameOrPath, served] of names) {
    it(`_name_or_path ${JSON.stringify(nameOrPath)} is served as ${JSON.stringify(served)}`, () => {
      const md = loadModelDir(modelDir((d) => writeFileSync(join(d, 'config.json'), JSON.stringify({ num_labels: 1, pad_token_id: 151643, _name_or_path: nameOrPath }))));
      assert.equal(md.name, served);
    });
  }

  const broken: [string, (dir: string) => void, string, RegExp][] = [
    ['missing model.onnx', (d) => rmSync(join(d, 'model.onnx')), 'model.onnx', /missing/],
    ['missing config.json', (d) => rmSync(join(d, 'config.json')), 'config.json', /missing/],
    ['malformed config.json', (d) => writeFileSync(join(d, 'config.json'), '{"num_labels": 1,'), 'config.json', /not valid JSON/],
    ['two labels', (d) => writeFileSync(join(d, 'config.json'), '{"num_labels": 2, "pad_token_id": 0}'), 'config.json', /num_labels must be 1/],
    ['no pad token', (d) => writeFileSync(join(d, 'config.json'), '{"num_labels": 1}'), 'config.json', /pad_token_id/],
    ['missing tokenizer.json', (d) => rmSync(join(d, 'tokenizer.json')), 'tokenizer.json', /missing/],
    ['tokenizer.json without a model', (d) => writeFileSync(join(d, 'tokenizer.json'), '{}'), 'tokenizer.json', /no "model"/],
    ['malformed tokenizer_config.json', (d) => writeFileSync(join(d, 'tokenizer_config.json'), '[1,2]'), 'tokenizer_config.json', /JSON object/],
    ['no template anywhere', (d) => writeFileSync(join(d, 'tokenizer_config.json'), '{}'), 'tokenizer_config.json', /no chat_template/],
    ['empty chat_template.jinja', (d) => writeFileSync(join(d, 'chat_template.jinja'), '  '), 'chat_template.jinja', /empty/],
  ];
  for (const [what, edit, file, why] of broken) {
    it(`stops on ${what}, naming ${file}`, () => {
      const dir = modelDir(edit);
      assert.throws(() => loadModelDir(dir), (err: unknown) => {
        assert.ok(err instanceof ModelDirError);
        assert.equal(err.file, join(dir, file));
        assert.match(err.message, why);
        return true;
      });
    });
  }

  it('stops on a directory that does not exist', () => {
    assert.throws(() => loadModelDir('/no/such/model'), /model directory does not exist/);
  });
});
