import { CallbackCrypto, CallbackCryptoError, decodeAesKey, wechatSignature } from '../../server/wechat/callback-crypto';
import { buildXml, parseWechatXml, rawElementText, XmlError } from '../../server/wechat/xml';
import { toInboundMessage } from '../../server/wechat/inbound';
import { javaSampleVector as J, pythonSampleVector as P } from '../fixtures/wechat-official-vectors';

describe('callback crypto: WeChat’s published known answers', () => {
  it('encrypts the Java sample exactly (fixed random, 32-byte PKCS#7)', () => {
    const c = new CallbackCrypto({ token: J.token, appid: J.appid, aesKey: J.encodingAesKey });
    expect(c.encrypt(J.message, 0, Buffer.from(J.random))).toBe(J.encrypted);
    expect(c.encrypt(J.message2, 0, Buffer.from(J.random))).toBe(J.encrypted2);
    expect(c.decrypt(J.encrypted)).toEqual({ message: J.message, keyIndex: 0 });
    expect(c.decrypt(J.encrypted2).message).toBe(J.message2);
  });

  it('verifies and decrypts the Python sample: msg_signature over the raw Encrypt, 64-bit MsgId kept', () => {
    const encrypted = rawElementText(P.body, 'Encrypt')!;
    expect(wechatSignature(P.token, P.timestamp, P.nonce, encrypted)).toBe(P.msgSignature);
    const c = new CallbackCrypto({ token: P.token, appid: P.appid, aesKey: P.encodingAesKey });
    const msg = toInboundMessage(parseWechatXml(c.decrypt(encrypted).message));
    expect(msg).toMatchObject({ kind: 'message', type: 'text', content: P.decryptedContent, msgId: P.msgId, openid: 'oyORnuP8q7ou2gfYjqLzSIWZf0rs' });
    expect(typeof msg.msgId).toBe('string');
  });

  it('refuses another appid, a tampered ciphertext and a bad key', () => {
    const other = new CallbackCrypto({ token: P.token, appid: 'wx0000000000000000', aesKey: P.encodingAesKey });
    expect(() => other.decrypt(rawElementText(P.body, 'Encrypt')!)).toThrow(expect.objectContaining({ reason: 'appid_mismatch' }));
    const c = new CallbackCrypto({ token: J.token, appid: J.appid, aesKey: J.encodingAesKey });
    const bytes = Buffer.from(J.encrypted, 'base64');
    bytes[bytes.length - 1] ^= 0x01;
    expect(() => c.decrypt(bytes.toString('base64'))).toThrow(CallbackCryptoError);
    expect(() => c.decrypt(Buffer.from('short').toString('base64'))).toThrow(expect.objectContaining({ reason: 'bad_ciphertext' }));
    expect(() => decodeAesKey('tooshort')).toThrow(CallbackCryptoError);
  });

  it('round-trips every length across the 32-byte block boundary', () => {
    const c = new CallbackCrypto({ token: 't', appid: 'wx1234567890abcdef', aesKey: J.encodingAesKey });
    for (let n = 0; n < 70; n++) {
      const m = 'x'.repeat(n);
      expect(c.decrypt(c.encrypt(m)).message).toBe(m);
      expect(Buffer.from(c.encrypt(m), 'base64').length % 32).toBe(0);
    }
  });

  it('decrypts with the previous key during rotation and says which key worked', () => {
    const previousKey = J.encodingAesKey;
    const currentKey = 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210abcdefg';
    const old = new CallbackCrypto({ token: 't', appid: J.appid, aesKey: previousKey });
    const rotating = new CallbackCrypto({ token: 't', appid: J.appid, aesKey: currentKey, aesKeyPrevious: previousKey });
    expect(rotating.decrypt(old.encrypt('hello'))).toEqual({ message: 'hello', keyIndex: 1 });
    expect(old.decrypt(rotating.encrypt('reply', 1)).message).toBe('reply');
    expect(rotating.decrypt(rotating.encrypt('now')).keyIndex).toBe(0);
  });
});

describe('WeChat XML', () => {
  it('keeps every value a string, nested records and repeated elements', () => {
    const doc = parseWechatXml(
      '<?xml version="1.0"?><xml><MsgId>4561255354251345929</MsgId><A><![CDATA[x]]]]><![CDATA[>y]]></A><B>&lt;&amp;&#x4e2d;</B>' +
        '<SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum>a</PicMd5Sum></item><item><PicMd5Sum>b</PicMd5Sum></item></PicList></SendPicsInfo></xml>',
    );
    expect(doc.MsgId).toBe('4561255354251345929');
    expect(doc.A).toBe('x]]>y');
    expect(doc.B).toBe('<&中');
    expect(doc.SendPicsInfo).toEqual({ Count: '2', PicList: { item: [{ PicMd5Sum: 'a' }, { PicMd5Sum: 'b' }] } });
    expect(parseWechatXml(buildXml({ C: 'a]]>b', N: 5 }))).toEqual({ C: 'a]]>b', N: '5' });
  });

  it.each([
    ['an entity bomb', '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><xml><a>&lol2;</a></xml>'],
    ['an external entity', '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><a>&xxe;</a></xml>'],
    ['an undeclared entity', '<xml><a>&xxe;</a></xml>'],
    ['a parameter entity inside', '<xml><!ENTITY x "y"><a>1</a></xml>'],
    ['mismatched tags', '<xml><a>1</b></xml>'],
    ['unterminated', '<xml><a>1</a>'],
    ['trailing content', '<xml></xml><xml></xml>'],
    ['another root', '<root><a>1</a></root>'],
    ['too deep', `<xml>${'<a>'.repeat(20)}x${'</a>'.repeat(20)}</xml>`],
  ])('refuses %s', (_name, xml) => {
    expect(() => parseWechatXml(xml)).toThrow(XmlError);
  });

  it('refuses documents over the size cap before reading them', () => {
    expect(() => parseWechatXml(`<xml><a>${'x'.repeat(70_000)}</a></xml>`)).toThrow(/exceeds/);
  });

  it('reads Encrypt from the raw bytes only when it is plain text', () => {
    expect(rawElementText('<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>', 'Encrypt')).toBe('abc');
    expect(rawElementText('<xml><Encrypt>abc</Encrypt></xml>', 'Encrypt')).toBe('abc');
    expect(rawElementText('<xml><Encrypt>&x;</Encrypt></xml>', 'Encrypt')).toBeUndefined();
    expect(rawElementText('<xml></xml>', 'Encrypt')).toBeUndefined();
  });
});
