import { request } from 'node:http';
import type { ProbeResult } from './types.js';

const MAX_BODY_BYTES = 64 * 1024;

export interface HttpProbeResult extends ProbeResult {
  readonly status?: number;
  readonly body?: unknown;
}

/** GET http://host:port/path; 2xx is ok. A JSON body is parsed when it is small. */
export function probeHttp(options: { host?: string; port: number; path: string; timeoutMs: number }): Promise<HttpProbeResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: HttpProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = request(
      { host: options.host ?? '127.0.0.1', port: options.port, path: options.path, method: 'GET', agent: false, headers: { accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY_BYTES) chunks.push(chunk);
        });
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          const body = parseJson(Buffer.concat(chunks).toString('utf8'));
          finish({ ok, latencyMs: elapsed(), status, ...(body === undefined ? {} : { body }), detail: `${options.path} answered ${status}${ok ? '' : summarize(body)}` });
        });
        res.on('error', (error) => finish({ ok: false, latencyMs: elapsed(), detail: `${options.path}: ${error.message}` }));
      },
    );
    const timer = setTimeout(() => finish({ ok: false, latencyMs: elapsed(), detail: `${options.path}: no answer within ${options.timeoutMs} ms` }), options.timeoutMs);
    req.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, latencyMs: elapsed(), detail: `${options.path}: ${error.code ?? error.message}` }));
    req.end();
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function summarize(body: unknown): string {
  if (body && typeof body === 'object' && 'failing' in body && Array.isArray(body.failing)) {
    return ` (failing: ${body.failing.map(String).join(', ').slice(0, 200)})`;
  }
  return '';
}
