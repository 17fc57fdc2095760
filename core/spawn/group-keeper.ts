// A command that speaks no loader protocol (a generic app: any program that
// listens on $PORT) does not watch its stdin, so nothing ends it when the core
// and the watchdog die together (both killed with SIGKILL): it would keep
// running under init, still listening. The keeper is a few lines of /bin/sh
// that lead the app's process group, run the command in it, and watch the pipe
// from the core on their stdin: when that pipe reaches EOF (the core is gone,
// however it died), they SIGKILL the whole group, the app's own children too.
//
// Why a pipe and not PR_SET_PDEATHSIG (setpriv --pdeathsig): the parent-death
// signal reaches only the direct child, not what the app forks (sh -c wrappers,
// uvicorn workers); it fires on the death of the parent *thread*; it is reset by
// a credential change; and a core that dies between fork and prctl leaves it
// unset. A pipe's EOF comes from the kernel whenever and however the last
// writer goes, with no race. Loaders and preloaders need no keeper: they
// already exit on EOF of the same pipe (docs/protocols.md section 1).
//
// The keeper ignores SIGTERM, SIGINT and SIGHUP, so the pool's SIGTERM to the
// group reaches the app while the watch stays on for the whole grace period;
// it exits with the app's status, and re-raises the signal that killed the app.
// Inline (sh -c), not a file: the user the app runs as needs to read nothing.

const KEEPER_SCRIPT = [
  'exec 3<&0 </dev/null',
  '"$@" 3<&- &',
  'app=$!',
  "trap '' TERM INT HUP",
  '{ read -r _ <&3; kill -KILL 0; } &',
  'watch=$!',
  'exec 3<&-',
  'wait "$app"; status=$?',
  'kill -KILL "$watch" 2>/dev/null',
  'if [ "$status" -gt 128 ]; then trap - TERM INT HUP; kill -s "$(kill -l "$status")" $$; fi',
  'exit "$status"',
].join('\n');

/** The process name the keeper shows in `ps`. */
export const KEEPER_NAME = 'passenger-group-keeper';

/** The program and arguments that run `command args` under a keeper. */
export function underKeeper(command: string, args: string[]): { command: string; args: string[] } {
  return { command: '/bin/sh', args: ['-c', KEEPER_SCRIPT, KEEPER_NAME, command, ...args] };
}
