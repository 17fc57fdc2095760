// The memory a server holds, split into its core, its app processes and the rest.
import { processTree, pssBytes } from '../proc/tree.ts';
import type { RunningServer } from '../targets/target.ts';
import type { RssFigures } from './figures.ts';

const MiB = 1024 * 1024;
const round = (n: number) => Math.round(n * 10) / 10;
const nullableMiB = (bytes: number | undefined) => (bytes === undefined ? null : round(bytes / MiB));

export function measureRss(server: RunningServer): RssFigures {
  const tree = processTree(server.roots());
  const roles = server.classify(tree);
  const others = roles.others.reduce((s, p) => s + p.rssBytes, 0);
  const total = tree.reduce((s, p) => s + p.rssBytes, 0);
  return {
    coreMiB: roles.core ? round(roles.core.rssBytes / MiB) : null,
    corePrivateMiB: roles.core ? round(roles.core.privateBytes / MiB) : null,
    corePssMiB: roles.core ? nullableMiB(pssBytes(roles.core.pid)) : null,
    appsMiB: roles.apps.map((p) => round(p.rssBytes / MiB)).sort((a, b) => b - a),
    othersMiB: round(others / MiB),
    totalMiB: round(total / MiB),
  };
}

export function appProcessCount(server: RunningServer): number {
  return server.classify(processTree(server.roots())).apps.length;
}
