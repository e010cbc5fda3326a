import { Writable } from 'node:stream';
import Fastify from 'fastify';
import pino from 'pino';
import { lazyChildLoggerFactory, loggerOptions } from '../../server/infra/logging';

describe('lazy request loggers', () => {
  it('log with the request id and redaction, at the route level, only what that level lets through', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(JSON.parse(String(chunk))), cb()) });
    const app = Fastify({ loggerInstance: pino(loggerOptions('info'), sink), childLoggerFactory: lazyChildLoggerFactory });
    app.get('/loud', async (req) => (req.log.info({ secret: 'hide-me' }, 'loud route'), 'ok'));
    app.get('/quiet', { logLevel: 'warn' }, async (req) => {
      req.log.info('not shown');
      req.log.warn({ token: 'hide-me-too' }, 'quiet route warned');
      return 'ok';
    });
    await app.inject({ url: '/loud', headers: { 'request-id': 'x' } });
    await app.inject('/quiet');
    await app.close();
    const loud = lines.find((l) => l.msg === 'loud route')!;
    expect(loud.reqId).toEqual(expect.any(String));
    expect(loud.secret).toBe('***');
    expect(lines.filter((l) => l.msg === 'incoming request')).toHaveLength(1); // /loud only
    expect(lines.some((l) => l.msg === 'not shown')).toBe(false);
    const warned = lines.find((l) => l.msg === 'quiet route warned')!;
    expect(warned.reqId).toEqual(expect.any(String));
    expect(warned.token).toBe('***');
  });
});
