// HTTP transport as clients send it: bodies are JSON with `Content-Type: application/json` (the
// trainers' clients all send it; a body of another type, or of none, is a 415), gzip and deflate
// request bodies are inflated with BODY_LIMIT applied to the inflated size (a zip bomb is a 413,
// not a memory spike), and large answers are gzip-compressed when the client accepts it.
import { promisify } from 'node:util';
import { createGunzip, createInflate, gzip } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { ServiceError } from '../errors.ts';

/** Answers smaller than this go out as they are: compressing them saves less than it costs. */
export const COMPRESS_MIN_BYTES = 8 * 1024;

const gzipAsync = promisify(gzip);

export function registerTransport(app: FastifyInstance): void {
  // Only JSON bodies are read (415 otherwise), a body without a Content-Type included: a browser sends
  // a cross-site POST without preflight only as text/plain, a form or with no type at all.
  app.removeContentTypeParser('text/plain');

  app.addHook('preParsing', async (request, _reply, payload) => {
    const encoding = request.headers['content-encoding']?.trim().toLowerCase();
    if (encoding === undefined || encoding === '' || encoding === 'identity') return payload;
    if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
      throw new ServiceError('unsupported_media_type', `Content-Encoding ${encoding}: only gzip and deflate request bodies are accepted`);
    }
    const inflated = encoding === 'deflate' ? createInflate() : createGunzip();
    // Fastify compares Content-Length with the bytes received, and BODY_LIMIT with the bytes it reads
    // (the inflated ones): it reads the received count from this property.
    const counted = inflated as typeof inflated & { receivedEncodedLength: number };
    counted.receivedEncodedLength = 0;
    payload.on('data', (chunk: Buffer) => {
      counted.receivedEncodedLength += chunk.length;
    });
    payload.on('error', (err) => inflated.destroy(err));
    return payload.pipe(inflated);
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    const size = Buffer.byteLength(payload);
    if (size < COMPRESS_MIN_BYTES || reply.hasHeader('content-encoding') || !acceptsGzip(request.headers['accept-encoding'])) return payload;
    reply.header('content-encoding', 'gzip');
    reply.header('vary', 'accept-encoding');
    reply.removeHeader('content-length');
    return gzipAsync(payload);
  });
}

/** True when Accept-Encoding lists gzip (or *) without q=0. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name !== 'gzip' && name !== 'x-gzip' && name !== '*') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
