// OpenAI-style chat messages as vLLM takes them (/classify, /pooling, /tokenize): their text parts
// rendered with the model's own chat template. A message the template cannot take is the request's
// fault, so it is an InvalidRequestError naming the message.
import { InvalidRequestError } from '../errors.ts';
import type { ChatTemplate } from './python-jinja.ts';

type ContentPart = { type: string; text?: string };
export interface ChatMessage {
  role: string;
  content?: string | ContentPart[] | null;
}

/** A message's content as the text the template sees: text parts joined by newlines, as vLLM's "string" content format. */
function messageText(message: ChatMessage, i: number): string {
  const { content } = message;
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part, k) => {
    if (part.type !== 'text' || typeof part.text !== 'string') {
      throw new InvalidRequestError(`body/messages/${i}/content/${k}: only text parts ({"type": "text", "text": ...}) are supported`);
    }
    return part.text;
  }).join('\n');
}

/** vLLM's messages through the model's template; a template that raises is the request's fault (a 400). */
export function renderMessages(template: ChatTemplate, messages: ChatMessage[], addGenerationPrompt: boolean): string {
  const plain = messages.map((m, i) => ({ role: m.role, content: messageText(m, i) }));
  try {
    return template.render(plain, addGenerationPrompt);
  } catch (err) {
    throw new InvalidRequestError(`body/messages: the chat template refused them: ${(err as Error).message}`);
  }
}
