// Every server the bench knows, in table order: ours, the bare app, the peers.
import { bareNodeTarget } from './bare.ts';
import { gunicornTarget } from './gunicorn.ts';
import { nginxPhpTarget } from './nginx-php.ts';
import { nginxProxyNodeTarget } from './nginx-proxy.ts';
import { oursTarget, type OursEntry } from './ours.ts';
import { passengerTarget } from './passenger6.ts';
import { pumaTarget } from './puma.ts';
import { oursTlsTargets } from './tls.ts';
import { uvicornTarget } from './uvicorn.ts';
import { which } from './which.ts';
import type { Target } from './target.ts';

function needs(target: Target, command: string, why: string): Target {
  return { ...target, async unavailable() { return which(command) ? target.unavailable() : `${command} is not installed (${why})`; } };
}

/** The Node row with connection_handoff on: app processes serve the client connections themselves. */
function oursNodeHandoffTarget(entry: OursEntry): Target {
  const t = oursTarget('node', entry, false, ['--connection-handoff']);
  return { ...t, id: 'ours-node-handoff', label: 'passenger-ts node (connection_handoff)', notes: `${t.notes}; connection_handoff on` };
}

/**
 * `withPhp`: the PHP row too (not in --quick, whose minute it would exceed, unless asked for by --only);
 * `withHandoff`: the ours-node-handoff row too (likewise);
 * `withTls`: the Node row over HTTPS, alone and with every production option on.
 */
export function oursTargets(entry: OursEntry, withMetrics = false, withPhp = true, withHandoff = true, withTls = false): Target[] {
  const ours = (metrics: boolean) => [
    oursTarget('node', entry, metrics),
    ...(withHandoff && !metrics ? [oursNodeHandoffTarget(entry)] : []),
    needs(oursTarget('rack', entry, metrics), 'ruby', 'the Rack loader needs it'),
    needs(oursTarget('wsgi', entry, metrics), 'python3', 'the WSGI loader needs it'),
    needs(oursTarget('asgi', entry, metrics), 'python3', 'the ASGI loader needs it'),
    oursTarget('generic', entry, metrics),
    ...(withPhp ? [needs(oursTarget('php', entry, metrics), 'php-fpm8.2', 'passenger-plugin-php runs it (examples/plugins/php/)')] : []),
  ];
  return [...ours(false), ...(withMetrics ? ours(true) : []), ...(withTls ? oursTlsTargets(entry) : []), bareNodeTarget()];
}

/** The peers built from what the tests install anyway (nginx, php-fpm): runnable in --quick when --only names them. */
export function localPeerTargets(): Target[] {
  return [nginxProxyNodeTarget(), nginxPhpTarget()];
}

/** The peers, in table order. */
export function peerTargets(): Target[] {
  return [passengerTarget('node'), nginxProxyNodeTarget(), passengerTarget('rack'), passengerTarget('wsgi'), pumaTarget(), gunicornTarget(), uvicornTarget(), nginxPhpTarget()];
}
