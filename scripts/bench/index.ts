import { callbackBench } from './callback.bench';
import { healthzBench } from './healthz.bench';
import { wxpayNotifyBench } from './wxpay-notify.bench';
import { taobaoImportBench } from './taobao-import.bench';
import { parcelScanBench } from './parcel-scan.bench';
import { checkInBench } from './check-in.bench';
import { importEmbeddedLatencyBench } from './import-embedded-latency.bench';
import { phoneBench } from './phone.bench';
import { giftBoxBench } from './gift-box.bench';

/** npm run bench [-- name ...]: runs the named benchmarks (all by default) and prints JSON figures. */
const benches: Record<string, () => Promise<void>> = {
  healthz: healthzBench,
  'wxpay-notify': wxpayNotifyBench,
  callback: callbackBench,
  import: taobaoImportBench,
  'parcel-scan': parcelScanBench,
  'check-in': checkInBench,
  'import-embedded-latency': importEmbeddedLatencyBench,
  phone: phoneBench,
  'gift-box': giftBoxBench,
};

async function main() {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const names = wanted.length ? wanted : Object.keys(benches);
  for (const name of names) {
    const bench = benches[name];
    if (!bench) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(benches).join(', ')}`);
    await bench();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  },
);
