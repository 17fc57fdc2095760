// Command-line options of `npm run bench`. Full mode: every server, 3
// interleaved repetitions of 5 s runs. Quick mode (--quick): our server and the
// bare app only, one repetition, for smoke tests (about 55 s on the 2-vCPU VM:
// each of the 6 servers starts, warms up for a second and takes 5 loads of
// 0.5 s). The warm-up stays a whole second: a 0.4 s one made the c=1 figures
// 2-3x lower. In 0.5 s runs the start of each run weighs twice as much, so
// quick p99 figures come out higher than a full run's.
export interface BenchSettings {
  quick: boolean;
  repetitions: number;
  /** Length of each load run. */
  durationSec: number;
  /** Load before measuring, so every app process is up and warm. */
  warmupSec: number;
  /** After the loads, before the second memory reading: our core collects its garbage once it saw no request for 1 s. */
  idleRssDelayMs: number;
  /** App processes per server. */
  processes: number;
  /** How long the busy request lasts in the spawn measurement; bounds what it can measure. */
  spawnProbeSleepMs: number;
  /** Only these target ids (empty: all that apply). */
  only: string[];
  /** Include the peers (Passenger 6, puma, gunicorn). */
  peers: boolean;
  /** Where the JSON goes (default bench/results/<timestamp>.json). */
  output: string | undefined;
  /** Also run each of our servers with the metrics listener on (targets ours-<app>-metrics), for the cost of metrics. */
  metrics: boolean;
  /** Also run the Node row over HTTPS, alone and with metrics and a JSON access log (ours-node-tls, ours-node-production). */
  tls: boolean;
}

const USAGE = `npm run bench -- [--quick] [--reps N] [--duration SEC] [--processes N] [--only id,id (targets, static, multihost)] [--no-peers] [--metrics] [--tls] [--output FILE]`;

export function parseSettings(argv: string[]): BenchSettings {
  const quick = argv.includes('--quick');
  const s: BenchSettings = {
    quick,
    repetitions: quick ? 1 : 3,
    durationSec: quick ? 0.5 : 5,
    warmupSec: quick ? 1 : 2,
    idleRssDelayMs: quick ? 1500 : 2000,
    processes: 2,
    spawnProbeSleepMs: quick ? 2500 : 5000,
    only: [],
    peers: !quick,
    output: undefined,
    metrics: false,
    tls: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const positive = (v: string) => {
      const n = Number(v);
      if (!(n > 0)) throw new Error(`${a} needs a positive number, got "${v}"\n${USAGE}`);
      return n;
    };
    switch (a) {
      case '--quick': break;
      case '--reps': s.repetitions = Math.round(positive(value())); break;
      case '--duration': s.durationSec = positive(value()); break;
      case '--processes': s.processes = Math.round(positive(value())); break;
      case '--only': s.only = value().split(',').filter(Boolean); break;
      case '--peers': s.peers = true; break;
      case '--no-peers': s.peers = false; break;
      case '--output': s.output = value(); break;
      case '--metrics': s.metrics = true; break;
      case '--tls': s.tls = true; break;
      case '--help': throw new Error(USAGE);
      default: throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  return s;
}
