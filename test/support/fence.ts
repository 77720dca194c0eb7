// A response that holds `code` in one Markdown python fence, as a policy writes it. The closing fence
// goes on its own line; extraction strips the code, so a trailing newline in `code` changes nothing.

export function fence(code: string): string {
  return '```python\n' + code + (code.endsWith('\n') ? '' : '\n') + '```';
}
