import { Writable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { httpPlugin } from '../../server/infra/http';
import { MemoryKv } from '../../server/infra/kv';
import { conflict } from '../../server/infra/errors';
import { loggerOptions, maskPhone, redactUrl } from '../../server/infra/logging';

describe('the one error handler', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  const app = Fastify({ loggerInstance: pino(loggerOptions('info'), sink) });
  const kv = new MemoryKv();

  beforeAll(async () => {
    await app.register(httpPlugin, { kv, rateLimitPerMinute: 1000, publicUrl: 'http://test' });
    app.get('/boom', async () => {
      throw new Error('db password is hunter2 at 10.0.0.1');
    });
    app.get('/taken', async () => {
      throw conflict('already_checked_in', 'Already checked in today');
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await kv.close();
  });

  it('hides the text of a 5xx but logs it', async () => {
    const res = await app.inject('/boom');
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ code: 'internal_error', message: 'Internal server error' });
    expect(lines.join('')).toContain('hunter2');
  });

  it('turns a typed error into its status and stable code', async () => {
    const res = await app.inject('/taken');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ code: 'already_checked_in', message: 'Already checked in today' });
  });
});

describe('log redaction', () => {
  it('censors secrets, tokens and phones by key, and masks phones and secret query parameters in text', () => {
    const lines: string[] = [];
    const log = pino(
      loggerOptions('info'),
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    log.info({ body: { password: 'p@ss', phone: '13812346392', token: 'tok' }, secret: 's3' }, 'login');
    log.info({ req: { method: 'GET', url: '/cgi-bin/token?appid=wx1&secret=abc&grant_type=client_credential', headers: {} } }, 'out');
    const out = lines.join('');
    for (const leaked of ['p@ss', '13812346392', 'tok"', 's3', 'secret=abc']) expect(out).not.toContain(leaked);
    expect(out).toContain('secret=***');
    expect(maskPhone('call 13812346392 or +8613912345678')).toBe('call 138****6392 or +86139****5678');
    expect(redactUrl('/sns/jscode2session?js_code=zzz&appid=a')).toBe('/sns/jscode2session?js_code=***&appid=a');
  });
});
