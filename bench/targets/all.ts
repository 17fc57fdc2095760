// Every server the bench knows, in table order: ours, the bare app, the peers.
import { bareNodeTarget } from './bare.ts';
import { gunicornTarget } from './gunicorn.ts';
import { oursTarget, type OursEntry } from './ours.ts';
import { passengerTarget } from './passenger6.ts';
import { pumaTarget } from './puma.ts';
import { uvicornTarget } from './uvicorn.ts';
import { which } from './which.ts';
import type { Target } from './target.ts';

function needs(target: Target, command: string, why: string): Target {
  return { ...target, async unavailable() { return which(command) ? target.unavailable() : `${command} is not installed (${why})`; } };
}

export function oursTargets(entry: OursEntry, withMetrics = false): Target[] {
  const ours = (metrics: boolean) => [
    oursTarget('node', entry, metrics),
    needs(oursTarget('rack', entry, metrics), 'ruby', 'the Rack loader needs it'),
    needs(oursTarget('wsgi', entry, metrics), 'python3', 'the WSGI loader needs it'),
    needs(oursTarget('asgi', entry, metrics), 'python3', 'the ASGI loader needs it'),
    oursTarget('generic', entry, metrics),
  ];
  return [...ours(false), ...(withMetrics ? ours(true) : []), bareNodeTarget()];
}

export function peerTargets(): Target[] {
  return [passengerTarget('node'), passengerTarget('rack'), passengerTarget('wsgi'), pumaTarget(), gunicornTarget(), uvicornTarget()];
}
