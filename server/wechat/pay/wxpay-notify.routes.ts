import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../../infra/errors';
import { signedHeadersOf } from './wxpay-keys';
import { keepRawBody } from './raw-body';
import type { WxPayNotificationService } from './wxpay-notification.service';

/** WeChat's documented failure answer; any non-2xx makes it deliver again on its schedule. */
const failure = z.object({ code: z.literal('FAIL'), message: z.string(), error: z.string() });

/**
 * `POST /wechatpay/notify`: every WeChat Pay notification. The body is kept as the raw string that arrived so the
 * signature is checked over exactly those bytes; success is a bare 204, as WeChat expects.
 */
export const wxPayNotifyRoutes: FastifyPluginAsyncZod<{ notifications: WxPayNotificationService }> = async (app, { notifications }) => {
  keepRawBody(app, ['application/json', 'text/plain'], 64 * 1024);

  app.post(
    '/wechatpay/notify',
    {
      // WeChat's servers deliver in bursts from few addresses; a forged call costs one RSA check.
      config: { rateLimit: false },
      schema: {
        tags: ['wechat'],
        summary: 'WeChat Pay notifications (payments, refunds, transfers): verified, decrypted, processed once',
        response: { 204: z.null(), 400: failure, 401: failure, 500: failure, 503: failure },
      },
    },
    async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const headers = signedHeadersOf((n) => {
        const v = req.headers[n];
        return Array.isArray(v) ? v[0] : v;
      });
      try {
        const r = await notifications.receive({ requestId: req.id }, headers, raw);
        req.log.info({ notificationId: r.notificationId, eventType: r.eventType, outcome: r.outcome }, 'WeChat Pay notification');
        return reply.code(204).send(null);
      } catch (err) {
        if (err instanceof AppError && (err.statusCode < 500 || err.code === 'wxpay_not_configured')) {
          req.log.warn({ code: err.code, serial: headers.serial }, 'WeChat Pay notification refused');
          return reply.code(err.statusCode as 400 | 401 | 503).send({ code: 'FAIL', message: err.message, error: err.code });
        }
        req.log.error({ err }, 'WeChat Pay notification handler failed; WeChat will deliver again');
        return reply.code(500).send({ code: 'FAIL', message: 'Processing failed; deliver again', error: 'wxpay_notify_handler_failed' });
      }
    },
  );
};
