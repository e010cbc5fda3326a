import { load, ratio, report, startTarget } from './harness';

/** /healthz of the full app against a bare Fastify in the same run: the ceiling later benchmarks compare with. */
export async function healthzBench(): Promise<void> {
  const bare = await startTarget('bare-fastify.ts');
  const bareResult = await load({ name: 'bare fastify /healthz', url: `${bare.url}/healthz` });
  await bare.stop();
  const app = await startTarget('snowball.ts');
  const appResult = await load({ name: 'snowball /healthz', url: `${app.url}/healthz` });
  await app.stop();
  report('healthz', { results: [appResult, bareResult], ratioToBare: ratio(appResult.requestsPerSec, bareResult.requestsPerSec) });
}
