// Renders GET /docs of a running service in headless Chromium (Debian's `chromium` package), with every
// operation opened, and checks what a reader would see: no horizontal overflow at a desktop and a
// phone width, no console errors (a missing favicon is one), and no raw backticks in the intro.
// Writes a screenshot per width. Needs Node's WebSocket (node --experimental-websocket on Node 20).
//
//   node --experimental-websocket tools/check-docs-page.mjs http://127.0.0.1:8080/docs OUT_DIR
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, outDir = '.'] = process.argv.slice(2);
const port = 9300 + Math.floor(Math.random() * 500);
const chrome = spawn('chromium', ['--headless=new', '--no-sandbox', '--disable-gpu', `--remote-debugging-port=${port}`,
  `--user-data-dir=${mkdtempSync(join(tmpdir(), 'docs-chromium-'))}`, 'about:blank'], { stdio: 'ignore' });

async function target() {
  for (let i = 0; i < 100; i++) {
    try {
      const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
      const page = list.find((t) => t.type === 'page');
      if (page) return page.webSocketDebuggerUrl;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('chromium did not come up');
}

const ws = new WebSocket(await target());
await new Promise((r) => ws.addEventListener('open', r, { once: true }));
let nextId = 1;
const pending = new Map();
const problems = [];
ws.addEventListener('message', (event) => {
  const msg = JSON.parse(event.data);
  if (msg.id && pending.has(msg.id)) {
    pending.get(msg.id)(msg);
    pending.delete(msg.id);
  } else if (msg.method === 'Log.entryAdded' && msg.params.entry.level === 'error') {
    problems.push(`console: ${msg.params.entry.text} ${msg.params.entry.url ?? ''}`);
  } else if (msg.method === 'Runtime.exceptionThrown') {
    problems.push(`exception: ${msg.params.exceptionDetails.text}`);
  }
});
const send = (method, params = {}) => new Promise((resolve) => {
  const id = nextId++;
  pending.set(id, resolve);
  ws.send(JSON.stringify({ id, method, params }));
});

await send('Log.enable');
await send('Runtime.enable');
await send('Page.enable');
const report = [];
for (const [name, width] of [['desktop', 1280], ['phone', 390]]) {
  await send('Emulation.setDeviceMetricsOverride', { width, height: 900, deviceScaleFactor: 1, mobile: width < 600 });
  await send('Page.navigate', { url });
  await new Promise((r) => setTimeout(r, 1500));
  const { result } = await send('Runtime.evaluate', {
    returnByValue: true,
    expression: `(() => {
      for (const d of document.querySelectorAll('details')) d.open = true;
      const root = document.documentElement;
      const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > root.clientWidth + 1)
        .slice(0, 5).map((e) => e.tagName + ' ' + (e.textContent || '').slice(0, 40));
      const scrolling = [...document.querySelectorAll('pre')].filter((e) => e.scrollWidth > e.clientWidth + 1).length;
      return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide, scrolling,
        codeSpans: document.querySelectorAll('#intro code').length, rawBackticks: document.getElementById('intro').textContent.includes('\`'),
        operations: document.querySelectorAll('details').length };
    })()`,
  });
  const v = result.result.value;
  await new Promise((r) => setTimeout(r, 300));
  const shot = await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false });
  writeFileSync(join(outDir, `docs-${name}.png`), Buffer.from(shot.result.data, 'base64'));
  report.push({ name, width, ...v });
  if (v.scrollWidth > v.clientWidth) problems.push(`${name}: page ${v.scrollWidth}px wide in a ${v.clientWidth}px window: ${v.wide.join(' | ')}`);
  if (v.scrolling > 0) problems.push(`${name}: ${v.scrolling} <pre> blocks scroll sideways`);
  if (v.rawBackticks || v.codeSpans === 0) problems.push(`${name}: intro shows raw backticks`);
}
console.log(JSON.stringify(report, null, 1));
ws.close();
chrome.kill();
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('docs page: no overflow, no console errors, code spans rendered');
