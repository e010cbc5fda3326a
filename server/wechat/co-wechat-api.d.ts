/** The part of co-wechat-api Snowball uses (the package ships no types). */
declare module 'co-wechat-api' {
  interface RequestOptions {
    method?: string;
    data?: string | Buffer;
    headers?: Record<string, string>;
    dataType?: string;
    timeout?: number;
  }
  interface StoredToken {
    accessToken: string;
    expireTime: number;
  }
  class API {
    constructor(
      appid: string,
      appsecret: string,
      getToken?: () => Promise<StoredToken | null | undefined>,
      saveToken?: (token: StoredToken | null) => Promise<void>,
    );
    appid: string;
    appsecret: string;
    prefix: string;
    snsPrefix: string;
    mpPrefix: string;
    fileServerPrefix: string;
    payPrefix: string;
    merchantPrefix: string;
    customservicePrefix: string;
    wxaPrefix: string;
    setOpts(opts: RequestOptions): void;
    request(url: string, opts?: RequestOptions, retry?: number): Promise<unknown>;
    ensureAccessToken(): Promise<{ accessToken: string }>;
    getAccessToken(): Promise<{ accessToken: string }>;
    getUser(options: string | { openid: string; lang: string }): Promise<unknown>;
    getFollowers(nextOpenid?: string): Promise<unknown>;
    createTags(name: string): Promise<unknown>;
    getTags(): Promise<unknown>;
    batchTagging(openids: string[], tagId: number): Promise<unknown>;
    batchUnTagging(openids: string[], tagId: number): Promise<unknown>;
    getIdList(openid: string): Promise<unknown>;
    sendText(openid: string, text: string): Promise<unknown>;
    massSend(opts: object, receivers: string[] | number | boolean, clientMsgId?: string): Promise<unknown>;
    createMenu(menu: object): Promise<unknown>;
    showQRCodeURL(ticket: string): string;
    code2Session(code: string): Promise<unknown>;
    sendSubscribeMessage(openid: string, templateId: string, page: string | undefined, data: object): Promise<unknown>;
    getWXACodeUnlimit(scene: string, page?: string, width?: number): Promise<unknown>;
  }
  export = API;
}
