import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DEFAULT_MAX_SKEW_S, parseAuthorization, requestMessage, rsaVerify, timestampFresh } from '../../wechat/pay/wxpay-crypto';
import { keepRawBody } from '../../wechat/pay/raw-body';
import { WxApiError, type PaySandbox } from './pay-sandbox';

const merchantNo = z.string().regex(/^[0-9A-Za-z_\-|*]+$/);
const fen = z.number().int().positive();

const jsapiBody = z.object({
  appid: z.string().min(1).max(32),
  mchid: z.string().min(1).max(32),
  description: z.string().min(1).max(127),
  out_trade_no: merchantNo.min(6).max(32),
  time_expire: z.string().optional(),
  attach: z.string().max(128).optional(),
  notify_url: z.string().min(1).max(256),
  goods_tag: z.string().optional(),
  amount: z.object({ total: fen, currency: z.literal('CNY').optional() }),
  payer: z.object({ openid: z.string().min(1).max(128) }),
});

const refundBody = z
  .object({
    transaction_id: z.string().optional(),
    out_trade_no: merchantNo.min(6).max(32).optional(),
    out_refund_no: merchantNo.min(1).max(64),
    reason: z.string().max(80).optional(),
    notify_url: z.string().max(256).optional(),
    funds_account: z.string().optional(),
    amount: z.object({ refund: fen, total: fen, currency: z.literal('CNY') }),
  })
  .refine((b) => b.transaction_id || b.out_trade_no, 'transaction_id 与 out_trade_no 必填其一');

const transferBody = z.object({
  appid: z.string().min(1).max(32),
  out_bill_no: z.string().regex(/^[0-9A-Za-z]{5,32}$/, '商户单号只能由数字、大小写字母组成，5–32 位'),
  transfer_scene_id: z.string().min(1).max(36),
  openid: z.string().min(1).max(64),
  user_name: z.string().optional(),
  transfer_amount: fen,
  transfer_remark: z.string().min(1).max(32),
  notify_url: z.string().max(256).optional(),
  user_recv_perception: z.string().optional(),
  transfer_scene_report_infos: z.array(z.object({ info_type: z.string().min(1), info_content: z.string().min(1) })).optional(),
});

type Reply = FastifyReply;

/**
 * WeChat Pay APIv3 as the sandbox plays it; mount under `/sandbox/pay` (WXPAY_API_BASE = PUBLIC_URL/sandbox/pay) or on
 * a server of its own. Every request must carry a valid merchant signature over the path below the mount point;
 * every answer is signed with the sandbox's WeChat Pay key.
 */
export const paySandboxRoutes: FastifyPluginAsync<{ sandbox: PaySandbox }> = async (app, { sandbox }) => {
  const prefix = app.prefix;
  keepRawBody(app, ['application/json'], 64 * 1024);

  app.addHook('preHandler', async (req, reply) => {
    const failure = checkMerchantSignature(req, prefix, sandbox);
    if (failure) return reply.code(401).send({ code: 'SIGN_ERROR', message: failure });
  });

  app.addHook('onSend', async (_req, reply, payload) => {
    const body = typeof payload === 'string' ? payload : payload === undefined || payload === null ? '' : undefined;
    if (body === undefined) return payload;
    for (const [k, v] of Object.entries(sandbox.sign(body))) reply.header(k, v);
    reply.header('Request-ID', `08${Date.now().toString(16).toUpperCase()}`);
    return payload;
  });

  const hidden = { schema: { hide: true } };

  app.post('/v3/pay/transactions/jsapi', hidden, async (req, reply) =>
    answer(reply, () => sandbox.createJsapiOrder(parse(jsapiBody, req.body))),
  );

  app.get<{ Params: { no: string }; Querystring: { mchid?: string } }>('/v3/pay/transactions/out-trade-no/:no', hidden, async (req, reply) =>
    answer(reply, () => sandbox.queryOrder({ outTradeNo: req.params.no }, req.query.mchid)),
  );

  app.get<{ Params: { id: string }; Querystring: { mchid?: string } }>('/v3/pay/transactions/id/:id', hidden, async (req, reply) =>
    answer(reply, () => sandbox.queryOrder({ transactionId: req.params.id }, req.query.mchid)),
  );

  app.post<{ Params: { no: string } }>('/v3/pay/transactions/out-trade-no/:no/close', hidden, async (req, reply) =>
    answer(reply, () => {
      const body = parse(z.object({ mchid: z.string() }), req.body);
      sandbox.closeOrder(req.params.no, body.mchid);
      return undefined;
    }),
  );

  app.post('/v3/refund/domestic/refunds', hidden, async (req, reply) => answer(reply, () => sandbox.createRefund(parse(refundBody, req.body))));

  app.get<{ Params: { no: string } }>('/v3/refund/domestic/refunds/:no', hidden, async (req, reply) =>
    answer(reply, () => sandbox.queryRefund(req.params.no)),
  );

  app.post('/v3/fund-app/mch-transfer/transfer-bills', hidden, async (req, reply) =>
    answer(reply, () => sandbox.createTransferBill(parse(transferBody, req.body))),
  );

  app.get<{ Params: { no: string } }>('/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/:no', hidden, async (req, reply) =>
    answer(reply, () => sandbox.queryTransferBill(req.params.no)),
  );

  app.post<{ Params: { no: string } }>('/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/:no/cancel', hidden, async (req, reply) =>
    answer(reply, () => sandbox.cancelTransferBill(req.params.no)),
  );
};

/** WeChat's own checks on `Authorization`: scheme, merchant, certificate serial, timestamp window, signature. */
function checkMerchantSignature(req: FastifyRequest, prefix: string, sandbox: PaySandbox): string | undefined {
  const auth = parseAuthorization(req.headers.authorization);
  if (!auth) return 'Authorization 头缺失或格式错误';
  if (auth.mchid !== sandbox.keys.mchid) return '商户号与签名不匹配';
  if (auth.serial_no.toUpperCase() !== sandbox.keys.merchantSerialNo.toUpperCase()) return '商户证书序列号有误';
  if (!timestampFresh(auth.timestamp, DEFAULT_MAX_SKEW_S)) return '请求时间戳已过期';
  const path = req.url.startsWith(prefix) ? req.url.slice(prefix.length) : req.url;
  const body = typeof req.body === 'string' ? req.body : '';
  const message = requestMessage(req.method, path, auth.timestamp, auth.nonce_str, body);
  if (!rsaVerify(sandbox.keys.merchantPublicKey, message, auth.signature)) return '签名错误';
  return undefined;
}

function parse<T>(schema: z.ZodType<T>, raw: unknown): T {
  let value: unknown;
  try {
    value = JSON.parse(typeof raw === 'string' ? raw : '');
  } catch {
    throw new WxApiError(400, 'PARAM_ERROR', '请求体不是合法的 JSON');
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new WxApiError(400, 'PARAM_ERROR', `${issue.path.join('.') || '请求体'}: ${issue.message}`);
  }
  return r.data;
}

async function answer(reply: Reply, fn: () => unknown): Promise<Reply> {
  try {
    const result = fn();
    return result === undefined ? reply.code(204).send() : reply.code(200).send(result);
  } catch (err) {
    if (err instanceof WxApiError) return reply.code(err.status).send({ code: err.code, message: err.message });
    throw err;
  }
}
